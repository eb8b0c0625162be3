package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// againWindow is how long after a success the same amount asks "charge
// again?" first: a cashier who scans twice for one sale must be stopped.
const againWindow = 60 * time.Second

// PayWindow is the cashier's window: amount, code, outcome. It is keyboard
// driven: Enter on the amount moves to the code, Enter on the code charges,
// Esc cancels the order being waited on (or hides the window).
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
	chargeBtn   *widget.Button
	cancelBtn   *widget.Button
	extra       *fyne.Container
	menu        *fyne.Container

	reading    AmountReading
	hasReading bool
	starting   bool                   // Pay is running off the UI thread
	early      map[string]order.Order // updates that beat Pay's answer
	current    order.Order            // the order shown; zero when none
	lastPaid   struct {
		amount money.Fen
		at     time.Time
	}
	stopTick  func()
	stopClose func()
	againDlg  *dialog.ConfirmDialog
	unsubs    []func()
	visible   bool
}

// NewPayWindow builds the window (hidden) and subscribes to amounts, scans
// and orders for the life of the program.
func NewPayWindow(env *Env) *PayWindow {
	p := &PayWindow{env: env}
	p.win = env.App.NewWindow(T("pay.title"))
	p.build()
	p.win.SetCloseIntercept(p.Hide)
	p.unsubs = append(p.unsubs,
		env.Ctrl.OnAmount(func(r AmountReading) { fyne.Do(func() { p.amountArrived(r) }) }),
		env.Ctrl.OnScan(func(code string) { fyne.Do(func() { p.scanArrived(code) }) }),
		env.Ctrl.OnOrder(func(o order.Order) { fyne.Do(func() { p.orderChanged(o) }) }),
	)
	if r, ok := env.Ctrl.Amount(); ok {
		p.amountArrived(r)
	}
	return p
}

func (p *PayWindow) build() {
	p.amountBig = newCanvasText(44, colorNeutral)
	p.sourceLabel = widget.NewLabel("")
	p.sourceLabel.Alignment = fyne.TextAlignCenter
	p.amountEntry = newKeyEntry()
	p.amountEntry.SetPlaceHolder(T("pay.amount_hint"))
	p.amountEntry.OnChanged = func(string) { p.showAmount() }
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
	p.chargeBtn = widget.NewButtonWithIcon(T("pay.charge"), theme.ConfirmIcon(), func() { p.charge(p.codeEntry.Text) })
	p.chargeBtn.Importance = widget.HighImportance
	p.cancelBtn = widget.NewButtonWithIcon(T("pay.cancel"), theme.CancelIcon(), p.cancelOrder)
	p.cancelBtn.Importance = widget.DangerImportance
	p.cancelBtn.Disable()
	p.extra = container.NewVBox()
	p.menu = container.NewHBox()

	form := widget.NewForm(
		widget.NewFormItem(T("pay.amount"), p.amountEntry),
		widget.NewFormItem(T("pay.code"), container.NewBorder(nil, nil, nil, p.walletLabel, p.codeEntry)),
	)
	p.win.SetContent(container.NewVBox(
		p.amountBig.obj, p.sourceLabel, form,
		container.NewGridWithColumns(2, p.chargeBtn, p.cancelBtn),
		widget.NewSeparator(),
		container.NewStack(fixedHeight(150), container.NewVBox(p.statusBig.obj, p.countdown, p.detail)),
		p.menu, p.extra,
	))
	p.win.Resize(fyne.NewSize(460, 440))
	// Keys reach the canvas when nothing has the focus, which is the case
	// while a dialog is up (its overlay has a focus of its own).
	p.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			p.escape()
		}
	})
	p.showAmount()
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
	if !p.busy() {
		p.env.Go(p.env.Ctrl.CaptureNow)
	}
	if p.stopTick == nil {
		p.stopTick = p.env.Every(time.Second, p.tick)
	}
	p.focusInput()
}

func (p *PayWindow) focusInput() {
	if _, err := money.Parse(p.amountEntry.Text); err == nil {
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
// subscriptions stop, so a later scan cannot reach a closed window.
func (p *PayWindow) Close() {
	for _, u := range p.unsubs {
		u()
	}
	p.unsubs = nil
	p.visible = false
	p.stopTimers()
	p.win.Close()
}

func (p *PayWindow) stopTimers() {
	if p.stopTick != nil {
		p.stopTick()
		p.stopTick = nil
	}
	if p.stopClose != nil {
		p.stopClose()
		p.stopClose = nil
	}
}

// amountArrived takes a new captured amount unless an order is in flight
// (the amount on screen must stay the one being charged).
func (p *PayWindow) amountArrived(r AmountReading) {
	if p.busy() {
		return
	}
	p.reading, p.hasReading = r, true
	p.amountEntry.SetText(r.Amount.String())
	p.showAmount()
}

func (p *PayWindow) showAmount() {
	f, err := money.Parse(p.amountEntry.Text)
	if err != nil {
		p.amountBig.set("¥ —", colorNeutral)
	} else {
		p.amountBig.set("¥ "+f.Grouped(), colorPaid)
	}
	line := ""
	if p.hasReading && err == nil && f == p.reading.Amount {
		line = Tf("pay.source", sourceName(p.reading.Source), ageText(p.env.Now().Sub(p.reading.At)))
	} else if err == nil {
		line = Tf("pay.source", sourceName("manual"), T("pay.age.now"))
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

func (p *PayWindow) amountSubmitted() {
	f, err := money.Parse(p.amountEntry.Text)
	if err != nil {
		p.showError(T("pay.no_amount"), err.Error())
		return
	}
	p.env.Ctrl.SetManualAmount(f)
	p.reading = AmountReading{Amount: f, Source: "manual", At: p.env.Now()}
	p.hasReading = true
	p.showAmount()
	p.win.Canvas().Focus(p.codeEntry)
}

func (p *PayWindow) codeChanged(code string) {
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

// scanArrived is a code from the scan box: it charges without any click.
func (p *PayWindow) scanArrived(code string) {
	if p.busy() {
		return // one order at a time; the scan is not lost money
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

// busy: an order is being started or followed; one at a time.
func (p *PayWindow) busy() bool {
	return p.starting || p.current.OutTradeNo != "" && !p.current.State.Terminal()
}

// charge starts a payment of the amount on screen with code.
func (p *PayWindow) charge(code string) {
	if p.busy() {
		return
	}
	amount, err := money.Parse(p.amountEntry.Text)
	if err != nil {
		p.showError(T("pay.no_amount"), err.Error())
		p.win.Canvas().Focus(p.amountEntry)
		return
	}
	if _, err := p.env.Ctrl.Wallet(code); err != nil {
		p.showError(T("pay.wallet.unknown"), errorMessage(err))
		p.codeEntry.SetText("")
		p.win.Canvas().Focus(p.codeEntry)
		return
	}
	since := p.env.Now().Sub(p.lastPaid.at)
	if p.lastPaid.amount == amount && since < againWindow {
		// No is the default: Esc answers it, so a double scan costs nothing.
		p.againDlg = dialog.NewConfirm(T("pay.again.title"), Tf("pay.again.body", amount.Grouped(), int(since/time.Second)),
			func(yes bool) {
				p.againDlg = nil
				if yes {
					p.start(amount, code)
				} else {
					p.codeEntry.SetText("")
				}
			}, p.win)
		p.againDlg.SetDismissText(T("cancel"))
		p.againDlg.SetConfirmText(T("pay.again.yes"))
		p.againDlg.Show()
		return
	}
	p.start(amount, code)
}

// start hands the charge to the controller off the UI thread: Pay fsyncs
// the journal before returning, and a slow disk must not freeze the window.
func (p *PayWindow) start(amount money.Fen, code string) {
	p.cancelAutoClose()
	p.starting = true
	p.chargeBtn.Disable()
	p.statusBig.set(T("pay.sending"), colorWaiting)
	p.countdown.SetText("")
	p.detail.SetText("")
	p.env.Go(func() {
		o, err := p.env.Ctrl.Pay(amount, code)
		fyne.Do(func() { p.started(o, err) })
	})
}

// started shows Pay's answer (on the UI thread).
func (p *PayWindow) started(o order.Order, err error) {
	p.starting = false
	early := p.early
	p.early = nil
	if err != nil {
		p.chargeBtn.Enable()
		p.showError(T("pay.failed"), errorMessage(err))
		p.codeEntry.SetText("")
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

// orderChanged shows o if it is the order this window started. Updates
// of other orders (background resolves, the headless CLI) are not shown.
func (p *PayWindow) orderChanged(o order.Order) {
	if p.starting {
		if p.early == nil {
			p.early = map[string]order.Order{}
		}
		p.early[o.OutTradeNo] = o
		return
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

func (p *PayWindow) render() {
	o := p.current
	p.detail.SetText(Tf("pay.order_no", o.OutTradeNo))
	p.countdown.SetText("")
	cancellable := false
	switch o.State {
	case order.StatePending:
		p.statusBig.set(T("pay.sending"), colorWaiting)
		cancellable = true
	case order.StateWaiting:
		p.statusBig.set(T("pay.waiting"), colorWaiting)
		p.updateCountdown()
		cancellable = true
	case order.StateClosing:
		p.statusBig.set(T("pay.closing"), colorAttention)
	case order.StateUnknown:
		p.statusBig.set(T("pay.unknown"), colorAttention)
	case order.StatePaid:
		p.statusBig.set(T("pay.paid")+"  ¥"+o.AmountFen.Grouped(), colorPaid)
		p.lastPaid.amount, p.lastPaid.at = o.AmountFen, p.env.Now()
		p.startAutoClose()
	case order.StateFailed:
		p.statusBig.set(T("pay.failed"), colorFailed)
	case order.StateClosed:
		p.statusBig.set(T("pay.closed"), colorNeutral)
	case order.StateRevoked:
		p.statusBig.set(T("pay.revoked"), colorFailed)
	}
	if m := orderMessage(o); m != "" {
		p.detail.SetText(Tf("pay.order_no", o.OutTradeNo) + "\n" + m)
	}
	if cancellable {
		p.cancelBtn.Enable()
		p.chargeBtn.Disable()
	} else {
		p.cancelBtn.Disable()
		p.chargeBtn.Enable()
	}
	if o.State.Terminal() {
		p.codeEntry.SetText("")
		p.walletLabel.SetText("")
		if p.visible {
			p.focusInput()
		}
	}
}

func (p *PayWindow) updateCountdown() {
	if p.current.State != order.StateWaiting || p.current.Deadline.IsZero() {
		return
	}
	left := max(p.current.Deadline.Sub(p.env.Now()), 0)
	if t := Tf("pay.countdown", int((left+time.Second-1)/time.Second)); t != p.countdown.Text {
		p.countdown.SetText(t)
	}
}

// tick runs every second while the window is visible: the countdown and
// the amount's age. Nothing else wakes the UI.
func (p *PayWindow) tick() {
	p.updateCountdown()
	if !p.busy() {
		p.showAmount()
	}
}

func (p *PayWindow) cancelOrder() {
	if !p.busy() {
		return
	}
	if p.env.Ctrl.Cancel(p.current.OutTradeNo) {
		p.cancelBtn.Disable()
		p.statusBig.set(T("pay.closing"), colorAttention)
	}
}

func (p *PayWindow) escape() {
	if d := p.againDlg; d != nil {
		p.againDlg = nil
		d.Hide()
		p.codeEntry.SetText("")
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
