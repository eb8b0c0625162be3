package ui

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func TestLogsWindowFollows(t *testing.T) {
	env, f, clk := newTestEnv(t)
	for i := range 3 {
		f.addLog(LogLine{Time: clk.now, Level: slog.LevelInfo, Text: fmt.Sprintf("startup %d", i)})
	}
	w := NewLogsWindow(env)
	w.Show()
	w.win.Resize(fyne.NewSize(600, 300))
	if len(w.shown) != 3 {
		t.Fatalf("shown %d lines, want 3", len(w.shown))
	}
	// New lines arrive and the view follows them to the bottom.
	for i := range 100 {
		f.addLog(LogLine{Time: clk.now, Level: slog.LevelInfo, Text: fmt.Sprintf("order_no=SB%03d state=paid", i)})
	}
	if len(w.shown) != 103 {
		t.Fatalf("shown %d lines, want 103", len(w.shown))
	}
	if !w.atBottom() || w.list.GetScrollOffset() == 0 {
		t.Fatalf("not following: offset %v", w.list.GetScrollOffset())
	}
	// The reader scrolls up: new lines no longer move the view.
	w.list.ScrollToTop()
	f.addLog(LogLine{Time: clk.now, Level: slog.LevelWarn, Text: "bank slow"})
	if w.list.GetScrollOffset() != 0 {
		t.Errorf("the view jumped to %v while the reader was above", w.list.GetScrollOffset())
	}
	if len(w.shown) != 104 {
		t.Errorf("the new line was not added")
	}
	// Back at the bottom, it follows again.
	w.list.ScrollToBottom()
	f.addLog(LogLine{Time: clk.now, Level: slog.LevelError, Text: "last"})
	if !w.atBottom() {
		t.Error("not following after returning to the bottom")
	}

	// Filters: level and text.
	w.level.SetSelected("WARN")
	if len(w.shown) != 2 {
		t.Errorf("WARN filter shows %d, want 2", len(w.shown))
	}
	w.level.SetSelected("DEBUG")
	test.Type(w.filter, "SB04")
	if len(w.shown) != 10 {
		t.Errorf("text filter shows %d, want 10", len(w.shown))
	}
	// Debug lines are hidden at INFO.
	w.level.SetSelected("INFO")
	f.addLog(LogLine{Time: clk.now, Level: slog.LevelDebug, Text: "SB04 poll"})
	if len(w.shown) != 10 {
		t.Errorf("a debug line showed at INFO")
	}
	// Copy takes what is shown.
	w.copyShown()
	if got := env.App.Clipboard().Content(); strings.Count(got, "\n") != 10 || !strings.Contains(got, "order_no=SB049") {
		t.Errorf("clipboard %q", got)
	}
}

type closeBuf struct {
	bytes.Buffer
	closed bool
}

func (c *closeBuf) Close() error { c.closed = true; return nil }

func TestLogsExport(t *testing.T) {
	env, f, _ := newTestEnv(t)
	w := NewLogsWindow(env)
	var buf closeBuf
	w.export(&buf, "/tmp/x.zip")
	if f.exported != 1 || !buf.closed || buf.String() != "PK-zip" {
		t.Errorf("exported %d closed %v %q", f.exported, buf.closed, buf.String())
	}
	if w.status.Text != "已导出到 /tmp/x.zip" {
		t.Errorf("status %q", w.status.Text)
	}
}
