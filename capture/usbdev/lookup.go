package usbdev

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// EnumerateFunc lists the present device nodes. It should stop early when
// ctx is done.
type EnumerateFunc func(ctx context.Context) ([]Present, error)

// Defaults for the package-level Lookup.
const (
	DefaultTTL = time.Minute // enumerate at most once a minute
	// enumTimeout bounds one enumeration, whoever waits for it.
	enumTimeout = 30 * time.Second
)

// Finder caches the device list so that SetupAPI runs at most once per
// TTL, whatever the number of callers, and never while another run is in
// flight. A caller whose context ends stops waiting; the run it started
// finishes in the background and its answer serves the next caller.
type Finder struct {
	enum EnumerateFunc
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	have    bool
	at      time.Time
	devs    []Present
	err     error
	running chan struct{} // closed when the run in flight ends; nil when none
	runs    int
}

// NewFinder returns a Finder over enum that reuses a listing (or its
// failure) for ttl.
func NewFinder(enum EnumerateFunc, ttl time.Duration) *Finder {
	return &Finder{enum: enum, ttl: ttl, now: time.Now}
}

// Lookup answers which scan box matches want. ok false with a nil error
// means there is no sure answer (see Choose). The error is ErrEnumerate
// (wrapped) when the listing failed, the context's error when ctx ended
// first, or ErrMode/ErrNoPort for a bad want.
func (f *Finder) Lookup(ctx context.Context, want Want) (Device, bool, error) {
	if _, err := ParseMode(want.Mode); err != nil {
		return Device{}, false, err
	}
	devs, err := f.present(ctx)
	if err != nil {
		return Device{}, false, err
	}
	return Choose(devs, want)
}

// Runs is how many enumerations this Finder started.
func (f *Finder) Runs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs
}

func (f *Finder) present(ctx context.Context) ([]Present, error) {
	f.mu.Lock()
	if f.have && f.now().Sub(f.at) < f.ttl {
		devs, err := f.devs, f.err
		f.mu.Unlock()
		return devs, err
	}
	ch := f.running
	if ch == nil {
		ch = make(chan struct{})
		f.running = ch
		f.runs++
		go f.run(ch)
	}
	f.mu.Unlock()

	select {
	case <-ch:
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.devs, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("usbdev: gave up waiting for the device list: %w", ctx.Err())
	}
}

func (f *Finder) run(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), enumTimeout)
	defer cancel()
	devs, err := f.safeEnum(ctx)
	if err != nil {
		devs, err = nil, fmt.Errorf("%w: %w", ErrEnumerate, err)
	}
	f.mu.Lock()
	f.devs, f.err, f.at, f.have = devs, err, f.now(), true
	f.running = nil
	f.mu.Unlock()
	close(done)
}

// safeEnum turns a panic in the enumeration (a SetupAPI entry point
// missing on an old or odd Windows makes x/sys panic) into an error: the
// device stock is optional, the cashier's app must not die for it.
func (f *Finder) safeEnum(ctx context.Context) (devs []Present, err error) {
	defer func() {
		if r := recover(); r != nil {
			devs, err = nil, fmt.Errorf("enumeration panicked: %v", r)
		}
	}()
	return f.enum(ctx)
}

var std = NewFinder(Enumerate, DefaultTTL)

// Lookup answers, for the scanner configuration want, which scan box is
// attached to this PC, enumerating the present devices at most once a
// minute (DefaultTTL). Off Windows it has no devices and always answers
// ok=false. Run it off the payment path: it waits for SetupAPI at most
// until ctx ends.
func Lookup(ctx context.Context, want Want) (Device, bool, error) {
	return std.Lookup(ctx, want)
}
