// Package serialport keeps one serial line open for the capture sources (the
// customer-display sniffer and the serial scanner): typed line settings with
// round-trip names, and a loop that reopens the port when a USB adapter is
// pulled and plugged back, reporting each state change.
//
// It knows nothing of what the bytes mean, and it must never block a caller's
// shutdown: cancelling the context closes the port, which wakes the reader.
package serialport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"go.bug.st/serial"
)

// Parity of the serial line.
type Parity int

// Parities, in go.bug.st/serial order.
const (
	ParityNone Parity = iota
	ParityOdd
	ParityEven
	ParityMark
	ParitySpace
)

var parityNames = []string{"none", "odd", "even", "mark", "space"}

func (p Parity) String() string {
	if p >= 0 && int(p) < len(parityNames) {
		return parityNames[p]
	}
	return "parity(" + strconv.Itoa(int(p)) + ")"
}

// ParseParity accepts the names String returns (any case) and their first
// letters (N, O, E, M, S) as in "9600 8N1".
func ParseParity(s string) (Parity, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, n := range parityNames {
		if t == n || t == n[:1] {
			return Parity(i), nil
		}
	}
	return 0, fmt.Errorf("serialport: unknown parity %q (use none, odd, even, mark or space)", s)
}

// StopBits of the serial line.
type StopBits int

// Stop bit settings, in go.bug.st/serial order.
const (
	StopOne StopBits = iota
	StopOnePointFive
	StopTwo
)

var stopNames = []string{"1", "1.5", "2"}

func (s StopBits) String() string {
	if s >= 0 && int(s) < len(stopNames) {
		return stopNames[s]
	}
	return "stopbits(" + strconv.Itoa(int(s)) + ")"
}

// ParseStopBits accepts "1", "1.5" and "2".
func ParseStopBits(s string) (StopBits, error) {
	t := strings.TrimSpace(s)
	for i, n := range stopNames {
		if t == n {
			return StopBits(i), nil
		}
	}
	return 0, fmt.Errorf("serialport: unknown stop bits %q (use 1, 1.5 or 2)", s)
}

// Config names a port and its line settings. The zero values of DataBits and
// Baud mean the usual 8 data bits and 9600 baud.
type Config struct {
	Name     string // COM3, /dev/ttyUSB0, a pty path
	Baud     int
	DataBits int // 5..8
	Parity   Parity
	StopBits StopBits
}

// Normalized fills in defaults.
func (c Config) Normalized() Config {
	if c.Baud == 0 {
		c.Baud = 9600
	}
	if c.DataBits == 0 {
		c.DataBits = 8
	}
	return c
}

// Validate reports a configuration that can never open, so that it is a
// configuration error up front rather than an endless retry.
func (c Config) Validate() error {
	c = c.Normalized()
	switch {
	case strings.TrimSpace(c.Name) == "":
		return errors.New("serialport: no port name")
	case c.Baud < 50 || c.Baud > 4_000_000:
		return fmt.Errorf("serialport: baud %d is out of range", c.Baud)
	case c.DataBits < 5 || c.DataBits > 8:
		return fmt.Errorf("serialport: %d data bits (use 5 to 8)", c.DataBits)
	case c.Parity < ParityNone || c.Parity > ParitySpace:
		return fmt.Errorf("serialport: invalid parity %v", c.Parity)
	case c.StopBits < StopOne || c.StopBits > StopTwo:
		return fmt.Errorf("serialport: invalid stop bits %v", c.StopBits)
	}
	return nil
}

// String is the settings in the usual notation: "COM3 9600 8N1".
func (c Config) String() string {
	c = c.Normalized()
	return fmt.Sprintf("%s %d %d%s%s", c.Name, c.Baud, c.DataBits, strings.ToUpper(c.Parity.String()[:1]), c.StopBits)
}

func (c Config) mode() *serial.Mode {
	c = c.Normalized()
	return &serial.Mode{
		BaudRate: c.Baud,
		DataBits: c.DataBits,
		Parity:   serial.Parity(c.Parity),
		StopBits: serial.StopBits(c.StopBits),
	}
}

// ErrMissing means the port does not exist (yet): an unplugged USB adapter,
// a com0com pair not installed, a pty whose other end has not started.
var ErrMissing = errors.New("serialport: port not present")

// Open opens the port with its settings. A port that does not exist yields
// an error wrapping ErrMissing.
func Open(c Config) (serial.Port, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	p, err := serial.Open(c.Name, c.mode())
	if err != nil {
		if isMissing(err) {
			return nil, fmt.Errorf("serialport: open %s: %w", c.Name, ErrMissing)
		}
		return nil, fmt.Errorf("serialport: open %s: %w", c.Name, err)
	}
	return p, nil
}

func isMissing(err error) bool {
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.PortNotFound {
		return true
	}
	return errors.Is(err, fs.ErrNotExist)
}

// State of a kept-open port.
type State int

// Port states reported to the UI.
const (
	StateOpen    State = iota + 1 // open and being read
	StateMissing                  // not present; retrying
	StateError                    // present but failing (busy, permission, settings); retrying
	StateClosed                   // stopped because the context was cancelled
)

var stateNames = map[State]string{StateOpen: "open", StateMissing: "missing", StateError: "error", StateClosed: "closed"}

func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// ParseState is the inverse of State.String.
func ParseState(s string) (State, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for st, n := range stateNames {
		if n == t {
			return st, nil
		}
	}
	return 0, fmt.Errorf("serialport: unknown state %q", s)
}

// Status is one state change of one port.
type Status struct {
	Port  string
	State State
	Err   error // why it is missing or failing; nil when open or closed
}

func (s Status) String() string {
	if s.Err != nil {
		return fmt.Sprintf("%s %s: %v", s.Port, s.State, s.Err)
	}
	return fmt.Sprintf("%s %s", s.Port, s.State)
}

// Backoff is the wait between reopen attempts: Min after the first failure,
// doubling up to Max. Zero values mean 200 ms and 5 s.
type Backoff struct {
	Min, Max time.Duration
}

func (b Backoff) next(cur time.Duration) time.Duration {
	if b.Min <= 0 {
		b.Min = 200 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 5 * time.Second
	}
	if cur < b.Min {
		return b.Min
	}
	cur *= 2
	if cur > b.Max {
		return b.Max
	}
	return cur
}

// Handler receives what a kept-open port reads.
type Handler struct {
	// Data gets each chunk read, in order; p is only valid during the call.
	Data func(p []byte)
	// Idle is called after the line has been silent for Loop.Idle following
	// some data, once per silence. Parsers use it to settle a screen that the
	// sender finished drawing without a terminator.
	Idle func()
	// Status gets every state change (not repeats of the same state+error).
	Status func(Status)
}

// Loop keeps a port open and read until its context is cancelled.
type Loop struct {
	Config  Config
	Backoff Backoff
	Idle    time.Duration // silence that counts as idle; 0 means 100 ms
	// open is replaceable in tests; nil means Open.
	open func(Config) (serial.Port, error)
}

// Run reads the port until ctx is cancelled, reopening it whenever it fails
// or disappears. It returns ctx.Err() on cancellation, or a configuration
// error at once if the settings can never work.
func (l *Loop) Run(ctx context.Context, h Handler) error {
	if err := l.Config.Validate(); err != nil {
		return err
	}
	open := l.open
	if open == nil {
		open = Open
	}
	idle := l.Idle
	if idle <= 0 {
		idle = 100 * time.Millisecond
	}
	var last Status
	report := func(st State, err error) {
		s := Status{Port: l.Config.Name, State: st, Err: err}
		if s.State == last.State && errString(s.Err) == errString(last.Err) {
			return
		}
		last = s
		if h.Status != nil {
			h.Status(s)
		}
	}
	defer report(StateClosed, nil)
	var wait time.Duration
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p, err := open(l.Config)
		if err != nil {
			if errors.Is(err, ErrMissing) {
				report(StateMissing, err)
			} else {
				report(StateError, err)
			}
			wait = l.Backoff.next(wait)
			if !sleep(ctx, wait) {
				return ctx.Err()
			}
			continue
		}
		wait = 0
		report(StateOpen, nil)
		err = readPort(ctx, p, idle, h)
		p.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The port failed under us (unplugged, pty closed): say so, then go
		// round to reopen it; the open attempt tells missing from broken.
		report(StateError, fmt.Errorf("serialport: read %s: %w", l.Config.Name, err))
		wait = l.Backoff.next(wait)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

var errEmptyReads = errors.New("serialport: the port returns no data without waiting")

// readPort reads until an error. Cancelling ctx closes the port, which makes
// the blocked Read return, so shutdown never waits for a byte to arrive.
func readPort(ctx context.Context, p serial.Port, idle time.Duration, h Handler) error {
	stop := context.AfterFunc(ctx, func() { p.Close() })
	defer stop()
	if err := p.SetReadTimeout(idle); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	dirty := false
	empty := 0 // reads in a row that returned nothing without waiting
	for {
		start := time.Now()
		n, err := p.Read(buf)
		if n > 0 {
			dirty = true
			empty = 0
			if h.Data != nil {
				h.Data(buf[:n])
			}
		}
		if err != nil {
			return err
		}
		if n == 0 && time.Since(start) < idle/4 {
			// A driver whose device is gone may return "nothing" at once
			// instead of an error; do not spin on it, reopen instead.
			if empty++; empty >= 100 {
				return errEmptyReads
			}
		} else if n == 0 {
			empty = 0
		}
		if n == 0 && dirty {
			// A read timeout: the line has been quiet for idle.
			dirty = false
			if h.Idle != nil {
				h.Idle()
			}
		}
	}
}

// Writer writes to a port that may come and go, such as the real customer
// display behind the sniffer. A write while the port is missing is dropped
// (the display is not there to show it) and the port is reopened with
// backoff on a later write, so that a dead display never stalls the reader.
type Writer struct {
	Config  Config
	Backoff Backoff
	Status  func(Status)

	open     func(Config) (serial.Port, error)
	now      func() time.Time
	port     serial.Port
	wait     time.Duration
	retryAt  time.Time
	last     Status
	reported bool
}

// Write forwards p unchanged. It returns an error only to say the bytes were
// dropped; the caller goes on either way.
func (w *Writer) Write(p []byte) (int, error) {
	now := time.Now
	if w.now != nil {
		now = w.now
	}
	if w.port == nil {
		if now().Before(w.retryAt) {
			return 0, fmt.Errorf("serialport: %s not open; %d bytes dropped", w.Config.Name, len(p))
		}
		open := w.open
		if open == nil {
			open = Open
		}
		port, err := open(w.Config)
		if err != nil {
			w.fail(now(), err)
			return 0, err
		}
		w.port, w.wait = port, 0
		w.report(Status{Port: w.Config.Name, State: StateOpen})
	}
	n, err := w.port.Write(p)
	if err == nil && n < len(p) {
		err = fmt.Errorf("serialport: short write to %s (%d of %d)", w.Config.Name, n, len(p))
	}
	if err != nil {
		w.port.Close()
		w.port = nil
		w.fail(now(), err)
	}
	return n, err
}

func (w *Writer) fail(now time.Time, err error) {
	w.wait = w.Backoff.next(w.wait)
	w.retryAt = now.Add(w.wait)
	st := StateError
	if errors.Is(err, ErrMissing) {
		st = StateMissing
	}
	w.report(Status{Port: w.Config.Name, State: st, Err: err})
}

func (w *Writer) report(s Status) {
	if w.reported && s.State == w.last.State && errString(s.Err) == errString(w.last.Err) {
		return
	}
	w.last, w.reported = s, true
	if w.Status != nil {
		w.Status(s)
	}
}

// Close closes the port if it is open.
func (w *Writer) Close() error {
	if w.port == nil {
		return nil
	}
	err := w.port.Close()
	w.port = nil
	return err
}
