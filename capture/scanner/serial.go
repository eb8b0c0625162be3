package scanner

import (
	"context"
	"time"

	"github.com/scanbox/scanbox/capture/serialport"
)

// Serial reads codes from a scanner on a (virtual) COM port, reopening it
// when it is unplugged and plugged back. Callbacks run on Run's goroutine.
type Serial struct {
	Port    serialport.Config
	Backoff serialport.Backoff
	MaxLen  int           // 0: DefaultMaxLen
	Idle    time.Duration // silence that drops a partial line (0: 500 ms)

	OnCode   func(code string)
	OnReject func(err error) // optional: refused lines (never the text)
	OnStatus func(serialport.Status)
}

// Run reads until ctx is cancelled and returns ctx.Err(), or a
// configuration error at once.
func (s *Serial) Run(ctx context.Context) error {
	lines := &Lines{MaxLen: s.MaxLen}
	code := func(c string) {
		if s.OnCode != nil {
			s.OnCode(c)
		}
	}
	reject := func(err error) {
		if s.OnReject != nil {
			s.OnReject(err)
		}
	}
	idle := s.Idle
	if idle <= 0 {
		// A scanner sends a whole code within a few ms; half a second of
		// silence mid-line means the rest is not coming.
		idle = 500 * time.Millisecond
	}
	loop := &serialport.Loop{Config: s.Port, Backoff: s.Backoff, Idle: idle}
	return loop.Run(ctx, serialport.Handler{
		Data:   func(p []byte) { lines.Feed(p, code, reject) },
		Idle:   func() { lines.Idle(reject) },
		Status: s.OnStatus,
	})
}
