package ui

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payflow"
)

// amountInfo says where the amount on screen came from, when it was seen,
// and whether a payment used it already: a scan alone never charges an
// amount that is old or was charged (the next customer must not pay the
// previous customer's total).
type amountInfo struct {
	source    string // "manual", "serial", "ocr"; "" when none
	at        time.Time
	charged   bool
	chargedAt time.Time
}

// payState is what a pay window hands to the one that replaces it.
type payState struct {
	current      order.Order
	currentCode  string
	amountText   string
	amt          amountInfo
	unknownCodes map[string]string
	visible      bool
}

// PayWindow is the cashier's window: amount, code, outcome. It is keyboard
// driven: Enter on the amount moves to the code, Enter on the code charges,
// Esc cancels the order being waited on (or hides the window).
//
// One order at a time: while one is being sent, waited on or closed, both
// entries are locked and a scan is refused with a note (never appended to
// a field). An order whose outcome is unknown does not lock the window: it
// is shown with advice, its code stays refused, and the next sale can be
// taken.
type PayWindow struct {
	env *Env
	win fyne.Window

	amountBig   *canvasText
	sourceLabel *widget.Label
	amountEntry *keyEntry
	codeEntry   *keyEntry
	walletLabel *widget.Label
	statusBig   *canvasText
	detail      *widget.Label
	countdown   *widget.Label
	note        *widget.Label
	chargeBtn   *keyButton
	cancelBtn   *keyButton
	extra       *fyne.Container
	menu        *fyne.Container

	amt           amountInfo
	settingText   bool // the window itself is changing the amount field
	amountErr     bool // the status line shows an amount error
	starting      bool // Pay is running off the UI thread
	readingScreen bool // a scan waits for the fresh screen reading
	early         map[string]order.Order
	current       order.Order // the order shown; zero when none
	currentCode   string      // its code, in memory only, to refuse it again
	// unknownCodes: codes of orders this window saw end unknown, by code,
	// with the order number; refused until the order is settled.
	unknownCodes map[string]string
	typed        []rune // keys typed while the fields are locked
	// When each byte of the amount and code fields was typed: where a
	// scanner burst begins is the split with the longest pause before it.
	amountKeys, codeKeys keyTimes

	stopTick  func()
	stopClose func()
	againDlg  *question
	unsubs    []func()
	visible   bool
	closed    bool
}

// NewPayWindow builds the window (hidden) and subscribes to amounts, scans
// and orders for the life of the program. A window rebuilt while an order
// was open (a language switch) takes that order over.
func NewPayWindow(env *Env) *PayWindow {
	p := &PayWindow{env: env, unknownCodes: map[string]string{}}
	p.win = env.App.NewWindow(T("pay.title"))
	p.build()
	p.win.SetCloseIntercept(p.Hide)
	p.unsubs = append(p.unsubs,
		env.Ctrl.OnAmount(func(r AmountReading) { fyne.Do(func() { p.amountArrived(r) }) }),
		env.Ctrl.OnScan(func(code string) { fyne.Do(func() { p.scanArrived(code) }) }),
		env.Ctrl.OnOrder(func(o order.Order) { fyne.Do(func() { p.orderChanged(o) }) }),
	)
	env.handoff.payWin = p
	if h := env.handoff.pay; h != nil {
		env.handoff.pay = nil
		p.adopt(h)
	} else if r, ok := env.Ctrl.Amount(); ok {
		p.amountArrived(r)
	}
	return p
}

// adopt takes over the state of the window this one replaces, with the
// newest state of its order (updates may have come between the two).
func (p *PayWindow) adopt(h *payState) {
	p.setAmountText(h.amountText)
	p.amt = h.amt
	p.unknownCodes = h.unknownCodes
	p.currentCode = h.currentCode
	if h.current.OutTradeNo != "" {
		o := h.current
		for _, r := range p.env.Ctrl.Recent(50) {
			if r.OutTradeNo == o.OutTradeNo && !r.UpdatedAt.Before(o.UpdatedAt) {
				o = r
			}
		}
		p.current = o
		p.render()
	}
	p.showAmount()
	if h.visible {
		p.Show()
	}
}

func (p *PayWindow) build() {
	p.amountBig = newCanvasText(44, colorNeutral)
	p.sourceLabel = widget.NewLabel("")
	p.sourceLabel.Alignment = fyne.TextAlignCenter
	p.amountEntry = newKeyEntry()
	p.amountEntry.SetPlaceHolder(T("pay.amount_hint"))
	p.amountEntry.OnChanged = p.amountTyped
	p.amountEntry.OnSubmitted = func(string) { p.amountSubmitted() }
	p.amountEntry.onEsc = p.escape
	p.codeEntry = newKeyEntry()
	p.codeEntry.SetPlaceHolder(T("pay.code_hint"))
	p.codeEntry.OnChanged = p.codeChanged
	p.codeEntry.OnSubmitted = func(s string) { p.charge(s) }
	p.codeEntry.onEsc = p.escape
	p.walletLabel = widget.NewLabel("")
	p.statusBig = newCanvasText(30, colorNeutral)
	p.detail = widget.NewLabel("")
	p.detail.Alignment = fyne.TextAlignCenter
	p.detail.Wrapping = fyne.TextWrapWord
	p.countdown = widget.NewLabel("")
	p.countdown.Alignment = fyne.TextAlignCenter
	p.note = widget.NewLabel("")
	p.note.Alignment = fyne.TextAlignCenter
	p.note.Wrapping = fyne.TextWrapWord
	p.note.Importance = widget.WarningImportance
	p.note.Hide()
	p.chargeBtn = newKeyButton(T("pay.charge"), theme.ConfirmIcon(), func() { p.charge(p.codeEntry.Text) })
	p.chargeBtn.Importance = widget.HighImportance
	p.cancelBtn = newKeyButton(T("pay.cancel"), theme.CancelIcon(), p.cancelOrder)
	p.cancelBtn.Importance = widget.DangerImportance
	p.cancelBtn.Disable()
	p.extra = container.NewVBox()
	p.menu = container.NewHBox()

	// The wallet name sits in a slot as wide as the widest thing it can
	// say (in this language), so that the code field does not shrink when
	// a name or the "not a payment code" note appears.
	walletSlot := container.NewStack(fixedWidth(walletSlotWidth()), p.walletLabel)
	form := widget.NewForm(
		widget.NewFormItem(T("pay.amount"), p.amountEntry),
		widget.NewFormItem(T("pay.code"), container.NewBorder(nil, nil, nil, walletSlot, p.codeEntry)),
	)
	p.win.SetContent(container.NewVBox(
		p.amountBig.obj, p.sourceLabel, form,
		container.NewGridWithColumns(2, p.chargeBtn, p.cancelBtn),
		widget.NewSeparator(),
		container.NewStack(fixedHeight(150), container.NewVBox(p.statusBig.obj, p.countdown, p.detail, p.note)),
		p.menu, p.extra,
	))
	p.win.Resize(fyne.NewSize(460, 440))
	// Keys reach the canvas when nothing has the focus: while a dialog is
	// up (its overlay has a focus of its own) and while an order locks the
	// fields. A scanner burst typed then is caught here and refused.
	p.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		switch k.Name {
		case fyne.KeyEscape:
			p.escape()
		case fyne.KeyReturn, fyne.KeyEnter:
			typed := string(p.typed)
			p.typed = p.typed[:0]
			switch {
			case len(typed) >= 8 && (p.locked() || p.readingScreen):
				p.noteScanRefused()
			case len(typed) >= 16 && p.againDlg == nil:
				// A scan while no field had the focus: it goes to the code.
				if _, err := p.env.Ctrl.Wallet(typed); err == nil {
					p.scanArrived(typed)
				}
			}
		}
	})
	p.win.Canvas().SetOnTypedRune(func(r rune) {
		if len(p.typed) < 64 {
			p.typed = append(p.typed, r)
		}
	})
	p.showAmount()
}

// walletSlotWidth is the width of the widest label the wallet slot shows.
func walletSlotWidth() float32 {
	l := widget.NewLabel("")
	w := float32(0)
	for _, c := range order.Channels() {
		l.SetText(walletName(c))
		w = max(w, l.MinSize().Width)
	}
	l.SetText(T("pay.wallet.unknown"))
	return max(w, l.MinSize().Width)
}

// Window is the fyne window, for the app to place and for tests.
func (p *PayWindow) Window() fyne.Window { return p.win }

// SetExtra shows o under the outcome (the demo's sample codes).
func (p *PayWindow) SetExtra(o fyne.CanvasObject) {
	p.extra.Objects = []fyne.CanvasObject{widget.NewSeparator(), o}
	p.extra.Refresh()
}

// SetMenu adds a row of small buttons for the menu rows other than "pay"
// and "quit": the tray menu's windows stay reachable where the desktop has
// no tray (some Linux desktops), and the cashier reaches Recent orders from
// the pay window in one click.
func (p *PayWindow) SetMenu(rows []MenuAction) {
	p.menu.Objects = nil
	for _, r := range rows {
		if r.Quit || r.Key == "menu.pay" || r.Action == nil {
			continue
		}
		b := widget.NewButton(T(r.Key), r.Action)
		b.Importance = widget.LowImportance
		p.menu.Objects = append(p.menu.Objects, b)
	}
	p.menu.Refresh()
}

// Show brings the window up with the keyboard where the cashier needs it:
// on the code when an amount is ready, else on the amount.
func (p *PayWindow) Show() {
	p.win.Show()
	p.win.RequestFocus()
	keepOnTop(p.win)
	p.visible = true
	if !p.locked() {
		p.env.Go(p.env.Ctrl.CaptureNow)
	}
	if p.stopTick == nil {
		p.stopTick = p.env.Every(time.Second, p.tick)
	}
	p.focusInput()
}

func (p *PayWindow) focusInput() {
	if p.locked() {
		p.win.Canvas().Unfocus()
		return
	}
	if _, err := p.parseAmount(); err == nil {
		p.win.Canvas().Focus(p.codeEntry)
	} else {
		p.win.Canvas().Focus(p.amountEntry)
	}
}

// Hide hides the window; the order being followed goes on in the background.
func (p *PayWindow) Hide() {
	p.visible = false
	p.stopTimers()
	p.win.Hide()
}

// Visible reports whether the window is shown.
func (p *PayWindow) Visible() bool { return p.visible }

// Close ends the window for good (a language switch rebuilds it): its
// subscriptions stop, so a later scan cannot reach a closed window, and
// its order, amount and refused codes pass to the next pay window built
// on the same Env.
func (p *PayWindow) Close() {
	for _, u := range p.unsubs {
		u()
	}
	p.unsubs = nil
	p.closed = true
	p.env.handoff.pay = &payState{current: p.current, currentCode: p.currentCode, amountText: p.amountEntry.Text,
		amt: p.amt, unknownCodes: p.unknownCodes, visible: p.visible}
	p.visible = false
	p.stopTimers()
	p.win.Close()
}

func (p *PayWindow) stopTimers() {
	// A question left open when the window goes is answered No (nothing
	// charged), and its clock stops with it.
	if p.againDlg != nil {
		p.againDlg.Hide()
	}
	if p.stopTick != nil {
		p.stopTick()
		p.stopTick = nil
	}
	if p.stopClose != nil {
		p.stopClose()
		p.stopClose = nil
	}
}

func (p *PayWindow) parseAmount() (money.Fen, error) {
	return money.Parse(money.Normalize(p.amountEntry.Text))
}

func (p *PayWindow) setAmountText(s string) {
	p.settingText = true
	p.amountEntry.SetText(s)
	p.settingText = false
}

// amountArrived takes a new captured amount unless an order is in flight
// (the amount on screen must stay the one being charged).
func (p *PayWindow) amountArrived(r AmountReading) {
	if p.locked() || p.readingScreen {
		return
	}
	p.setAmountText(r.Amount.String())
	p.amt = amountInfo{source: r.Source, at: r.At}
	p.clearAmountError()
	p.showAmount()
}

// amountTyped: the cashier typed; the amount is theirs, as of now.
func (p *PayWindow) amountTyped(text string) {
	if p.settingText {
		p.amountKeys.reset(text)
		return
	}
	now := p.env.Now()
	p.amountKeys.typed(text, now)
	p.amt = amountInfo{source: "manual", at: now}
	if _, err := p.parseAmount(); err == nil {
		p.clearAmountError()
	}
	p.showAmount()
}

// clearAmountError removes an amount error the amount no longer has.
func (p *PayWindow) clearAmountError() {
	if p.amountErr {
		p.amountErr = false
		p.statusBig.set("", colorNeutral)
		p.detail.SetText("")
	}
}

func (p *PayWindow) showAmount() {
	f, err := p.parseAmount()
	if err != nil {
		p.amountBig.set("¥ —", colorNeutral)
	} else {
		p.amountBig.set("¥ "+f.Grouped(), colorAmount)
	}
	line := ""
	switch {
	case err != nil || p.amt.source == "":
	case p.amt.charged:
		line = Tf("pay.source.charged", ageText(p.env.Now().Sub(p.amt.chargedAt)))
	default:
		line = Tf("pay.source", sourceName(p.amt.source), ageText(p.env.Now().Sub(p.amt.at)))
	}
	if line != p.sourceLabel.Text {
		p.sourceLabel.SetText(line)
	}
}

func sourceName(s string) string { return T("pay.source." + s) }

// ageText is coarse on purpose (10 s steps): the line then changes at most
// every ten seconds, so an idle pay window is not redrawn every second.
func ageText(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return T("pay.age.now")
	case d < time.Minute:
		return Tf("pay.age.seconds", int(d/(10*time.Second))*10)
	default:
		return Tf("pay.age.minutes", int(d/time.Minute))
	}
}

// keyTimes remembers when each byte of a field's text was typed. Typing
// at the end appends; any other edit forgets the times (a zero time reads
// as a long pause, which is what a paste or a correction is).
type keyTimes struct {
	text string
	at   []time.Time
}

func (k *keyTimes) reset(text string) {
	k.text, k.at = text, make([]time.Time, len(text))
}

func (k *keyTimes) typed(text string, now time.Time) {
	if len(text) > len(k.text) && text[:len(k.text)] == k.text {
		for i := len(k.text); i < len(text); i++ {
			k.at = append(k.at, now)
		}
		k.text = text
		return
	}
	k.reset(text)
}

// pauseBefore is how long the typist paused before byte i.
func (k *keyTimes) pauseBefore(text string, i int) time.Duration {
	if text != k.text || i <= 0 || i >= len(k.at) || k.at[i-1].IsZero() || k.at[i].IsZero() {
		return time.Hour
	}
	return k.at[i].Sub(k.at[i-1])
}

// splitBurst finds a scanner burst at the end of text: a payment code
// (16 to 24 digits) after an amount (at most 7 integer digits, or nothing
// when rest may be empty). Of the splits that leave a code and a valid
// rest, the one with the longest pause before it wins: the person typed the
// amount, stopped, and the scanner typed its code in one run.
func splitBurst(text string, pause func(i int) time.Duration, isCode func(string) bool, restOK func(string) bool) (rest, code string, ok bool) {
	i := len(text)
	for i > 0 && text[i-1] >= '0' && text[i-1] <= '9' {
		i--
	}
	best, bestPause := -1, time.Duration(-1)
	for n := 16; n <= min(24, len(text)-i); n++ {
		at := len(text) - n
		if !isCode(text[at:]) || !restOK(text[:at]) {
			continue
		}
		if d := pause(at); d > bestPause {
			best, bestPause = at, d
		}
	}
	if best < 0 {
		return text, "", false
	}
	return text[:best], text[best:], true
}

func (p *PayWindow) amountSubmitted() {
	isCode := func(c string) bool { _, err := p.env.Ctrl.Wallet(c); return err == nil }
	text := p.amountEntry.Text
	pause := func(i int) time.Duration { return p.amountKeys.pauseBefore(text, i) }
	isAmount := func(a string) bool { _, err := money.Parse(money.Normalize(a)); return err == nil }
	if amount, code, ok := splitBurst(text, pause, isCode, isAmount); ok {
		// The scan went to the amount field: put the amount back as it was
		// and give the code to the code field.
		p.setAmountText(amount)
		p.showAmount()
		p.codeEntry.SetText(code)
		p.win.Canvas().Focus(p.codeEntry)
		p.charge(code)
		return
	}
	f, err := p.parseAmount()
	if err != nil {
		p.showAmountError(err)
		return
	}
	p.env.Ctrl.SetManualAmount(f)
	p.setAmountText(f.String())
	p.amt = amountInfo{source: "manual", at: p.env.Now()}
	p.showAmount()
	p.win.Canvas().Focus(p.codeEntry)
}

func (p *PayWindow) showAmountError(err error) {
	p.showError(T("pay.no_amount"), errorMessage(err))
	p.amountErr = true
}

func (p *PayWindow) codeChanged(code string) {
	p.codeKeys.typed(code, p.env.Now())
	if c := p.lastCode(code); c != code {
		code = c
	}
	if len(code) < 16 {
		p.walletLabel.SetText("")
		return
	}
	if ch, err := p.env.Ctrl.Wallet(code); err == nil {
		p.walletLabel.SetText(walletName(ch))
	} else {
		p.walletLabel.SetText(T("pay.wallet.unknown"))
	}
}

// lastCode is the code to charge from what the code field holds: the
// whole text, or, when two codes ran together (a scan typed after a code
// left in the field), the newest one, which began with the last fast run
// of keys.
func (p *PayWindow) lastCode(text string) string {
	if len(text) <= 24 {
		return text
	}
	isCode := func(c string) bool { _, err := p.env.Ctrl.Wallet(c); return err == nil }
	pause := func(i int) time.Duration { return p.codeKeys.pauseBefore(text, i) }
	anything := func(string) bool { return true }
	if _, code, ok := splitBurst(text, pause, isCode, anything); ok {
		return code
	}
	return text
}

// scanArrived is a code from the scan box: it charges without any click.
func (p *PayWindow) scanArrived(code string) {
	if p.locked() || p.readingScreen {
		p.noteScanRefused()
		return
	}
	if !p.visible {
		p.Show()
	}
	p.codeEntry.SetText(code)
	// Keep the keyboard on the code (a tapped button would otherwise hold
	// it), so Esc answers the dialog or cancels the order.
	p.win.Canvas().Focus(p.codeEntry)
	p.charge(code)
}

// noteScanRefused says why a scan during a payment did nothing.
func (p *PayWindow) noteScanRefused() {
	p.setNote(T("pay.scan_refused"))
}

// setNote shows a one-line note under the outcome; an empty note takes no
// room, so the rows under the status area keep their place.
func (p *PayWindow) setNote(s string) {
	if s == p.note.Text {
		return
	}
	p.note.SetText(s)
	if s == "" {
		p.note.Hide()
	} else {
		p.note.Show()
	}
}

// busy: an order is being started or followed (sent, waited on, closed).
// An unknown order is not followed here: the resolver has it.
func (p *PayWindow) busy() bool {
	if p.starting {
		return true
	}
	switch p.current.State {
	case order.StatePending, order.StateWaiting, order.StateClosing:
		return p.current.OutTradeNo != ""
	}
	return false
}

// locked: the fields take no input (an order in flight).
func (p *PayWindow) locked() bool { return p.busy() }

// charge starts a payment of the amount on screen with code.
func (p *PayWindow) charge(code string) {
	if p.locked() || p.readingScreen {
		p.noteScanRefused()
		return
	}
	if p.againDlg != nil {
		return
	}
	code = p.lastCode(strings.TrimSpace(code))
	p.setNote("")
	if p.needsScreenRead() {
		p.readScreenThen(code)
		return
	}
	p.checkAndStart(code)
}

// needsScreenRead: with OCR as the source a scan charges what the POS
// screen shows now, unless the cashier typed the amount for this sale.
func (p *PayWindow) needsScreenRead() bool {
	if p.env.Ctrl.Settings().AmountSource != "ocr" {
		return false
	}
	return !(p.amt.source == "manual" && !p.amt.charged && p.fresh())
}

func (p *PayWindow) fresh() bool {
	maxAge := p.env.Ctrl.Settings().MaxAmountAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAmountAge
	}
	return p.env.Now().Sub(p.amt.at) <= maxAge
}

// readScreenThen waits for a fresh screen reading and charges it; a failed
// read charges nothing.
func (p *PayWindow) readScreenThen(code string) {
	p.readingScreen = true
	p.chargeBtn.Disable()
	p.statusBig.set(T("pay.reading_screen"), colorWaiting)
	p.countdown.SetText("")
	p.detail.SetText("")
	p.env.Go(func() {
		r, err := p.env.Ctrl.ReadAmountNow()
		fyne.Do(func() {
			p.readingScreen = false
			p.chargeBtn.Enable()
			if err != nil {
				p.showError(T("pay.read_failed"), errorMessage(err))
				p.codeEntry.SetText("")
				p.win.Canvas().Focus(p.amountEntry)
				return
			}
			p.setAmountText(r.Amount.String())
			p.amt = amountInfo{source: r.Source, at: r.At}
			p.showAmount()
			p.checkAndStart(code)
		})
	})
}

func (p *PayWindow) maxPayment() money.Fen {
	if m := p.env.Ctrl.Settings().MaxPayment; m > 0 {
		return m
	}
	return DefaultMaxPayment
}

// checkAndStart refuses what must not be charged, asks about what must not
// be charged without a word (an amount already charged, an old amount, a
// large amount), then starts.
func (p *PayWindow) checkAndStart(code string) {
	amount, err := p.parseAmount()
	if err != nil {
		p.showAmountError(err)
		p.codeEntry.SetText("") // the customer shows the code again
		p.win.Canvas().Focus(p.amountEntry)
		return
	}
	if _, err := p.env.Ctrl.Wallet(code); err != nil {
		p.showError(T("pay.wallet.unknown"), errorMessage(err))
		p.codeEntry.SetText("")
		p.win.Canvas().Focus(p.codeEntry)
		return
	}
	if no := p.unknownCodes[code]; no != "" {
		p.showError(T("pay.code_unresolved"), errorMessage(payflow.ErrCodeUnresolved))
		p.codeEntry.SetText("")
		return
	}
	if limit := p.maxPayment(); amount > limit {
		p.showError(T("pay.over_limit"), Tf("pay.over_limit.detail", limit.Grouped()))
		p.amountErr = true
		p.codeEntry.SetText("")
		p.win.Canvas().Focus(p.amountEntry)
		return
	}
	var asks []func(next func())
	switch {
	case p.amt.charged:
		asks = append(asks, func(next func()) {
			p.ask(T("pay.again.title"), func() string {
				return Tf("pay.again.body", amount.Grouped(), ageText(p.env.Now().Sub(p.amt.chargedAt)))
			}, nil, T("pay.again.yes"), next)
		})
	case !p.fresh():
		asks = append(asks, func(next func()) {
			p.ask(T("pay.stale.title"), func() string {
				return Tf("pay.stale.body", amount.Grouped(), ageText(p.env.Now().Sub(p.amt.at)))
			}, nil, T("pay.stale.yes"), next)
		})
	}
	if above := p.env.Ctrl.Settings().ConfirmAbove; above > 0 && amount >= above {
		asks = append(asks, func(next func()) {
			big := newCanvasText(40, colorAmount)
			big.set("¥ "+amount.Grouped(), colorAmount)
			p.ask(T("pay.large.title"), func() string { return T("pay.large.body") }, big.obj, T("pay.large.yes"), next)
		})
	}
	p.askChain(asks, func() { p.start(amount, code) })
}

func (p *PayWindow) askChain(asks []func(func()), done func()) {
	if len(asks) == 0 {
		done()
		return
	}
	asks[0](func() { p.askChain(asks[1:], done) })
}

// ask shows a question whose default is No: the highlighted No button has
// the keyboard focus, so Enter, Space and Esc answer it without charging
// and a double scan costs nothing. body is re-read every second, so
// "N s ago" moves.
func (p *PayWindow) ask(title string, body func() string, extra fyne.CanvasObject, yes string, onYes func()) {
	p.againDlg = askQuestion(p.env, p.win, title, body, extra, yes, T("pay.again.no"), func(ok bool) {
		p.againDlg = nil
		if ok {
			onYes()
		} else {
			p.codeEntry.SetText("")
			p.win.Canvas().Focus(p.codeEntry)
		}
	})
}

// start hands the charge to the controller off the UI thread: Pay fsyncs
// the journal before returning, and a slow disk must not freeze the window.
func (p *PayWindow) start(amount money.Fen, code string) {
	p.cancelAutoClose()
	p.starting = true
	p.currentCode = code
	p.lockFields(true)
	p.chargeBtn.Disable()
	p.statusBig.set(T("pay.sending"), colorWaiting)
	p.countdown.SetText("")
	p.detail.SetText("")
	p.setNote("")
	p.env.Go(func() {
		o, err := p.env.Ctrl.Pay(amount, code)
		fyne.Do(func() { p.started(o, err) })
	})
}

func (p *PayWindow) lockFields(lock bool) {
	if lock {
		p.amountEntry.Disable()
		p.codeEntry.Disable()
		p.win.Canvas().Unfocus()
		return
	}
	p.amountEntry.Enable()
	p.codeEntry.Enable()
	p.typed = p.typed[:0]
}

// started shows Pay's answer (on the UI thread).
func (p *PayWindow) started(o order.Order, err error) {
	p.starting = false
	if p.closed {
		// Rebuilt while Pay ran: the window in use shows the order.
		if n := p.env.handoff.payWin; n != nil && n != p && err == nil {
			n.takeOver(o, p.currentCode)
		}
		return
	}
	early := p.early
	p.early = nil
	if err != nil {
		p.lockFields(false)
		p.chargeBtn.Enable()
		p.showError(T("pay.failed"), errorMessage(err))
		p.codeEntry.SetText("")
		p.focusInput()
		return
	}
	// The runner may have moved on (waiting) before Pay's answer reached
	// this thread: show the newest state.
	if e, ok := early[o.OutTradeNo]; ok && !e.UpdatedAt.Before(o.UpdatedAt) {
		o = e
	}
	p.current = o
	p.render()
}

// takeOver shows an order a closed window started (see started).
func (p *PayWindow) takeOver(o order.Order, code string) {
	if p.busy() {
		return
	}
	for _, r := range p.env.Ctrl.Recent(50) {
		if r.OutTradeNo == o.OutTradeNo && !r.UpdatedAt.Before(o.UpdatedAt) {
			o = r
		}
	}
	p.current, p.currentCode = o, code
	p.render()
}

// orderChanged shows o if it is the order this window started. Updates of
// other orders are shown only when one this window saw end unknown is
// settled (a note); background resolves and the CLI's orders are not.
func (p *PayWindow) orderChanged(o order.Order) {
	if p.starting {
		if p.early == nil {
			p.early = map[string]order.Order{}
		}
		p.early[o.OutTradeNo] = o
		return
	}
	if o.State.Terminal() {
		for code, no := range p.unknownCodes {
			if no == o.OutTradeNo {
				delete(p.unknownCodes, code)
				if o.OutTradeNo != p.current.OutTradeNo {
					p.setNote(Tf("pay.settled", o.OutTradeNo, outcomeName(o)))
				}
			}
		}
	}
	if p.current.OutTradeNo == "" || o.OutTradeNo != p.current.OutTradeNo {
		return
	}
	if p.current.State.Terminal() && !o.State.Terminal() {
		return // a stale update arriving after the final one
	}
	p.current = o
	p.render()
}

// outcomeName is the one word for how an order ended: closed when the
// payer did not confirm in time, cancelled by the cashier, reversed after
// payment.
func outcomeName(o order.Order) string {
	switch o.State {
	case order.StateClosed:
		if o.Cancelled {
			return T("pay.cancelled")
		}
		if o.ErrCode == payflow.CodeNotReceived {
			return T("pay.closed_not_received")
		}
		return T("pay.closed")
	case order.StateClosing:
		if o.Cancelled {
			return T("pay.cancelling")
		}
		return T("pay.closing")
	case order.StatePaid:
		return T("pay.paid")
	case order.StateFailed:
		return T("pay.failed")
	case order.StateRevoked:
		return T("pay.revoked")
	case order.StateUnknown:
		return T("pay.unknown")
	case order.StateWaiting:
		return T("pay.waiting")
	}
	return T("pay.sending")
}

func (p *PayWindow) render() {
	o := p.current
	p.detail.SetText(Tf("pay.order_no", o.OutTradeNo))
	p.countdown.SetText("")
	p.statusBig.set(outcomeName(o), stateColor(o.State.String()))
	switch o.State {
	case order.StatePending:
		if o.ErrCode == payflow.CodeComm {
			// The connection failed at once: say so, not "sending".
			p.statusBig.set(T("pay.bank_unreachable"), colorAttention)
		}
		p.updateCountdown()
	case order.StateWaiting:
		p.updateCountdown()
	case order.StateUnknown:
		p.countdown.SetText(T("pay.unknown_hint"))
		if p.currentCode != "" {
			p.unknownCodes[p.currentCode] = o.OutTradeNo
		}
		// The money may have been taken: the same amount asks first.
		p.markCharged(o)
	case order.StatePaid:
		p.statusBig.set(T("pay.paid")+"  ¥"+o.AmountFen.Grouped(), colorPaid)
		p.markCharged(o)
		p.startAutoClose()
	}
	if m := orderMessage(o); m != "" && o.State != order.StatePending && o.State != order.StateWaiting {
		p.detail.SetText(Tf("pay.order_no", o.OutTradeNo) + "\n" + m)
	}
	busy := p.busy()
	cancellable := busy && o.State != order.StateClosing
	if cancellable {
		p.cancelBtn.Enable()
	} else {
		p.cancelBtn.Disable()
	}
	if busy {
		p.chargeBtn.Disable()
		p.lockFields(true)
	} else {
		p.chargeBtn.Enable()
		p.lockFields(false)
		// "That scan was not used" was about the payment that has just
		// ended: the next scan is taken, so the note would now be wrong.
		if p.note.Text == T("pay.scan_refused") {
			p.setNote("")
		}
		p.codeEntry.SetText("")
		p.walletLabel.SetText("")
		if o.State.Terminal() {
			p.currentCode = ""
		}
		if p.visible {
			p.focusInput()
		}
	}
}

// markCharged records that the amount on screen was used by o.
func (p *PayWindow) markCharged(o order.Order) {
	if f, err := p.parseAmount(); err == nil && f == o.AmountFen && !p.amt.charged {
		p.amt.charged, p.amt.chargedAt = true, p.env.Now()
		p.showAmount()
	}
}

func (p *PayWindow) updateCountdown() {
	o := p.current
	if (o.State != order.StateWaiting && o.State != order.StatePending) || o.Deadline.IsZero() {
		return
	}
	left := max(o.Deadline.Sub(p.env.Now()), 0)
	if t := Tf("pay.countdown", int((left+time.Second-1)/time.Second)); t != p.countdown.Text {
		p.countdown.SetText(t)
	}
}

// tick runs every second while the window is visible: the countdown and
// the amount's age (an open question ticks its own "N s ago"). Nothing else
// wakes the UI.
func (p *PayWindow) tick() {
	p.updateCountdown()
	if !p.busy() {
		p.showAmount()
	}
}

func (p *PayWindow) cancelOrder() {
	if !p.busy() || p.starting {
		return
	}
	if p.env.Ctrl.Cancel(p.current.OutTradeNo) {
		p.cancelBtn.Disable()
		p.statusBig.set(T("pay.cancelling"), colorAttention)
	}
}

func (p *PayWindow) escape() {
	if d := p.againDlg; d != nil {
		d.Hide()
		return
	}
	if p.busy() {
		p.cancelOrder()
		return
	}
	p.Hide()
}

func (p *PayWindow) startAutoClose() {
	secs := p.env.Ctrl.Settings().AutoCloseSec
	if secs <= 0 || !p.visible {
		return
	}
	p.cancelAutoClose()
	left := secs
	p.countdown.SetText(Tf("pay.autoclose", left))
	p.stopClose = p.env.Every(time.Second, func() {
		left--
		if left <= 0 {
			p.Hide()
			return
		}
		p.countdown.SetText(Tf("pay.autoclose", left))
	})
}

func (p *PayWindow) cancelAutoClose() {
	if p.stopClose != nil {
		p.stopClose()
		p.stopClose = nil
	}
}

func (p *PayWindow) showError(title, detail string) {
	p.amountErr = false
	p.statusBig.set(title, colorFailed)
	p.countdown.SetText("")
	p.detail.SetText(oneSentence(detail))
}

// oneSentence keeps an error to its first line.
func oneSentence(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
