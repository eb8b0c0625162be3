package ui

import (
	"errors"
	"fmt"
	"image"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
)

var (
	baudChoices   = []string{"1200", "2400", "4800", "9600", "19200", "38400", "57600", "115200"}
	parityChoices = []string{"none", "odd", "even", "mark", "space"}
	noPort        = "—"
)

// SettingsWindow edits the configuration: bank activation, amount source
// (manual, serial with a live view of the bytes, OCR with a region picker and
// a live preview), scanner, pacing, voice and language.
type SettingsWindow struct {
	env *Env
	win fyne.Window
	s   Settings

	// The bank identity is read-only: Save never writes it; it changes
	// only through Activate (which refuses while orders are open).
	url, mch, terminal, code *widget.Entry
	activated                *widget.Label
	activateBtn, changeBtn   *widget.Button
	maxPay, confirmAbove     *widget.Entry
	maxAge                   *widget.Entry

	source                      *widget.RadioGroup
	port, baud, parity, profile *widget.Select
	forward                     *widget.Select
	serialLive                  *widget.Label
	serialLines                 []string
	region                      image.Rectangle
	regionLabel, ocrPreview     *widget.Label
	ocrBusy                     bool
	scannerMode                 *widget.RadioGroup
	scannerPort, scannerBaud    *widget.Select
	wedgeGap                    *widget.Entry
	poll, deadline, autoClose   *widget.Entry
	hotkey                      *widget.Entry
	voiceOn                     *widget.Check
	volume                      *widget.Slider
	language                    *widget.Select
	status                      *widget.Label
	saveBtn                     *keyButton
	profiles                    []string
	// the receipts and reconciliation tab (settings_receipt.go)
	printer        *widget.SelectEntry
	printerOptions []string // the installed queues offered
	paper          *widget.Select
	paymentSlips   *widget.Check
	testPrintBtn   *widget.Button
	printResult    *widget.Label
	reconcileOn    *widget.Check
	reconcileAt    *widget.Entry
	reconcileRow   *fyne.Container
	stopLive       func()
	unsubSerial    func()
	// A refused field's sentence is shown under it (wrapped: a long one
	// never widens the window), and its tab is brought to the front.
	tabs      *container.AppTabs
	fieldErrs map[fyne.CanvasObject]*fieldSlot
}

// fieldSlot is where a field's error is shown, and on which tab.
type fieldSlot struct {
	label *widget.Label
	tab   int
}

// fieldError is a refusal of one field of the form.
type fieldError struct {
	field fyne.CanvasObject
	msg   string
}

func (e *fieldError) Error() string { return e.msg }

// Settings tabs, in their order.
const (
	tabBank = iota
	tabSource
	tabScanner
	tabPayment
	tabVoice
	tabReceipts
)

// checked puts an error slot under field, on tab.
func (w *SettingsWindow) checked(field fyne.CanvasObject, tab int) fyne.CanvasObject {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	l.Hide()
	w.fieldErrs[field] = &fieldSlot{label: l, tab: tab}
	return container.NewVBox(field, l)
}

// refuse wraps a field's error so that it is shown under the field.
func refuse(field fyne.CanvasObject, err error) error {
	if err == nil {
		return nil
	}
	return &fieldError{field: field, msg: err.Error()}
}

// showFieldError shows err under its field (none: every slot cleared),
// brings its tab to the front and puts the keyboard on it.
func (w *SettingsWindow) showFieldError(fe *fieldError) {
	for f, slot := range w.fieldErrs {
		if fe != nil && f == fe.field {
			slot.label.SetText(fe.msg)
			slot.label.Show()
			w.tabs.SelectIndex(slot.tab)
			if fo, ok := f.(fyne.Focusable); ok {
				w.win.Canvas().Focus(fo)
			}
		} else if slot.label.Visible() {
			slot.label.SetText("")
			slot.label.Hide()
		}
	}
}

// FieldError is the error shown under a field, "" when none (for tests).
func (w *SettingsWindow) FieldError() string {
	for _, slot := range w.fieldErrs {
		if slot.label.Visible() {
			return slot.label.Text
		}
	}
	return ""
}

var sourceKeys = []string{"manual", "serial", "ocr"}

// NewSettingsWindow builds the window from the controller's settings.
func NewSettingsWindow(env *Env) *SettingsWindow {
	w := &SettingsWindow{env: env, s: env.Ctrl.Settings(), fieldErrs: map[fyne.CanvasObject]*fieldSlot{}}
	w.win = env.App.NewWindow(T("settings.title"))
	w.status = widget.NewLabel("")
	w.status.Wrapping = fyne.TextWrapWord
	w.saveBtn = newKeyButton(T("settings.save"), theme.DocumentSaveIcon(), w.save)
	w.saveBtn.Importance = widget.HighImportance
	w.tabs = container.NewAppTabs(
		container.NewTabItem(T("settings.bank"), w.bankTab()),
		container.NewTabItem(T("settings.source"), w.sourceTab()),
		container.NewTabItem(T("settings.scanner"), w.scannerTab()),
		container.NewTabItem(T("settings.payment"), w.paymentTab()),
		container.NewTabItem(T("settings.voice")+" / "+T("settings.language"), w.voiceTab()),
		container.NewTabItem(T("settings.receipts"), w.receiptTab()),
	)
	// The Save button keeps its height beside a two-line error.
	w.win.SetContent(container.NewBorder(nil, container.NewBorder(nil, nil, nil, container.NewVBox(w.saveBtn), w.status), nil, nil, w.tabs))
	w.win.Resize(fyne.NewSize(640, 520))
	w.unsubSerial = env.Ctrl.OnSerialLine(func(l string) { fyne.Do(func() { w.serialArrived(l) }) })
	w.win.SetOnClosed(w.stop)
	w.refreshPorts()
	return w
}

// Window is the fyne window.
func (w *SettingsWindow) Window() fyne.Window { return w.win }

// Show shows the window and starts the OCR live preview if OCR is chosen.
func (w *SettingsWindow) Show() {
	w.win.Show()
	if w.stopLive == nil {
		w.stopLive = w.env.Every(2*time.Second, w.livePreview)
	}
}

func (w *SettingsWindow) stop() {
	if w.stopLive != nil {
		w.stopLive()
		w.stopLive = nil
	}
	if w.unsubSerial != nil {
		w.unsubSerial()
		w.unsubSerial = nil
	}
}

func (w *SettingsWindow) bankTab() fyne.CanvasObject {
	w.url = entryWith(w.s.BankURL)
	w.mch = entryWith(w.s.MchID)
	w.terminal = entryWith(w.s.TerminalID)
	w.code = widget.NewPasswordEntry()
	w.activated = widget.NewLabel("")
	w.activated.Wrapping = fyne.TextWrapWord
	w.activateBtn = widget.NewButtonWithIcon(T("settings.activate"), theme.LoginIcon(), w.activate)
	w.changeBtn = widget.NewButtonWithIcon(T("settings.change_terminal"), theme.DocumentCreateIcon(), func() { w.editIdentity(true) })
	w.showActivation(w.env.Ctrl.Status())
	form := widget.NewForm(
		widget.NewFormItem(T("settings.url"), w.url),
		widget.NewFormItem(T("settings.mch"), w.mch),
		widget.NewFormItem(T("settings.terminal"), w.terminal),
		widget.NewFormItem(T("settings.code"), w.code),
	)
	hint := widget.NewLabel(T("settings.bank_hint"))
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance
	return container.NewVBox(form, container.NewHBox(w.changeBtn, w.activateBtn), w.activated, hint)
}

// editIdentity unlocks (or locks) the bank fields; they feed Activate only.
func (w *SettingsWindow) editIdentity(on bool) {
	for _, e := range []*widget.Entry{w.url, w.mch, w.terminal, w.code} {
		if on {
			e.Enable()
		} else {
			e.Disable()
		}
	}
	if on {
		w.activateBtn.Enable()
		w.changeBtn.Disable()
	} else {
		w.activateBtn.Disable()
		w.changeBtn.Enable()
	}
}

func (w *SettingsWindow) showActivation(st Status) {
	// Before the first activation the fields are open; afterwards they are
	// locked until the cashier asks to change the terminal.
	w.editIdentity(!st.Activated)
	if !st.Activated {
		w.changeBtn.Hide()
	} else {
		w.changeBtn.Show()
	}
	if st.Activated {
		w.activated.SetText(Tf("settings.activated", st.MerchantName, st.StoreName))
		w.activated.Importance = widget.SuccessImportance
	} else {
		w.activated.SetText(T("settings.not_activated"))
		w.activated.Importance = widget.WarningImportance
	}
	w.activated.Refresh()
}

func (w *SettingsWindow) activate() {
	url, mch, term, code := strings.TrimSpace(w.url.Text), strings.TrimSpace(w.mch.Text),
		strings.TrimSpace(w.terminal.Text), strings.TrimSpace(w.code.Text)
	w.activateBtn.Disable()
	w.activated.SetText("…")
	w.env.Go(func() {
		st, err := w.env.Ctrl.Activate(url, mch, term, code)
		fyne.Do(func() {
			w.activateBtn.Enable()
			if err != nil {
				w.activated.SetText(errorMessage(err))
				w.activated.Importance = widget.DangerImportance
				w.activated.Refresh()
				return
			}
			w.code.SetText("")
			w.s = w.env.Ctrl.Settings()
			w.url.SetText(w.s.BankURL)
			w.mch.SetText(w.s.MchID)
			w.terminal.SetText(w.s.TerminalID)
			w.showActivation(st)
		})
	})
}

func (w *SettingsWindow) sourceTab() fyne.CanvasObject {
	labels := []string{T("settings.src.manual"), T("settings.src.serial"), T("settings.src.ocr")}
	w.source = widget.NewRadioGroup(labels, nil)
	w.source.Horizontal = true
	w.source.SetSelected(labels[indexOf(sourceKeys, w.s.AmountSource, 0)])
	w.port = widget.NewSelect(nil, nil)
	w.port.PlaceHolder = noPort
	w.baud = widget.NewSelect(baudChoices, nil)
	w.baud.SetSelected(strconv.Itoa(orDefault(w.s.SerialBaud, 9600)))
	w.parity = widget.NewSelect(choiceLabels("settings.parity.", parityChoices), nil)
	w.parity.SetSelectedIndex(indexOf(parityChoices, orDefaultS(w.s.SerialParity, "none"), 0))
	w.profiles = w.env.Ctrl.SerialProfiles()
	w.profile = widget.NewSelect(choiceLabels("settings.profile.", w.profiles), nil)
	w.profile.SetSelectedIndex(indexOf(w.profiles, orDefaultS(w.s.SerialProfile, "auto"), 0))
	w.forward = widget.NewSelect(nil, nil)
	w.serialLive = widget.NewLabel("")
	w.serialLive.TextStyle.Monospace = true
	w.serialLive.Wrapping = fyne.TextWrapBreak
	refresh := widget.NewButtonWithIcon(T("settings.refresh_ports"), theme.ViewRefreshIcon(), w.refreshPorts)
	serial := widget.NewForm(
		widget.NewFormItem(T("settings.port"), container.NewBorder(nil, nil, nil, refresh, w.port)),
		widget.NewFormItem(T("settings.baud"), w.baud),
		widget.NewFormItem(T("settings.parity"), w.parity),
		widget.NewFormItem(T("settings.profile"), w.profile),
		widget.NewFormItem(T("settings.forward"), w.forward),
		widget.NewFormItem(T("settings.serial_live"), w.serialLive),
	)
	w.region = w.s.OCRRegion
	w.regionLabel = widget.NewLabel("")
	w.showRegion()
	w.ocrPreview = widget.NewLabel("")
	// A long reading is cut, not allowed to widen the window.
	w.ocrPreview.Truncation = fyne.TextTruncateEllipsis
	w.regionLabel.Truncation = fyne.TextTruncateEllipsis
	pick := widget.NewButtonWithIcon(T("settings.pick_region"), theme.ZoomFitIcon(), w.pickRegion)
	testRead := widget.NewButton(T("settings.ocr_test"), w.readOnce)
	ocr := widget.NewForm(
		widget.NewFormItem(T("settings.region"), container.NewBorder(nil, nil, nil, container.NewHBox(pick, testRead), w.regionLabel)),
		widget.NewFormItem(T("settings.ocr_preview"), w.ocrPreview),
	)
	return container.NewVScroll(container.NewVBox(w.source,
		widget.NewCard(T("settings.src.serial"), "", serial),
		widget.NewCard(T("settings.src.ocr"), "", ocr)))
}

func (w *SettingsWindow) refreshPorts() {
	w.env.Go(func() {
		ports, err := w.env.Ctrl.SerialPorts()
		fyne.Do(func() {
			if err != nil {
				w.status.SetText(errorMessage(err))
			}
			withSaved := func(saved string) []string {
				out := append([]string(nil), ports...)
				if saved != "" && indexOf(out, saved, -1) < 0 {
					out = append(out, saved) // unplugged now, keep it visible
				}
				return out
			}
			w.port.SetOptions(withSaved(w.s.SerialPort))
			w.port.SetSelected(w.s.SerialPort)
			w.forward.SetOptions(append([]string{noPort}, withSaved(w.s.SerialForward)...))
			w.forward.SetSelected(orDefaultS(w.s.SerialForward, noPort))
			w.scannerPort.SetOptions(withSaved(w.s.ScannerPort))
			w.scannerPort.SetSelected(w.s.ScannerPort)
		})
	})
}

// serialArrived shows the last lines seen on the customer-display line, so
// an installer can see at once whether the POS talks on this port.
func (w *SettingsWindow) serialArrived(line string) {
	w.serialLines = append(w.serialLines, line)
	if n := len(w.serialLines); n > 6 {
		w.serialLines = w.serialLines[n-6:]
	}
	w.serialLive.SetText(strings.Join(w.serialLines, "\n"))
}

func (w *SettingsWindow) showRegion() {
	if w.region.Empty() {
		w.regionLabel.SetText("—")
		return
	}
	w.regionLabel.SetText(fmt.Sprintf("%d,%d  %d×%d", w.region.Min.X, w.region.Min.Y, w.region.Dx(), w.region.Dy()))
}

func (w *SettingsWindow) pickRegion() {
	w.env.Go(func() {
		shot, err := w.env.Ctrl.CaptureScreen()
		fyne.Do(func() {
			if err != nil {
				w.status.SetText(errorMessage(err))
				return
			}
			ShowRegionPicker(w.env, shot, w.regionPicked)
		})
	})
}

func (w *SettingsWindow) regionPicked(r image.Rectangle, ok bool) {
	if !ok {
		return
	}
	w.region = r
	w.showRegion()
	w.readOnce()
}

func (w *SettingsWindow) selectedSource() string {
	for i := range sourceKeys {
		if w.source.Selected == w.source.Options[i] {
			return sourceKeys[i]
		}
	}
	return "manual"
}

// livePreview reads the region every two seconds while the window is open
// and OCR is the source; at most one read runs at a time.
func (w *SettingsWindow) livePreview() {
	if w.selectedSource() == "ocr" {
		w.readOnce()
	}
}

func (w *SettingsWindow) readOnce() {
	if w.region.Empty() || w.ocrBusy {
		return
	}
	w.ocrBusy = true
	r := w.region
	w.env.Go(func() {
		text, amount, err := w.env.Ctrl.ReadRegion(r)
		fyne.Do(func() {
			w.ocrBusy = false
			switch {
			case err != nil:
				w.ocrPreview.SetText(errorMessage(err))
			default:
				w.ocrPreview.SetText(fmt.Sprintf("¥ %s   «%s»", amount.Grouped(), strings.TrimSpace(text)))
			}
		})
	})
}

func (w *SettingsWindow) scannerTab() fyne.CanvasObject {
	labels := []string{T("settings.scanner.wedge"), T("settings.scanner.serial")}
	w.scannerMode = widget.NewRadioGroup(labels, nil)
	w.scannerMode.Horizontal = true
	if w.s.ScannerMode == "serial" {
		w.scannerMode.SetSelected(labels[1])
	} else {
		w.scannerMode.SetSelected(labels[0])
	}
	w.scannerPort = widget.NewSelect(nil, nil)
	w.scannerPort.PlaceHolder = noPort
	w.scannerBaud = widget.NewSelect(baudChoices, nil)
	w.scannerBaud.SetSelected(strconv.Itoa(orDefault(w.s.ScannerBaud, 9600)))
	w.wedgeGap = entryWith(strconv.Itoa(w.s.WedgeMaxGapMS))
	return container.NewVBox(w.scannerMode, widget.NewForm(
		widget.NewFormItem(T("settings.wedge_gap"), w.checked(w.wedgeGap, tabScanner)),
		widget.NewFormItem(T("settings.port"), w.scannerPort),
		widget.NewFormItem(T("settings.baud"), w.scannerBaud),
	))
}

func (w *SettingsWindow) paymentTab() fyne.CanvasObject {
	w.poll = entryWith(secs(w.s.PollInterval))
	w.deadline = entryWith(secs(w.s.PollTimeout))
	w.autoClose = entryWith(strconv.Itoa(w.s.AutoCloseSec))
	w.hotkey = entryWith(w.s.Hotkey)
	w.maxPay = entryWith(orDefaultFen(w.s.MaxPayment, DefaultMaxPayment).String())
	w.confirmAbove = entryWith(w.s.ConfirmAbove.String())
	if w.s.ConfirmAbove <= 0 {
		w.confirmAbove.SetText("0")
	}
	age := w.s.MaxAmountAge
	if age <= 0 {
		age = DefaultMaxAmountAge
	}
	w.maxAge = entryWith(secs(age))
	return widget.NewForm(
		widget.NewFormItem(T("settings.poll"), w.checked(w.poll, tabPayment)),
		widget.NewFormItem(T("settings.deadline"), w.checked(w.deadline, tabPayment)),
		widget.NewFormItem(T("settings.autoclose"), w.checked(w.autoClose, tabPayment)),
		widget.NewFormItem(T("settings.max_payment"), w.checked(w.maxPay, tabPayment)),
		widget.NewFormItem(T("settings.confirm_above"), w.checked(w.confirmAbove, tabPayment)),
		widget.NewFormItem(T("settings.max_age"), w.checked(w.maxAge, tabPayment)),
		widget.NewFormItem(T("settings.hotkey"), w.hotkey),
	)
}

func (w *SettingsWindow) voiceTab() fyne.CanvasObject {
	w.voiceOn = widget.NewCheck(T("settings.voice_on"), nil)
	w.voiceOn.SetChecked(w.s.VoiceOn)
	w.volume = widget.NewSlider(0, 100)
	w.volume.Step = 5
	w.volume.SetValue(float64(w.s.Volume))
	testBtn := widget.NewButtonWithIcon(T("settings.voice_test"), theme.MediaPlayIcon(), w.testVoice)
	w.language = widget.NewSelect([]string{"中文 (zh-CN)", "English (en)"}, nil)
	if ParseLanguage(w.s.Language) == English {
		w.language.SetSelectedIndex(1)
	} else {
		w.language.SetSelectedIndex(0)
	}
	return widget.NewForm(
		widget.NewFormItem(T("settings.voice"), container.NewHBox(w.voiceOn, testBtn)),
		widget.NewFormItem(T("settings.volume"), w.volume),
		widget.NewFormItem(T("settings.language"), w.language),
	)
}

// collect reads the form into a Settings, or names the first bad field.
func (w *SettingsWindow) collect() (Settings, error) {
	// The bank identity stays as loaded: only Activate changes it.
	s := w.s
	s.AmountSource = w.selectedSource()
	s.SerialPort = w.port.Selected
	s.SerialBaud, _ = strconv.Atoi(w.baud.Selected)
	s.SerialParity = parityChoices[max(w.parity.SelectedIndex(), 0)]
	if i := w.profile.SelectedIndex(); i >= 0 {
		s.SerialProfile = w.profiles[i]
	}
	s.SerialForward = w.forward.Selected
	if s.SerialForward == noPort {
		s.SerialForward = ""
	}
	s.OCRRegion = w.region
	s.ScannerMode = "wedge"
	if w.scannerMode.Selected == w.scannerMode.Options[1] {
		s.ScannerMode = "serial"
	}
	s.ScannerPort = w.scannerPort.Selected
	s.ScannerBaud, _ = strconv.Atoi(w.scannerBaud.Selected)
	var err error
	if s.WedgeMaxGapMS, err = intField(w.wedgeGap, "settings.wedge_gap", rangeWedgeGapMS); err != nil {
		return s, refuse(w.wedgeGap, err)
	}
	var f float64
	if f, err = floatField(w.poll, "settings.poll", rangePollS); err != nil {
		return s, refuse(w.poll, err)
	}
	s.PollInterval = time.Duration(f * float64(time.Second))
	if f, err = floatField(w.deadline, "settings.deadline", rangeDeadlineS); err != nil {
		return s, refuse(w.deadline, err)
	}
	s.PollTimeout = time.Duration(f * float64(time.Second))
	if s.PollTimeout < s.PollInterval {
		return s, refuse(w.deadline, fmt.Errorf("%s", Tf("settings.deadline_short", T("settings.deadline"), T("settings.poll"))))
	}
	if s.AutoCloseSec, err = intField(w.autoClose, "settings.autoclose", rangeAutoCloseS); err != nil {
		return s, refuse(w.autoClose, err)
	}
	if s.MaxPayment, err = fenField(w.maxPay, "settings.max_payment", 1, money.Max); err != nil {
		return s, refuse(w.maxPay, err)
	}
	if s.ConfirmAbove, err = fenField(w.confirmAbove, "settings.confirm_above", 0, s.MaxPayment); err != nil {
		return s, refuse(w.confirmAbove, err)
	}
	if f, err = floatField(w.maxAge, "settings.max_age", rangeMaxAgeS); err != nil {
		return s, refuse(w.maxAge, err)
	}
	s.MaxAmountAge = time.Duration(f * float64(time.Second))
	s.Hotkey = strings.TrimSpace(w.hotkey.Text)
	s.VoiceOn = w.voiceOn.Checked
	s.Volume = int(w.volume.Value)
	s.Language = Language(w.language.SelectedIndex()).String()
	if err := w.collectReceipt(&s); err != nil {
		return s, err
	}
	return s, nil
}

func (w *SettingsWindow) save() {
	s, err := w.collect()
	var fe *fieldError
	if errors.As(err, &fe) {
		w.status.SetText("")
		w.showFieldError(fe)
		return
	}
	w.showFieldError(nil)
	if err != nil {
		w.status.SetText(err.Error())
		return
	}
	w.saveBtn.Disable()
	w.env.Go(func() {
		err := w.env.Ctrl.SaveSettings(s)
		fyne.Do(func() {
			w.saveBtn.Enable()
			if err != nil {
				w.status.SetText(errorMessage(err))
				return
			}
			w.s = s
			w.status.SetText(T("settings.saved"))
		})
	})
}

func entryWith(s string) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(s)
	return e
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// The documented ranges of the numeric settings (docs/ui.md, Settings).
var (
	rangeWedgeGapMS = [2]float64{5, 200}
	rangePollS      = [2]float64{1, 30}
	rangeDeadlineS  = [2]float64{10, 300}
	rangeAutoCloseS = [2]float64{0, 60}
	rangeMaxAgeS    = [2]float64{10, 1800}
)

func rangeErr(key string, lo, hi string) error {
	return fmt.Errorf("%s", Tf("settings.out_of_range", T(key), lo, hi))
}

func intField(e *widget.Entry, key string, r [2]float64) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(money.Normalize(e.Text)))
	if err != nil {
		return 0, fmt.Errorf("%s", Tf("settings.bad_number", T(key)))
	}
	if float64(v) < r[0] || float64(v) > r[1] {
		return 0, rangeErr(key, strconv.Itoa(int(r[0])), strconv.Itoa(int(r[1])))
	}
	return v, nil
}

func floatField(e *widget.Entry, key string, r [2]float64) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(money.Normalize(e.Text)), 64)
	if err != nil {
		return 0, fmt.Errorf("%s", Tf("settings.bad_number", T(key)))
	}
	if v < r[0] || v > r[1] {
		return 0, rangeErr(key, strconv.FormatFloat(r[0], 'f', -1, 64), strconv.FormatFloat(r[1], 'f', -1, 64))
	}
	return v, nil
}

// fenField reads a yuan amount ("0" allowed when lo is 0).
func fenField(e *widget.Entry, key string, lo, hi money.Fen) (money.Fen, error) {
	t := money.Normalize(e.Text)
	if strings.TrimSpace(t) == "0" && lo == 0 {
		return 0, nil
	}
	v, err := money.Parse(t)
	if err != nil && !errors.Is(err, money.ErrTooLarge) {
		return 0, fmt.Errorf("%s", Tf("settings.bad_amount", T(key)))
	}
	if err != nil || v < lo || v > hi {
		return 0, rangeErr(key, lo.Grouped(), hi.Grouped())
	}
	return v, nil
}

func orDefaultFen(v, def money.Fen) money.Fen {
	if v <= 0 {
		return def
	}
	return v
}

func indexOf(list []string, s string, def int) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return def
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDefaultS(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// choiceLabels shows a config value in the cashier's language where the
// catalog has it (parity "none", protocol "auto"); names such as "cd5220"
// stay as they are.
func choiceLabels(prefix string, values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		if t := T(prefix + v); t != prefix+v {
			out[i] = t
		} else {
			out[i] = v
		}
	}
	return out
}

// testVoice plays the sample sentence and, a moment later (the speaker
// plays on its own goroutine), says whether it could be played: on a PC
// without sound 试听 must not simply stay silent.
func (w *SettingsWindow) testVoice() {
	w.env.Ctrl.TestVoice()
	var stop func()
	stop = w.env.Every(2*time.Second, func() {
		stop()
		if err := w.env.Ctrl.VoiceError(); err != nil {
			w.status.SetText(errorMessage(err))
		} else {
			w.status.SetText(T("settings.voice_ok"))
		}
	})
}
