package ui

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

// BenchmarkLogsOpen2048 opens the log view on a full ring (2,048 lines,
// logging.DefaultRingSize) of typical lines: each is measured once for the
// horizontal scroll bar. Compare with -run x -bench LogsOpen before/after.
func BenchmarkLogsOpen2048(b *testing.B) {
	a := test.NewTempApp(b)
	a.Settings().SetTheme(NewTheme())
	f := newFake()
	for i := range 2048 {
		f.logs = append(f.logs, LogLine{Seq: uint64(i + 1), Time: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC), Level: slog.LevelInfo,
			Text: fmt.Sprintf("bank call owner=tray endpoint=/pay/query out_trade_no=SB2612020343%06dXLHBVH elapsed_ms=0 result=SUCCESS trade_state=USERPAYING", i)})
	}
	env := &Env{App: a, Ctrl: f, Now: time.Now, Go: func(fn func()) { fn() }, Every: func(time.Duration, func()) func() { return func() {} }}
	b.ResetTimer()
	for range b.N {
		w := NewLogsWindow(env)
		w.win.Close()
	}
}
