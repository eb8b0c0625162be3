package display_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/capture/display"
	"github.com/scanbox/scanbox/capture/serialport"
)

// The tray app's wiring: the sniffer feeds the current amount, the UI
// subscribes to it and checks freshness before charging.
func ExampleSniffer() {
	var current capture.Current
	s := &display.Sniffer{
		Config: display.Config{
			Port:    serialport.Config{Name: "COM11", Baud: 9600},
			Forward: "COM1",
			Profile: display.ProfileAuto,
		},
		OnTotal: func(e display.Event) {
			_ = current.Set(e.Reading(time.Now()))
		},
		OnStatus: func(st serialport.Status) {
			slog.Info("customer display line", "port", st.Port, "state", st.State.String())
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)

	updates, stop := current.Subscribe()
	defer stop()
	go func() {
		for r := range updates {
			_ = r.Describe(time.Now()) // "¥88.00 from the customer display, 0 s ago"
		}
	}()

	// At charge time:
	if r, err := current.Fresh(time.Now(), 2*time.Minute); err == nil {
		_ = r.Amount // charge it
	}
}
