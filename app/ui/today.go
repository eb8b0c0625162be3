package ui

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/scanbox/scanbox/money"
)

// TodayWindow shows the day's takings: totals per wallet, refunds and net
// in a table, and the paid amount by hour as a bar chart (a cashier or the
// owner sees the busy hours at a glance).
type TodayWindow struct {
	env  *Env
	ctrl TodayController
	win  fyne.Window

	heading *widget.Label
	table   *fyne.Container
	notes   *widget.Label
	chart   *BarChart
	peak    *widget.Label
	sum     DaySummary
}

// NewTodayWindow builds the window and loads today's summary.
func NewTodayWindow(env *Env, ctrl TodayController) *TodayWindow {
	w := &TodayWindow{env: env, ctrl: ctrl}
	w.win = env.App.NewWindow(T("today.title"))
	w.heading = widget.NewLabel("")
	w.heading.TextStyle.Bold = true
	w.table = container.NewGridWithColumns(5)
	w.notes = widget.NewLabel("")
	w.notes.Wrapping = fyne.TextWrapWord
	w.notes.Importance = widget.WarningImportance
	w.chart = NewBarChart()
	w.peak = widget.NewLabel("")
	hourly := widget.NewLabel(T("today.hourly"))
	hourly.TextStyle.Bold = true
	refresh := widget.NewButtonWithIcon(T("today.refresh"), theme.ViewRefreshIcon(), w.Reload)
	top := container.NewVBox(container.NewBorder(nil, nil, nil, refresh, w.heading), w.table, w.notes,
		widget.NewSeparator(), container.NewBorder(nil, nil, nil, w.peak, hourly))
	w.win.SetContent(container.NewBorder(top, nil, nil, nil, w.chart))
	w.win.Resize(fyne.NewSize(640, 560))
	w.Reload()
	return w
}

// Window is the fyne window.
func (w *TodayWindow) Window() fyne.Window { return w.win }

// Show shows the window.
func (w *TodayWindow) Show() { w.win.Show() }

// Chart is the hourly bar chart (for tests).
func (w *TodayWindow) Chart() *BarChart { return w.chart }

// Reload reads today's summary again.
func (w *TodayWindow) Reload() {
	now := w.env.Now()
	w.heading.SetText(Tf("today.heading", now.In(chinaTime).Format("2006-01-02")))
	w.env.Go(func() {
		s, err := w.ctrl.Summary(now)
		fyne.Do(func() { w.show(s, err) })
	})
}

func (w *TodayWindow) show(s DaySummary, err error) {
	if err != nil {
		w.table.Objects = nil
		w.table.Refresh()
		w.notes.SetText(errorMessage(err))
		return
	}
	w.sum = s
	w.table.Objects = summaryCells(s)
	w.table.Refresh()
	var notes []string
	if s.Total.PaidCount == 0 && s.Total.RefundCount == 0 {
		notes = append(notes, T("today.empty"))
	}
	if s.Total.Unresolved > 0 {
		notes = append(notes, Tf("today.unresolved", s.Total.Unresolved))
	}
	if s.Total.ChangeCount > 0 {
		notes = append(notes, Tf("today.change", s.Total.ChangeCount, s.Total.Change.Grouped()))
	}
	w.notes.SetText(joinLines(notes))
	w.chart.SetValues(s.Hourly)
	peak, at := money.Fen(0), 0
	for h, v := range s.Hourly {
		if v > peak {
			peak, at = v, h
		}
	}
	if peak > 0 {
		w.peak.SetText(Tf("today.max", peak.Grouped(), at))
	} else {
		w.peak.SetText("")
	}
}

// summaryCells are the cells of a 5-column summary table: a header row,
// one row per wallet, the total in bold.
func summaryCells(s DaySummary) []fyne.CanvasObject {
	cells := []fyne.CanvasObject{}
	head := func(k string) {
		l := widget.NewLabel(T(k))
		l.TextStyle.Bold = true
		cells = append(cells, l)
	}
	for _, k := range []string{"today.wallet", "today.count", "today.paid", "today.refunded", "today.net"} {
		head(k)
	}
	row := func(c ChannelSum, bold bool) {
		for _, t := range []string{channelLabel(c.Channel), fmt.Sprint(c.PaidCount), c.Paid.Grouped(),
			c.Refunded.Grouped(), c.Net.Grouped()} {
			l := widget.NewLabel(t)
			l.TextStyle.Bold = bold
			cells = append(cells, l)
		}
	}
	for _, c := range s.Channels {
		row(c, false)
	}
	tot := s.Total
	tot.Channel = ""
	row(tot, true)
	return cells
}

func joinLines(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "\n"
		}
		out += s
	}
	return out
}

// BarChart draws 24 bars, one per hour, scaled to the largest, with hour
// labels every three hours. Plain canvas rectangles: no chart library.
type BarChart struct {
	widget.BaseWidget
	values [24]money.Fen
	bars   [24]*canvas.Rectangle
	labels []*canvas.Text
	axis   *canvas.Line
}

// NewBarChart is an empty chart.
func NewBarChart() *BarChart {
	c := &BarChart{axis: canvas.NewLine(theme.Color(theme.ColorNameForeground))}
	for i := range c.bars {
		c.bars[i] = canvas.NewRectangle(theme.Color(theme.ColorNamePrimary))
	}
	for h := 0; h < 24; h += 3 {
		t := canvas.NewText(fmt.Sprintf("%02d", h), theme.Color(theme.ColorNameForeground))
		t.TextSize = theme.TextSize() * 0.85
		t.Alignment = fyne.TextAlignCenter
		c.labels = append(c.labels, t)
	}
	c.ExtendBaseWidget(c)
	return c
}

// SetValues sets the 24 hourly amounts and redraws.
func (c *BarChart) SetValues(v [24]money.Fen) {
	c.values = v
	c.Refresh()
}

// BarHeights are the bars' heights as drawn (for tests).
func (c *BarChart) BarHeights() [24]float32 {
	var out [24]float32
	for i, b := range c.bars {
		out[i] = b.Size().Height
	}
	return out
}

// CreateRenderer implements fyne.Widget.
func (c *BarChart) CreateRenderer() fyne.WidgetRenderer { return &barRenderer{c: c} }

type barRenderer struct{ c *BarChart }

func (r *barRenderer) Objects() []fyne.CanvasObject {
	objs := []fyne.CanvasObject{r.c.axis}
	for _, b := range r.c.bars {
		objs = append(objs, b)
	}
	for _, l := range r.c.labels {
		objs = append(objs, l)
	}
	return objs
}

func (r *barRenderer) MinSize() fyne.Size { return fyne.NewSize(24*12, 120) }

func (r *barRenderer) Destroy() {}

func (r *barRenderer) Refresh() {
	r.Layout(r.c.Size())
	for _, b := range r.c.bars {
		b.FillColor = barColor()
		b.Refresh()
	}
	canvas.Refresh(r.c)
}

func barColor() color.Color { return theme.Color(theme.ColorNamePrimary) }

// Layout scales the bars: the largest hour fills the plot's height, the
// others in proportion; an hour without takings has no bar.
func (r *barRenderer) Layout(size fyne.Size) {
	labelH := theme.TextSize() * 1.4
	plotH := size.Height - labelH
	if plotH < 0 {
		plotH = 0
	}
	slot := size.Width / 24
	var peak money.Fen
	for _, v := range r.c.values {
		peak = max(peak, v)
	}
	for i, b := range r.c.bars {
		var h float32
		if peak > 0 && r.c.values[i] > 0 {
			h = float32(float64(plotH) * float64(r.c.values[i]) / float64(peak))
			h = max(h, 1) // a small hour still shows
		}
		b.Resize(fyne.NewSize(slot*0.7, h))
		b.Move(fyne.NewPos(slot*float32(i)+slot*0.15, plotH-h))
	}
	r.c.axis.Position1 = fyne.NewPos(0, plotH)
	r.c.axis.Position2 = fyne.NewPos(size.Width, plotH)
	for j, l := range r.c.labels {
		h := j * 3
		l.Resize(fyne.NewSize(slot*2, labelH))
		l.Move(fyne.NewPos(slot*float32(h)+slot/2-slot, plotH+2))
	}
}
