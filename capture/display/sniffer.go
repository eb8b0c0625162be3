package display

import (
	"context"
	"time"

	"github.com/scanbox/scanbox/capture/serialport"
)

// Config is what the sniffer needs to know about the wiring.
type Config struct {
	// Port is the line from the POS: one end of a com0com pair whose other
	// end the POS writes to, or the tap of a Y-cable.
	Port serialport.Config
	// Forward, if not empty, is the port of the real display; it gets every
	// byte read from Port, unchanged, with Port's line settings. Leave it
	// empty with a Y-cable (the display is wired to the POS directly).
	Forward string
	// Profile picks the protocol; ProfileAuto detects it.
	Profile Profile
	// Width is the characters per line of a 2-line display (0: 20).
	Width int
	// Backoff between reopen attempts of either port.
	Backoff serialport.Backoff
	// Idle is the silence after which a screen drawn without a final
	// terminator is read (0: 100 ms).
	Idle time.Duration
}

// Sniffer reads the POS's customer-display line, forwards it and reports
// totals. Its callbacks run on the sniffer's goroutine, one at a time; they
// should return quickly (the forwarding waits for them).
type Sniffer struct {
	Config Config
	// OnTotal gets each total as the reporting rule lets it through.
	OnTotal func(Event)
	// OnStatus gets the state changes of the sniffed port and of the
	// forward port (Status.Port tells which).
	OnStatus func(serialport.Status)
	// OnProfile is called once auto detection has decided (optional).
	OnProfile func(Profile)
	// OnHint is called once if auto detection finds a display it must not
	// read by guessing (an LED-8 lamp dialect it cannot tell apart):
	// try lists the profiles to choose from in Settings, why is one
	// sentence for the log (optional). No total is reported meanwhile.
	OnHint func(try []Profile, why string)
	// OnData gets every chunk read, after forwarding (optional); support
	// uses it to record a capture for replay with --file. p is only valid
	// during the call.
	OnData func(p []byte)
}

// Run sniffs until ctx is cancelled and returns ctx.Err(), or a
// configuration error at once (bad port settings, unknown profile).
func (s *Sniffer) Run(ctx context.Context) error {
	parser, err := NewParser(s.Config.Profile, s.Config.Width)
	if err != nil {
		return err
	}
	if err := s.Config.Port.Validate(); err != nil {
		return err
	}
	var fwd *serialport.Writer
	if s.Config.Forward != "" {
		fc := s.Config.Port
		fc.Name = s.Config.Forward
		if err := fc.Validate(); err != nil {
			return err
		}
		fwd = &serialport.Writer{Config: fc, Backoff: s.Config.Backoff, Status: s.OnStatus}
		defer fwd.Close()
	}
	emit := func(e Event) {
		if s.OnTotal != nil {
			s.OnTotal(e)
		}
	}
	decided := parser.Profile() != ProfileAuto
	a, _ := parser.(*auto)
	hinted := a == nil
	afterFeed := func() {
		if !decided && parser.Profile() != ProfileAuto {
			decided = true
			if s.OnProfile != nil {
				s.OnProfile(parser.Profile())
			}
		}
		if !hinted {
			if try, why := a.Hint(); len(try) > 0 {
				hinted = true
				if s.OnHint != nil {
					s.OnHint(try, why)
				}
			}
		}
	}
	loop := &serialport.Loop{Config: s.Config.Port, Backoff: s.Config.Backoff, Idle: s.Config.Idle}
	return loop.Run(ctx, serialport.Handler{
		Data: func(p []byte) {
			// Forward first: the customer's display must not wait for
			// parsing, and a parser bug must not change what it shows.
			if fwd != nil {
				fwd.Write(p) // a missing display drops the bytes; reported via OnStatus
			}
			if s.OnData != nil {
				s.OnData(p)
			}
			parser.Feed(p, emit)
			afterFeed()
		},
		Idle: func() {
			parser.Flush(emit)
			afterFeed()
		},
		Status: s.OnStatus,
	})
}
