package serialport

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture/internal/ptypair"
	"go.bug.st/serial"
)

func TestParityRoundTrip(t *testing.T) {
	for p := ParityNone; p <= ParitySpace; p++ {
		got, err := ParseParity(p.String())
		if err != nil || got != p {
			t.Errorf("ParseParity(%q) = %v, %v", p.String(), got, err)
		}
	}
	for in, want := range map[string]Parity{"N": ParityNone, "o": ParityOdd, "EVEN": ParityEven, "m": ParityMark, "Space": ParitySpace} {
		if got, err := ParseParity(in); err != nil || got != want {
			t.Errorf("ParseParity(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseParity("x"); err == nil {
		t.Error("ParseParity(x) succeeded")
	}
}

func TestStopBitsAndStateRoundTrip(t *testing.T) {
	for s := StopOne; s <= StopTwo; s++ {
		if got, err := ParseStopBits(s.String()); err != nil || got != s {
			t.Errorf("ParseStopBits(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseStopBits("3"); err == nil {
		t.Error("ParseStopBits(3) succeeded")
	}
	for s := StateOpen; s <= StateClosed; s++ {
		if got, err := ParseState(s.String()); err != nil || got != s {
			t.Errorf("ParseState(%q) = %v, %v", s.String(), got, err)
		}
	}
}

func TestConfig(t *testing.T) {
	c := Config{Name: "COM3"}
	if c.String() != "COM3 9600 8N1" {
		t.Errorf("String = %q", c.String())
	}
	c = Config{Name: "COM4", Baud: 2400, DataBits: 7, Parity: ParityEven, StopBits: StopTwo}
	if c.String() != "COM4 2400 7E2" {
		t.Errorf("String = %q", c.String())
	}
	m := c.mode()
	if m.BaudRate != 2400 || m.DataBits != 7 || m.Parity != serial.EvenParity || m.StopBits != serial.TwoStopBits {
		t.Errorf("mode = %+v", m)
	}
	for _, bad := range []Config{{}, {Name: "x", Baud: 10}, {Name: "x", DataBits: 9}, {Name: "x", Parity: 7}, {Name: "x", StopBits: 5}} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	var got []time.Duration
	var d time.Duration
	for i := 0; i < 5; i++ {
		d = b.next(d)
		got = append(got, d)
	}
	want := []time.Duration{10, 20, 40, 50, 50}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoff = %v", got)
		}
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(Config{Name: t.TempDir() + "/nope"})
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("err = %v, want ErrMissing", err)
	}
}

// recorder collects what a Loop reports, and lets a test wait for it.
type recorder struct {
	mu     sync.Mutex
	data   bytes.Buffer
	states []State
	wake   chan struct{}
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{}, 1)} }

func (r *recorder) handler() Handler {
	return Handler{
		Data:   func(p []byte) { r.mu.Lock(); r.data.Write(p); r.mu.Unlock(); r.poke() },
		Status: func(s Status) { r.mu.Lock(); r.states = append(r.states, s.State); r.mu.Unlock(); r.poke() },
	}
}

func (r *recorder) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// waitFor blocks until cond holds; the 10 s is a hang guard, not a speed check.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	guard := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.wake:
		case <-guard:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("gave up waiting for %s; data %q, states %v", what, r.data.String(), r.states)
		}
	}
}

func writeTo(t *testing.T, path string, b []byte) {
	t.Helper()
	p, err := Open(Config{Name: path})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := p.Drain(); err != nil {
		t.Fatal(err)
	}
}

func lastState(states []State) State {
	if len(states) == 0 {
		return 0
	}
	return states[len(states)-1]
}

// TestLoopReopensAfterUnplug pulls the pty pair away while the loop reads it
// and brings it back: the loop must report missing, then open, and read the
// bytes sent after the comeback without being restarted.
func TestLoopReopensAfterUnplug(t *testing.T) {
	pair := ptypair.Start(t, t.TempDir(), "unplug")
	loop := &Loop{Config: Config{Name: pair.A, Baud: 2400}, Backoff: Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}}
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx, rec.handler()) }()

	rec.waitFor(t, "open", func() bool { return lastState(rec.states) == StateOpen })
	writeTo(t, pair.B, []byte("before"))
	rec.waitFor(t, "first bytes", func() bool { return rec.data.String() == "before" })

	pair.Stop()
	rec.waitFor(t, "missing", func() bool { return lastState(rec.states) == StateMissing })

	pair.Restart()
	rec.waitFor(t, "reopen", func() bool { return lastState(rec.states) == StateOpen })
	writeTo(t, pair.B, []byte("|after"))
	rec.waitFor(t, "bytes after reopen", func() bool { return rec.data.String() == "before|after" })

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// Open first, then only error/missing while unplugged (how many depends
	// on how socat tears down), at least one missing, then open and closed.
	st := rec.states
	if len(st) < 4 || st[0] != StateOpen || st[len(st)-2] != StateOpen || st[len(st)-1] != StateClosed {
		t.Fatalf("states = %v", st)
	}
	sawMissing := false
	for _, s := range st[1 : len(st)-2] {
		if s != StateError && s != StateMissing {
			t.Fatalf("states = %v: %v while unplugged", st, s)
		}
		sawMissing = sawMissing || s == StateMissing
	}
	if !sawMissing {
		t.Fatalf("states = %v: never reported missing", st)
	}
}

func TestLoopStartsMissing(t *testing.T) {
	dir := t.TempDir()
	loop := &Loop{Config: Config{Name: dir + "/late-a"}, Backoff: Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}}
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx, rec.handler()) }()
	rec.waitFor(t, "missing", func() bool { return lastState(rec.states) == StateMissing })
	pair := ptypair.Start(t, dir, "late")
	rec.waitFor(t, "open", func() bool { return lastState(rec.states) == StateOpen })
	writeTo(t, pair.B, []byte("hi"))
	rec.waitFor(t, "data", func() bool { return rec.data.String() == "hi" })
	cancel()
	<-done
}

func TestLoopRefusesBadConfig(t *testing.T) {
	err := (&Loop{Config: Config{Name: "x", DataBits: 9}}).Run(context.Background(), Handler{})
	if err == nil {
		t.Fatal("Run accepted 9 data bits")
	}
}

func TestWriterDropsWhileMissingAndRecovers(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1000, 0)
	var states []State
	w := &Writer{Config: Config{Name: dir + "/disp-a"}, Backoff: Backoff{Min: time.Second, Max: time.Second},
		Status: func(s Status) { states = append(states, s.State) }, now: func() time.Time { return now }}
	defer w.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrMissing) {
		t.Fatalf("write to missing port: %v", err)
	}
	pair := ptypair.Start(t, dir, "disp")
	// Within the backoff the writer does not even try: the reader must not
	// pay for an open attempt on every chunk.
	if _, err := w.Write([]byte("y")); err == nil || errors.Is(err, ErrMissing) {
		t.Fatalf("write within backoff: %v", err)
	}
	now = now.Add(2 * time.Second)
	far, err := Open(Config{Name: pair.B})
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	if _, err := w.Write([]byte("hello")); err != nil {
		t.Fatalf("write after comeback: %v", err)
	}
	far.SetReadTimeout(5 * time.Second)
	buf := make([]byte, 16)
	n, _ := far.Read(buf)
	if string(buf[:n]) != "hello" {
		t.Errorf("far end read %q", buf[:n])
	}
	if len(states) != 2 || states[0] != StateMissing || states[1] != StateOpen {
		t.Errorf("states = %v", states)
	}
}

// fakePort returns nothing at once on every read, as a driver whose device
// vanished may do.
type fakePort struct {
	serial.Port
	reads int
}

func (f *fakePort) Read([]byte) (int, error)           { f.reads++; return 0, nil }
func (f *fakePort) SetReadTimeout(time.Duration) error { return nil }
func (f *fakePort) Close() error                       { return nil }

func TestReadPortDoesNotSpin(t *testing.T) {
	f := &fakePort{}
	err := readPort(context.Background(), f, time.Second, Handler{})
	if !errors.Is(err, errEmptyReads) || f.reads != 100 {
		t.Fatalf("err %v after %d reads", err, f.reads)
	}
}
