package ui

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"fyne.io/fyne/v2"
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

	list     *widget.List
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
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	w.rowH = tmpl().MinSize().Height
	w.list = widget.NewList(func() int { return len(w.shown) }, tmpl, func(id widget.ListItemID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
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
	})
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
		container.NewHBox(copyBtn, exportBtn), w.filter)
	w.win.SetContent(container.NewBorder(top, w.status, nil, nil, w.list))
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
				added = true
			}
		}
		w.cursor = lines[len(lines)-1].Seq
	}
	if len(w.all) > logKeep {
		w.all = append([]LogLine(nil), w.all[len(w.all)-logKeep:]...)
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
	for _, l := range w.all {
		if w.matches(l) {
			w.shown = append(w.shown, l)
		}
	}
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
