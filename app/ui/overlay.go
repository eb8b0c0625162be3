package ui

import (
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// RegionPicker is the full-screen overlay on which the cashier drags a
// rectangle over the POS total. GLFW windows cannot be see-through on every
// platform, so the overlay shows a screenshot of the screen under a dark veil
// and cuts the selection out of the veil: it looks and works like a
// translucent layer, and the rectangle is in the screenshot's pixels, which
// are the screen's.
type RegionPicker struct {
	widget.BaseWidget
	shot     image.Image
	veil     *canvas.Rectangle
	sel      *canvas.Rectangle
	hint     *canvas.Text
	start    fyne.Position
	cur      fyne.Position
	dragging bool
	done     func(r image.Rectangle, ok bool)
}

// NewRegionPicker calls done once, with the chosen rectangle or ok=false.
func NewRegionPicker(shot image.Image, done func(image.Rectangle, bool)) *RegionPicker {
	p := &RegionPicker{shot: shot, done: done}
	p.veil = canvas.NewRectangle(color.NRGBA{A: 0x80})
	p.sel = canvas.NewRectangle(color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0x30})
	p.sel.StrokeColor = color.NRGBA{R: 0xff, G: 0x8c, A: 0xff}
	p.sel.StrokeWidth = 2
	p.sel.Hide()
	p.hint = canvas.NewText(T("settings.overlay_hint"), color.White)
	p.hint.TextSize = 22
	p.hint.TextStyle.Bold = true
	p.ExtendBaseWidget(p)
	return p
}

func (p *RegionPicker) CreateRenderer() fyne.WidgetRenderer {
	img := canvas.NewImageFromImage(p.shot)
	img.FillMode = canvas.ImageFillStretch
	img.ScaleMode = canvas.ImageScaleFastest
	return widget.NewSimpleRenderer(container.NewStack(img, p.veil,
		container.NewWithoutLayout(p.sel), container.NewCenter(p.hint)))
}

func (p *RegionPicker) Dragged(e *fyne.DragEvent) {
	if !p.dragging {
		p.dragging = true
		p.start = e.Position.Subtract(e.Dragged)
		p.hint.Hide()
	}
	p.cur = e.Position
	x0, y0 := min(p.start.X, p.cur.X), min(p.start.Y, p.cur.Y)
	p.sel.Move(fyne.NewPos(x0, y0))
	p.sel.Resize(fyne.NewSize(abs32(p.cur.X-p.start.X), abs32(p.cur.Y-p.start.Y)))
	p.sel.Show()
	p.sel.Refresh()
}

func (p *RegionPicker) DragEnd() {
	if !p.dragging {
		return
	}
	p.dragging = false
	r := p.Selection()
	if r.Dx() < 4 || r.Dy() < 4 {
		p.hint.Show()
		p.sel.Hide()
		return // a click, not a rectangle
	}
	p.finish(r, true)
}

// Cancel ends the pick without a rectangle (Esc).
func (p *RegionPicker) Cancel() { p.finish(image.Rectangle{}, false) }

func (p *RegionPicker) finish(r image.Rectangle, ok bool) {
	if p.done != nil {
		d := p.done
		p.done = nil
		d(r, ok)
	}
}

// Selection is the dragged rectangle in screenshot pixels.
func (p *RegionPicker) Selection() image.Rectangle {
	size := p.Size()
	b := p.shot.Bounds()
	if size.Width <= 0 || size.Height <= 0 {
		return image.Rectangle{}
	}
	sx, sy := float32(b.Dx())/size.Width, float32(b.Dy())/size.Height
	x0, y0 := min(p.start.X, p.cur.X), min(p.start.Y, p.cur.Y)
	x1, y1 := max(p.start.X, p.cur.X), max(p.start.Y, p.cur.Y)
	r := image.Rect(int(x0*sx)+b.Min.X, int(y0*sy)+b.Min.Y, int(x1*sx+0.5)+b.Min.X, int(y1*sy+0.5)+b.Min.Y)
	return r.Intersect(b)
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// ShowRegionPicker opens the overlay full screen over a fresh screenshot.
func ShowRegionPicker(env *Env, shot image.Image, done func(image.Rectangle, bool)) fyne.Window {
	w := env.App.NewWindow(T("settings.pick_region"))
	picker := NewRegionPicker(shot, func(r image.Rectangle, ok bool) {
		w.Close()
		done(r, ok)
	})
	w.SetContent(picker)
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			picker.Cancel()
		}
	})
	w.SetPadded(false)
	w.SetFullScreen(true)
	w.Show()
	return w
}
