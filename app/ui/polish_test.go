package ui

import (
	"errors"
	"image"
	"image/color"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/order"
)

// Issue 11 item 14 (polish): the view tests below each failed against the
// code before the change that made them pass.

// buttonIn finds the button labelled label under o: a widget.Button, or a
// widget that extends one (found by reflection, so that this file also
// builds against the code before the change).
func buttonIn(o fyne.CanvasObject, label string) (fyne.CanvasObject, *widget.Button) {
	for _, obj := range test.LaidOutObjects(o) {
		if b, ok := obj.(*widget.Button); ok {
			if b.Text == label {
				return b, b
			}
			continue
		}
		v := reflect.ValueOf(obj)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			continue
		}
		if f := v.Elem().FieldByName("Button"); f.IsValid() && f.Type() == reflect.TypeOf(widget.Button{}) {
			if b := f.Addr().Interface().(*widget.Button); b.Text == label {
				return obj, b
			}
		}
	}
	return nil, nil
}

// pressKey sends a key to what has the focus in win, as the keyboard does.
func pressKey(t *testing.T, win fyne.Window, k fyne.KeyName) {
	t.Helper()
	f := win.Canvas().Focused()
	if f == nil {
		t.Fatalf("nothing has the keyboard focus for %s", k)
	}
	f.TypedKey(&fyne.KeyEvent{Name: k})
}

// The charge-again question's highlighted, focused button is the safe No:
// Enter (as the cashier presses it without reading) and Esc both mean No,
// in the pay window and in the customer-scans window; the age in the
// question moves in both.
func TestQuestionDefaultIsNo(t *testing.T) {
	env, f, clk := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	test.Type(p.amountEntry, "12")
	emit(f.scanSubs, wechatCode)
	f.update(f.orders[0].OutTradeNo, func(o *order.Order) { o.State = order.StatePaid })
	for _, key := range []fyne.KeyName{fyne.KeyReturn, fyne.KeyEscape} {
		emit(f.scanSubs, alipayCode)
		top := p.win.Canvas().Overlays().Top()
		if top == nil {
			t.Fatal("no charge-again question")
		}
		noObj, no := buttonIn(top, "不收 (Esc)")
		_, yes := buttonIn(top, "再收一次")
		if no == nil || yes == nil {
			t.Fatal("the question's buttons are missing")
		}
		if no.Importance != widget.HighImportance || yes.Importance == widget.HighImportance {
			t.Errorf("highlighted: No %v, charge again %v; the safe No must be the highlighted one", no.Importance, yes.Importance)
		}
		if foc, ok := p.win.Canvas().Focused().(fyne.CanvasObject); !ok || foc != noObj {
			t.Errorf("the keyboard focus is on %T, not on No", p.win.Canvas().Focused())
		}
		pressKey(t, p.win, key)
		if len(f.orders) != 1 || p.win.Canvas().Overlays().Top() != nil {
			t.Fatalf("%s on the question: %d orders, question still open %v", key, len(f.orders), p.win.Canvas().Overlays().Top() != nil)
		}
	}

	// The customer-scans window: the same default, and "N 秒前" moves.
	q := NewQRWindow(env)
	q.Show()
	q.amount.SetText("")
	test.Type(q.amount, "8")
	test.Tap(q.makeBtn)
	f.update(f.orders[1].OutTradeNo, func(o *order.Order) { o.State = order.StatePaid })
	q.amount.OnSubmitted(q.amount.Text)
	top := q.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no charge-again question in the customer-scans window")
	}
	if !findText(top, "8.00 元已经收款成功（刚刚）") {
		t.Error("question text")
	}
	clk.advance(25 * time.Second)
	if !findText(top, "8.00 元已经收款成功（20 秒前）") {
		t.Error("the question's age does not advance in the customer-scans window")
	}
	noObj, no := buttonIn(top, "不收 (Esc)")
	if no == nil || no.Importance != widget.HighImportance {
		t.Error("the customer-scans question's highlighted button is not No")
	}
	if foc, ok := q.win.Canvas().Focused().(fyne.CanvasObject); !ok || foc != noObj {
		t.Errorf("focus on %T, not on No", q.win.Canvas().Focused())
	}
	pressKey(t, q.win, fyne.KeyEscape)
	if len(f.orders) != 2 || q.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("Esc: %d orders, question open %v", len(f.orders), q.win.Canvas().Overlays().Top() != nil)
	}
	q.amount.OnSubmitted(q.amount.Text)
	pressKey(t, q.win, fyne.KeyReturn)
	if len(f.orders) != 2 {
		t.Fatalf("Enter on the question charged again (%d orders)", len(f.orders))
	}
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// The keyboard focus on a blue button is visible: along the button's edge
// the focused button differs from the unfocused one by at least 3:1 (WCAG's
// contrast for a focus indicator). fyne's own focus only tints the fill.
func TestFocusRingOnBlueButtons(t *testing.T) {
	env, _, _ := newTestEnv(t)
	p := NewPayWindow(env)
	p.Show()
	p.win.Resize(fyne.NewSize(460, 440))
	check := func(name string, win fyne.Window, btn fyne.Focusable) {
		t.Helper()
		obj := btn.(fyne.CanvasObject)
		win.Canvas().Unfocus()
		before := win.Canvas().Capture()
		win.Canvas().Focus(btn)
		after := win.Canvas().Capture()
		// The driver gives the position inside the canvas' interactive
		// area; the capture is of the whole canvas.
		inset, _ := win.Canvas().InteractiveArea()
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(obj).Add(inset)
		size := obj.Size()
		sc := float32(before.Bounds().Dx()) / win.Canvas().Size().Width
		best := 0.0
		// Along the left and top edges, just inside.
		for _, pt := range []image.Point{
			{int((pos.X + 1) * sc), int((pos.Y + size.Height/2) * sc)},
			{int((pos.X + size.Width/2) * sc), int((pos.Y + 1) * sc)},
		} {
			best = max(best, contrast(before.At(pt.X, pt.Y), after.At(pt.X, pt.Y)))
		}
		if best < 3 {
			t.Errorf("%s: focus changes the edge by %.2f:1, want at least 3:1", name, best)
		}
	}
	check("收款", p.win, p.chargeBtn)
	s := NewSettingsWindow(env)
	s.Show()
	check("保存", s.win, s.saveBtn)
}

// A long log line is readable in full: it is not cut with "…", a
// horizontal scroll bar brings its end into view, and the line selected is
// shown whole (wrapped) under the list and copied as it is.
func TestLogsLongLineReadable(t *testing.T) {
	env, f, clk := newTestEnv(t)
	long := "bank call owner=tray endpoint=/pay/micropay out_trade_no=SB261201231132PLDDLYUA " +
		strings.Repeat("detail=0123456789abcdef ", 20) + "END-OF-LINE"
	f.addLog(LogLine{Time: clk.now, Level: slog.LevelInfo, Text: "short"})
	f.addLog(LogLine{Time: clk.now, Level: slog.LevelWarn, Text: long})
	w := NewLogsWindow(env)
	w.Show()
	w.win.Resize(fyne.NewSize(600, 300))
	// row finds the long line's label and the row it is drawn in.
	row := func() (*widget.Label, fyne.CanvasObject) {
		for _, o := range test.LaidOutObjects(w.list) {
			if c, ok := o.(*fyne.Container); ok && len(c.Objects) > 0 {
				if l, ok := c.Objects[0].(*widget.Label); ok && strings.Contains(l.Text, "END-OF-LINE") {
					return l, c
				}
			}
			if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, "END-OF-LINE") {
				return l, nil // a label straight in the list's row
			}
		}
		t.Fatal("the long line is not in the list")
		return nil, nil
	}
	l, r := row()
	if l.Truncation != fyne.TextTruncateOff || l.Size().Width < l.MinSize().Width {
		t.Errorf("the long line is cut: truncation %v, drawn %v of %v", l.Truncation, l.Size().Width, l.MinSize().Width)
	}
	if r == nil || r.Size().Width > w.list.Size().Width {
		t.Fatal("the line's row is not a view onto the line")
	}
	var hbar *container.Scroll
	for _, o := range test.LaidOutObjects(w.win.Content()) {
		if s, ok := o.(*container.Scroll); ok && (s.Direction == container.ScrollHorizontalOnly || s.Direction == container.ScrollBoth) {
			hbar = s
		}
	}
	if hbar == nil {
		t.Fatal("no horizontal scroll bar")
	}
	if end := l.Position().X + l.Size().Width; end <= r.Size().Width {
		t.Fatalf("the line (ends at %v) is not wider than its row (%v)", end, r.Size().Width)
	}
	hbar.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DX: -100000}}) // the reader drags to the far right
	l, r = row()
	if end := l.Position().X + l.Size().Width; end > r.Size().Width+1 || end < r.Size().Width-40 {
		t.Errorf("scrolled to the right, the line ends at %v in a row %v wide", end, r.Size().Width)
	}
	// Selected: shown in full under the list, and copied as one line.
	w.list.Select(1)
	shown := false
	for _, o := range test.LaidOutObjects(w.win.Content()) {
		if lb, ok := o.(*widget.Label); ok && lb.Visible() && lb.Wrapping != fyne.TextWrapOff &&
			lb.Text == formatLog(w.shown[1]) && lb.Size().Width <= w.win.Canvas().Size().Width {
			shown = true
		}
	}
	if !shown {
		t.Error("the selected line is not shown whole under the list")
	}
	if _, b := buttonIn(w.win.Content(), "复制此行"); b == nil {
		t.Error("no copy-line button")
	} else {
		test.Tap(b)
		if got := env.App.Clipboard().Content(); got != formatLog(w.shown[1]) {
			t.Errorf("copied %q", got)
		}
	}
}

// The code field keeps its width when the wallet name, or the "not a
// payment code" note, appears beside it, in Chinese and in English.
func TestPayWindowCodeFieldKeepsWidth(t *testing.T) {
	for _, lang := range []Language{Chinese, English} {
		env, _, _ := newTestEnv(t)
		SetLanguage(lang)
		p := NewPayWindow(env)
		p.Show()
		p.win.Resize(fyne.NewSize(460, 440))
		want := p.codeEntry.Size().Width
		// The hint fits: an entry scrolls a longer one, with a scroll bar
		// drawn over the field.
		hint := widget.NewLabel(p.codeEntry.PlaceHolder)
		if hint.MinSize().Width > want {
			t.Errorf("%v: the code field's hint %q needs %v, the field is %v wide", lang, p.codeEntry.PlaceHolder, hint.MinSize().Width, want)
		}
		for _, code := range []string{wechatCode, alipayCode, "999999999999999999"} {
			p.codeEntry.SetText(code)
			p.win.Content().Refresh()
			if got := p.codeEntry.Size().Width; got != want || p.walletLabel.Text == "" {
				t.Errorf("%v %s (%q): code field %v wide, was %v", lang, code, p.walletLabel.Text, got, want)
			}
		}
	}
	SetLanguage(Chinese)
}

// Settings keeps its width after an OCR region pick (however long the
// reading or its error), a refused field's sentence wraps under that
// field, and Save keeps its size beside a two-line message.
func TestSettingsKeepsWidthAndShowsErrorsUnderFields(t *testing.T) {
	env, f, _ := newTestEnv(t)
	w := NewSettingsWindow(env)
	w.Show()
	w.win.Resize(fyne.NewSize(640, 520))
	limit := float32(640) - 2*theme.Padding()
	wide := func(when string) {
		t.Helper()
		if m := w.win.Content().MinSize().Width; m > limit {
			t.Errorf("%s: the window must grow to %v wide", when, m)
		}
	}
	wide("at first")
	f.regionText = strings.Repeat("合计 ¥1,234.50 会员价 ", 12)
	w.regionPicked(image.Rect(100, 60, 1380, 960), true)
	wide("after a region pick with a long reading")
	f.regionErr = errors.New("ocr: tesseract: " + strings.Repeat("could not read the region ", 10))
	w.regionPicked(image.Rect(100, 60, 420, 150), true)
	wide("after a region pick whose reading failed")

	btnH := w.saveBtn.Size().Height
	w.deadline.SetText("99999")
	test.Tap(w.saveBtn)
	msg := "等待时限 (秒)：须在 10 到 300 之间"
	var under *widget.Label
	for _, o := range test.LaidOutObjects(w.win.Content()) {
		if l, ok := o.(*widget.Label); ok && l.Visible() && l.Text == msg {
			under = l
		}
	}
	if under == nil {
		t.Fatalf("the refusal is not shown as its own line (status %q)", w.status.Text)
	}
	d := fyne.CurrentApp().Driver()
	fp, lp := d.AbsolutePositionForObject(w.deadline), d.AbsolutePositionForObject(under)
	if lp.Y < fp.Y+w.deadline.Size().Height || lp.Y > fp.Y+w.deadline.Size().Height+20 ||
		math.Abs(float64(lp.X-fp.X)) > 1 || under.Wrapping == fyne.TextWrapOff {
		t.Errorf("the refusal is at %v, the field at %v (%v): not wrapped under the field", lp, fp, w.deadline.Size())
	}
	wide("with a refused field")
	// A long sentence beside Save (an error from saving): Save keeps its size.
	w.status.SetText(strings.Repeat("无法保存设置：磁盘已满，请清理后重试。", 4))
	w.win.Content().Refresh()
	if h := w.saveBtn.Size().Height; h != btnH {
		t.Errorf("Save is %v tall beside a long message, was %v", h, btnH)
	}
	wide("with a long message beside Save")
	// Corrected, the sentence under the field goes.
	w.deadline.SetText("45")
	test.Tap(w.saveBtn)
	if under.Visible() || f.saves != 1 {
		t.Errorf("after correcting: refusal still shown %v, saves %d", under.Visible(), f.saves)
	}
}

// Parity and protocol choices read in the cashier's language.
func TestSettingsChoicesTranslated(t *testing.T) {
	env, _, _ := newTestEnv(t)
	w := NewSettingsWindow(env)
	if w.parity.Selected != "无" || w.profile.Selected != "自动识别" {
		t.Errorf("parity %q protocol %q", w.parity.Selected, w.profile.Selected)
	}
	for _, o := range append(append([]string(nil), w.parity.Options...), w.profile.Options...) {
		if o == "none" || o == "auto" || o == "odd" || o == "even" {
			t.Errorf("untranslated choice %q", o)
		}
	}
}

// Issue 11 item 9 in the customer-scans window: a refusal of the amount
// goes as soon as the amount is valid, not at the next QR.
func TestQRWindowOldErrorCleared(t *testing.T) {
	env, f, _ := newTestEnv(t)
	q := NewQRWindow(env)
	q.Show()
	for _, bad := range []string{"abc", "2000000"} {
		q.amount.SetText(bad)
		test.Tap(q.makeBtn)
		if q.status.Text() == "" || q.detail.Text == "" || len(f.orders) != 0 {
			t.Fatalf("%q: no refusal (%q %q)", bad, q.status.Text(), q.detail.Text)
		}
		q.amount.SetText("1000001") // still over the maximum: the refusal stays
		if bad == "2000000" && q.status.Text() == "" {
			t.Error("the refusal went while the amount is still over the maximum")
		}
		q.amount.SetText("12")
		if q.status.Text() != "" || q.detail.Text != "" {
			t.Errorf("%q then 12: old refusal %q %q under a valid amount", bad, q.status.Text(), q.detail.Text)
		}
	}
}

// Issue 11 item 11: the search field of Recent orders gets its full height
// (a shorter cell made the entry draw a scroll bar over its right edge).
func TestOrdersSearchFieldNotSqueezed(t *testing.T) {
	env, _, _ := newTestEnv(t)
	w := NewOrdersWindow(env)
	w.Show()
	w.win.Resize(fyne.NewSize(860, 520))
	if s, m := w.search.Size(), w.search.MinSize(); s.Height < m.Height || s.Width < 200 {
		t.Errorf("search field %v, needs %v", s, m)
	}
}
