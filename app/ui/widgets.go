package ui

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// keyEntry is an Entry that reports Escape, which a plain Entry swallows:
// the pay window is driven from the keyboard, and Esc means Cancel.
type keyEntry struct {
	widget.Entry
	onEsc func()
}

func newKeyEntry() *keyEntry {
	e := &keyEntry{}
	e.ExtendBaseWidget(e)
	return e
}

func (e *keyEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.onEsc != nil {
		e.onEsc()
		return
	}
	e.Entry.TypedKey(k)
}

// canvasText is a large, coloured line (the amount, the outcome).
type canvasText struct{ obj *canvas.Text }

func newCanvasText(size float32, c color.Color) *canvasText {
	t := canvas.NewText("", c)
	t.TextSize = size
	t.TextStyle = fyne.TextStyle{Bold: true}
	t.Alignment = fyne.TextAlignCenter
	return &canvasText{obj: t}
}

func (t *canvasText) set(s string, c color.Color) {
	if t.obj.Text == s && t.obj.Color == c {
		return // no redraw for nothing: the idle window must stay idle
	}
	t.obj.Text = s
	t.obj.Color = c
	t.obj.Refresh()
}

// Text is what the line shows (for tests).
func (t *canvasText) Text() string { return t.obj.Text }

// fixedHeight reserves vertical space, so that the rows under a status
// area of varying length do not jump (the cashier's eye, and the demo's
// scripted clicks, rely on their place).
func fixedHeight(h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(1, h))
	return r
}

// fixedWidth reserves horizontal space (the wallet name beside the code).
func fixedWidth(w float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(w, 1))
	return r
}

// keyButton is a Button that shows a ring while it has the keyboard focus
// (fyne only tints a focused button, which on a blue button is hard to
// see), and, where enter is set, is pressed by Enter as well as Space
// (the default button of a question). onEsc, when set, is what Esc means
// while the button has the focus (a focused button would otherwise
// swallow it).
type keyButton struct {
	widget.Button
	focused bool
	enter   bool
	onEsc   func()
}

func newKeyButton(label string, icon fyne.Resource, tapped func()) *keyButton {
	b := &keyButton{}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

func (b *keyButton) FocusGained() { b.focused = true; b.Button.FocusGained() }
func (b *keyButton) FocusLost()   { b.focused = false; b.Button.FocusLost() }

func (b *keyButton) TypedKey(k *fyne.KeyEvent) {
	switch {
	case k.Name == fyne.KeyEscape && b.onEsc != nil:
		b.onEsc()
	case (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && b.enter:
		if !b.Disabled() && b.OnTapped != nil {
			b.OnTapped()
		}
	default:
		b.Button.TypedKey(k)
	}
}

func (b *keyButton) CreateRenderer() fyne.WidgetRenderer {
	ring := canvas.NewRectangle(color.Transparent)
	ring.StrokeWidth = 2
	ring.Hide()
	return &ringRenderer{WidgetRenderer: b.Button.CreateRenderer(), b: b, ring: ring}
}

// ringRenderer draws the button and, while it is focused, a ring in the
// text colour just inside its edge: dark on the blue, red and grey buttons
// of the light theme, light on the dark theme's.
type ringRenderer struct {
	fyne.WidgetRenderer
	b    *keyButton
	ring *canvas.Rectangle
}

func (r *ringRenderer) Layout(s fyne.Size) {
	r.WidgetRenderer.Layout(s)
	r.ring.Resize(s)
}

func (r *ringRenderer) Objects() []fyne.CanvasObject {
	return append(r.WidgetRenderer.Objects(), r.ring)
}

func (r *ringRenderer) Refresh() {
	r.WidgetRenderer.Refresh()
	th := r.b.Theme()
	r.ring.StrokeColor = th.Color(theme.ColorNameForeground, fyne.CurrentApp().Settings().ThemeVariant())
	r.ring.CornerRadius = th.Size(theme.SizeNameInputRadius)
	if r.b.focused && !r.b.Disabled() {
		r.ring.Show()
	} else {
		r.ring.Hide()
	}
	r.ring.Refresh()
}

// question is a yes/no dialog whose default is the safe answer, No: the
// No button is the highlighted one, has the keyboard focus (Enter and
// Space press it) and Esc means it too. Its body is read again every
// second while it is open, so an "N s ago" in it moves.
type question struct {
	dlg     *dialog.CustomDialog
	label   *widget.Label
	body    func() string
	no, yes *keyButton
	stop    func()
	answer  func(yes bool)
	done    bool
}

func askQuestion(env *Env, win fyne.Window, title string, body func() string, extra fyne.CanvasObject,
	yesText, noText string, answer func(yes bool)) *question {
	q := &question{body: body, answer: answer}
	q.label = widget.NewLabel(body())
	q.label.Wrapping = fyne.TextWrapWord
	content := fyne.CanvasObject(q.label)
	if extra != nil {
		content = container.NewVBox(extra, q.label)
	}
	q.no = newKeyButton(noText, theme.CancelIcon(), q.Hide)
	q.no.Importance = widget.HighImportance
	q.no.enter = true
	q.no.onEsc = q.Hide
	q.yes = newKeyButton(yesText, theme.ConfirmIcon(), q.Confirm)
	q.yes.onEsc = q.Hide
	q.dlg = dialog.NewCustomWithoutButtons(title, content, win)
	q.dlg.SetButtons([]fyne.CanvasObject{q.no, q.yes})
	q.dlg.Resize(fyne.NewSize(380, 200))
	q.dlg.Show()
	win.Canvas().Focus(q.no)
	q.stop = env.Every(time.Second, q.update)
	return q
}

func (q *question) update() {
	if t := q.body(); t != q.label.Text {
		q.label.SetText(t)
	}
}

// Confirm answers Yes.
func (q *question) Confirm() { q.finish(true) }

// Hide answers No.
func (q *question) Hide() { q.finish(false) }

func (q *question) finish(yes bool) {
	if q.done {
		return
	}
	q.done = true
	q.stop()
	q.dlg.Hide()
	q.answer(yes)
}
