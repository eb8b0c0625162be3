package ui

import (
	"fmt"
	"image/color"
	"io"
	"log/slog"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// logKeep is how many lines the window holds; the ring and the files keep
// more, and Export takes the files.
const logKeep = 5000

// LogsWindow follows the log ring live for support staff. It scrolls with
// new lines only when the reader is already at the bottom, so that reading
// an old line is not interrupted.
type LogsWindow struct {
	env *Env
	win fyne.Window

	list *widget.List
	// Long lines are shown whole: the rows pan together under a horizontal
	// scroll bar (hbar, as wide as the widest line shown), and the line
	// selected is shown in full, wrapped and selectable, under the list.
	hbar     *container.Scroll
	hspan    *canvas.Rectangle
	hOff     float32
	widths   map[uint64]float32 // each line's width, by Seq
	advance  map[rune]float32   // each character's width
	maxW     float32
	detail   *widget.Label
	copyLine *widget.Button
	selected int
	filter   *widget.Entry
	level    *widget.Select
	status   *widget.Label
	rowH     float32
	all      []LogLine
	shown    []LogLine
	cursor   uint64
	minLevel slog.Level
	unsub    func()
	// exportDlg is the open save dialog of the support zip (for tests).
	exportDlg *ExportDialog
}

var levelChoices = []string{"DEBUG", "INFO", "WARN", "ERROR"}

// NewLogsWindow builds the window and starts following.
func NewLogsWindow(env *Env) *LogsWindow {
	w := &LogsWindow{env: env, minLevel: slog.LevelInfo}
	w.win = env.App.NewWindow(T("logs.title"))
	tmpl := func() fyne.CanvasObject {
		l := widget.NewLabel("15:04:05.000 ERROR x")
		l.TextStyle.Monospace = true
		return container.New(panLayout{w}, l)
	}
	w.rowH = tmpl().MinSize().Height
	w.widths = map[uint64]float32{}
	w.advance = map[rune]float32{}
	w.selected = -1
	w.list = widget.NewList(func() int { return len(w.shown) }, tmpl, func(id widget.ListItemID, o fyne.CanvasObject) {
		row := o.(*fyne.Container)
		l := row.Objects[0].(*widget.Label)
		if id >= len(w.shown) {
			return
		}
		line := w.shown[id]
		l.Importance = widget.MediumImportance
		switch {
		case line.Level >= slog.LevelError:
			l.Importance = widget.DangerImportance
		case line.Level >= slog.LevelWarn:
			l.Importance = widget.WarningImportance
		}
		l.SetText(formatLog(line))
		row.Refresh()
	})
	w.hspan = canvas.NewRectangle(color.Transparent)
	w.hbar = container.NewHScroll(w.hspan)
	w.hbar.OnScrolled = func(p fyne.Position) {
		if p.X != w.hOff {
			w.hOff = p.X
			w.list.Refresh()
		}
	}
	w.detail = widget.NewLabel("")
	w.detail.TextStyle.Monospace = true
	w.detail.Wrapping = fyne.TextWrapWord
	w.detail.Selectable = true
	w.detail.Hide()
	w.copyLine = widget.NewButtonWithIcon(T("logs.copy_line"), theme.ContentCopyIcon(), func() {
		if w.selected >= 0 && w.selected < len(w.shown) {
			w.env.App.Clipboard().SetContent(formatLog(w.shown[w.selected]))
		}
	})
	w.copyLine.Disable()
	w.list.OnSelected = func(id widget.ListItemID) { w.selectLine(id) }
	w.list.OnUnselected = func(widget.ListItemID) { w.selectLine(-1) }
	w.filter = widget.NewEntry()
	w.filter.SetPlaceHolder(T("logs.filter"))
	w.filter.OnChanged = func(string) { w.refilter() }
	w.level = widget.NewSelect(levelChoices, func(s string) {
		var l slog.Level
		if l.UnmarshalText([]byte(s)) == nil {
			w.minLevel = l
		}
		w.refilter()
	})
	w.level.SetSelected("INFO")
	w.status = widget.NewLabel("")
	copyBtn := widget.NewButtonWithIcon(T("logs.copy"), theme.ContentCopyIcon(), w.copyShown)
	exportBtn := widget.NewButtonWithIcon(T("logs.export"), theme.DocumentSaveIcon(), w.askExport)
	top := container.NewBorder(nil, nil, container.NewHBox(widget.NewLabel(T("logs.level")), w.level),
		container.NewHBox(copyBtn, w.copyLine, exportBtn), w.filter)
	bottom := container.NewVBox(w.hbar, w.detail, w.status)
	w.win.SetContent(container.NewBorder(top, bottom, nil, nil, w.list))
	w.win.Resize(fyne.NewSize(900, 560))
	w.unsub = env.Ctrl.OnLog(func(struct{}) { fyne.Do(w.pull) })
	w.win.SetOnClosed(func() { w.unsub() })
	w.pull()
	w.list.ScrollToBottom()
	return w
}

// Window is the fyne window.
func (w *LogsWindow) Window() fyne.Window { return w.win }

// Show shows the window.
func (w *LogsWindow) Show() { w.win.Show() }

// panLayout places a row's label at the horizontal scroll offset, at its
// full width; the list clips what is outside the view.
type panLayout struct{ w *LogsWindow }

func (p panLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(-p.w.hOff, 0))
		o.Resize(fyne.NewSize(max(o.MinSize().Width, size.Width+p.w.hOff), size.Height))
	}
}

func (p panLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(0, h)
}

// lineWidth is how wide a line's row must be to show it whole: the sum of
// its characters' advances (each character measured once; shaping a whole
// line per line made opening the view on a full ring 3× slower), a margin
// for kerning, and the label's and the list's padding.
func (w *LogsWindow) lineWidth(l LogLine) float32 {
	if v, ok := w.widths[l.Seq]; ok {
		return v
	}
	th := w.list.Theme()
	size := th.Size(theme.SizeNameText)
	text := float32(0)
	for _, r := range formatLog(l) {
		a, ok := w.advance[r]
		if !ok {
			a = fyne.MeasureText(string(r), size, fyne.TextStyle{Monospace: true}).Width
			w.advance[r] = a
		}
		text += a
	}
	v := text*1.01 + 2*th.Size(theme.SizeNameInnerPadding) + 2*th.Size(theme.SizeNamePadding)
	w.widths[l.Seq] = v
	return v
}

// widen makes the horizontal scroll bar as wide as the widest line shown.
func (w *LogsWindow) widen(width float32) {
	if width > w.maxW {
		w.setWidth(width)
	}
}

func (w *LogsWindow) setWidth(width float32) {
	w.maxW = width
	min := fyne.NewSize(width, theme.Size(theme.SizeNameScrollBar))
	w.hspan.SetMinSize(min)
	w.hspan.Resize(min.Max(w.hbar.Size())) // the bar lays its content out only when resized itself
	w.hbar.Refresh()
	if w.hbar.Offset.X != w.hOff { // the bar clamped its offset
		w.hOff = w.hbar.Offset.X
		w.list.Refresh()
	}
}

// selectLine shows the selected line in full under the list.
func (w *LogsWindow) selectLine(id int) {
	w.selected = id
	if id < 0 || id >= len(w.shown) {
		w.selected = -1
		w.detail.SetText("")
		w.detail.Hide()
		w.copyLine.Disable()
		return
	}
	w.detail.SetText(formatLog(w.shown[id]))
	w.detail.Show()
	w.copyLine.Enable()
}

func formatLog(l LogLine) string {
	return fmt.Sprintf("%s %-5s %s", l.Time.Local().Format("01-02 15:04:05.000"), l.Level.String(), l.Text)
}

func (w *LogsWindow) matches(l LogLine) bool {
	if l.Level < w.minLevel {
		return false
	}
	f := strings.ToLower(strings.TrimSpace(w.filter.Text))
	return f == "" || strings.Contains(strings.ToLower(l.Text), f)
}

// atBottom reports whether the last line is in view (or everything fits).
func (w *LogsWindow) atBottom() bool {
	pad := theme.Padding()
	content := (w.rowH+pad)*float32(len(w.shown)) - pad
	view := w.list.Size().Height
	return content <= view || w.list.GetScrollOffset()+view >= content-w.rowH/2
}

// pull reads the lines that arrived since the cursor.
func (w *LogsWindow) pull() {
	follow := w.atBottom()
	added := false
	for {
		lines := w.env.Ctrl.Logs(w.cursor, 500)
		if len(lines) == 0 {
			break
		}
		for _, l := range lines {
			w.all = append(w.all, l)
			if w.matches(l) {
				w.shown = append(w.shown, l)
				w.widen(w.lineWidth(l))
				added = true
			}
		}
		w.cursor = lines[len(lines)-1].Seq
	}
	if len(w.all) > logKeep {
		w.all = append([]LogLine(nil), w.all[len(w.all)-logKeep:]...)
		for seq := range w.widths {
			if seq < w.all[0].Seq {
				delete(w.widths, seq)
			}
		}
		w.refilter()
		return
	}
	if !added {
		return
	}
	w.list.Refresh()
	if follow {
		w.list.ScrollToBottom()
	}
}

func (w *LogsWindow) refilter() {
	if w.list == nil {
		return
	}
	w.shown = w.shown[:0]
	widest := float32(0)
	for _, l := range w.all {
		if w.matches(l) {
			w.shown = append(w.shown, l)
			widest = max(widest, w.lineWidth(l))
		}
	}
	w.setWidth(widest)
	w.list.UnselectAll()
	w.list.Refresh()
	w.list.ScrollToBottom()
}

func (w *LogsWindow) shownText() string {
	var b strings.Builder
	for _, l := range w.shown {
		b.WriteString(formatLog(l))
		b.WriteByte('\n')
	}
	return b.String()
}

func (w *LogsWindow) copyShown() {
	w.env.App.Clipboard().SetContent(w.shownText())
}

func (w *LogsWindow) askExport() {
	w.exportDlg = newExportDialog(w.win, "scanbox-support-"+w.env.Now().Format("20060102-150405")+".zip",
		w.export, func(err error) { w.status.SetText(err.Error()) })
	w.exportDlg.Show()
}

// export writes the support zip off the UI thread and closes wc.
func (w *LogsWindow) export(wc io.WriteCloser, name string) {
	w.env.Go(func() {
		err := w.env.Ctrl.ExportSupport(wc)
		if cerr := wc.Close(); err == nil {
			err = cerr
		}
		fyne.Do(func() {
			if err != nil {
				w.status.SetText(errorMessage(err))
				return
			}
			w.status.SetText(Tf("logs.exported", name))
		})
	})
}
