package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
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
