package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"

	"github.com/scanbox/scanbox/receipt"
)

// SlipView draws a receipt preview (receipt.Slip.Preview) on a grid of
// printer columns: a Chinese character takes two columns, as on paper. A
// monospace label cannot do that (its font has no CJK glyphs, and the
// fallback's are not two Latin cells wide), so each character is placed.
type SlipView struct {
	lines []string
	box   *fyne.Container
	cell  fyne.Size // one printer column
}

// NewSlipView is an empty preview.
func NewSlipView() *SlipView {
	v := &SlipView{box: container0()}
	size := theme.TextSize()
	m := fyne.MeasureText("M", size, fyne.TextStyle{Monospace: true})
	v.cell = fyne.NewSize(m.Width, m.Height)
	return v
}

func container0() *fyne.Container { return &fyne.Container{} }

// Object is what to put in a layout.
func (v *SlipView) Object() fyne.CanvasObject { return v.box }

// Lines are the lines shown.
func (v *SlipView) Lines() []string { return v.lines }

// SetLines shows lines (nil clears).
func (v *SlipView) SetLines(lines []string) {
	v.lines = lines
	var objs []fyne.CanvasObject
	cols := 0
	// The paper: a white strip behind the text.
	paper := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	objs = append(objs, paper)
	for row, l := range lines {
		col := 0
		for _, r := range l {
			w := receipt.Width(string(r))
			if r != ' ' {
				t := canvas.NewText(string(r), theme.Color(theme.ColorNameForeground))
				t.TextStyle.Monospace = w == 1
				t.TextSize = theme.TextSize()
				x := float32(col)*v.cell.Width + v.cell.Width
				if w == 2 {
					// Fit the character into its two columns, centred.
					cw := fyne.MeasureText(string(r), t.TextSize, fyne.TextStyle{}).Width
					if cw > 2*v.cell.Width {
						t.TextSize *= 2 * v.cell.Width / cw
						cw = 2 * v.cell.Width
					}
					x += (2*v.cell.Width - cw) / 2
				}
				t.Move(fyne.NewPos(x, float32(row)*v.cell.Height+v.cell.Height/2))
				objs = append(objs, t)
			}
			col += w
		}
		cols = max(cols, col)
	}
	if len(lines) == 0 {
		objs = nil
	}
	size := fyne.NewSize(float32(max(cols, 48)+2)*v.cell.Width, float32(len(lines)+1)*v.cell.Height)
	paper.Resize(size)
	v.box.Objects = objs
	v.box.Layout = fixedSize{size}
	v.box.Refresh()
}

// fixedSize gives the preview its paper size and leaves the characters
// where SetLines put them.
type fixedSize struct{ s fyne.Size }

func (f fixedSize) Layout([]fyne.CanvasObject, fyne.Size) {}
func (f fixedSize) MinSize([]fyne.CanvasObject) fyne.Size { return f.s }
