package usbdev

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the Finder's cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestFinder(enum EnumerateFunc) (*Finder, *fakeClock) {
	c := &fakeClock{t: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)}
	f := NewFinder(enum, time.Minute)
	f.now = c.now
	return f, c
}

var serialCOM3 = Want{Mode: "serial", Port: "COM3"}

func TestLookupCachesForTTL(t *testing.T) {
	var mu sync.Mutex
	devs := pc(newlandCDC)
	f, clock := newTestFinder(func(context.Context) ([]Present, error) {
		mu.Lock()
		defer mu.Unlock()
		return devs, nil
	})
	ctx := context.Background()
	d, ok, err := f.Lookup(ctx, serialCOM3)
	if err != nil || !ok || d.Serial != "NLS-FR40-0012345" {
		t.Fatalf("first: %+v %v %v", d, ok, err)
	}
	// The scanner is swapped for a CH340 on COM3; within the minute the
	// cached listing still answers and SetupAPI is not asked again.
	mu.Lock()
	p := ch340
	p.PortName, p.Name = "COM3", "USB-SERIAL CH340 (COM3)"
	devs = pc(p)
	mu.Unlock()
	clock.add(59 * time.Second)
	for range 5 {
		if d, _, _ := f.Lookup(ctx, Want{Mode: "hook"}); d.VIDPID != "" {
			t.Fatalf("hook on a serial-only PC: %+v", d)
		}
		if d, _, _ := f.Lookup(ctx, serialCOM3); d.VIDPID != "1EAB:1D06" {
			t.Fatalf("within TTL: %+v", d)
		}
	}
	if n := f.Runs(); n != 1 {
		t.Fatalf("runs within TTL = %d, want 1", n)
	}
	clock.add(2 * time.Second)
	d, ok, err = f.Lookup(ctx, serialCOM3)
	if err != nil || !ok || d.VIDPID != "1A86:7523" || d.Kind != KindBridge {
		t.Fatalf("after TTL: %+v %v %v", d, ok, err)
	}
	if n := f.Runs(); n != 2 {
		t.Fatalf("runs after TTL = %d, want 2", n)
	}
}

// Many callers at once: one SetupAPI run, one answer for all.
func TestLookupOneRunForConcurrentCallers(t *testing.T) {
	release := make(chan struct{})
	f, _ := newTestFinder(func(context.Context) ([]Present, error) {
		<-release
		return pc(newlandCDC), nil
	})
	const callers = 16
	var wg sync.WaitGroup
	results := make(chan Device, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, ok, err := f.Lookup(context.Background(), serialCOM3)
			if err != nil || !ok {
				t.Errorf("Lookup: %v %v", ok, err)
			}
			results <- d
		}()
	}
	close(release)
	wg.Wait()
	close(results)
	for d := range results {
		if d.Serial != "NLS-FR40-0012345" {
			t.Errorf("got %+v", d)
		}
	}
	if n := f.Runs(); n != 1 {
		t.Fatalf("runs = %d, want 1", n)
	}
}

// A SetupAPI that hangs never holds the caller past its context; the run
// finishes in the background and serves the next caller without a second run.
func TestLookupBoundedBySlowEnumeration(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	f, _ := newTestFinder(func(context.Context) ([]Present, error) {
		close(started)
		<-release
		return pc(newlandCDC), nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := f.Lookup(ctx, serialCOM3)
		errc <- err
	}()
	<-started
	cancel()
	// Lookup returns while the enumeration is still blocked.
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// A second caller with an already-ended context does not start
	// another run either.
	dead, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, _, err := f.Lookup(dead, serialCOM3); !errors.Is(err, context.Canceled) {
		t.Fatalf("dead ctx: %v", err)
	}
	close(release)
	d, ok, err := f.Lookup(context.Background(), serialCOM3)
	if err != nil || !ok || d.Serial != "NLS-FR40-0012345" {
		t.Fatalf("after release: %+v %v %v", d, ok, err)
	}
	if n := f.Runs(); n != 1 {
		t.Fatalf("runs = %d, want 1", n)
	}
}

// A failing SetupAPI is asked at most once per TTL too.
func TestLookupCachesFailure(t *testing.T) {
	boom := errors.New("SetupDiGetClassDevsEx: access denied")
	fail := true
	var mu sync.Mutex
	f, clock := newTestFinder(func(context.Context) ([]Present, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nil, boom
		}
		return pc(newlandCDC), nil
	})
	for range 3 {
		_, ok, err := f.Lookup(context.Background(), serialCOM3)
		if ok || !errors.Is(err, ErrEnumerate) || !errors.Is(err, boom) {
			t.Fatalf("ok %v err %v, want ErrEnumerate wrapping the cause", ok, err)
		}
	}
	if n := f.Runs(); n != 1 {
		t.Fatalf("runs = %d, want 1", n)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	clock.add(time.Minute)
	if _, ok, err := f.Lookup(context.Background(), serialCOM3); err != nil || !ok {
		t.Fatalf("after TTL: %v %v", ok, err)
	}
}

// A bad configuration is refused before SetupAPI is asked.
func TestLookupBadWantDoesNotEnumerate(t *testing.T) {
	f, _ := newTestFinder(func(context.Context) ([]Present, error) { return nil, nil })
	if _, _, err := f.Lookup(context.Background(), Want{Mode: "usb"}); !errors.Is(err, ErrMode) {
		t.Fatalf("err = %v", err)
	}
	if n := f.Runs(); n != 0 {
		t.Fatalf("runs = %d, want 0", n)
	}
	if _, _, err := f.Lookup(context.Background(), Want{Mode: "serial"}); !errors.Is(err, ErrNoPort) {
		t.Fatalf("err = %v", err)
	}
}

// A panicking enumeration (a missing SetupAPI export) is an error, not a
// dead cashier app.
func TestLookupSurvivesPanickingEnumeration(t *testing.T) {
	f, _ := newTestFinder(func(context.Context) ([]Present, error) {
		panic("Failed to find SetupDiGetDevicePropertyW procedure in setupapi.dll")
	})
	_, ok, err := f.Lookup(context.Background(), serialCOM3)
	if ok || !errors.Is(err, ErrEnumerate) {
		t.Fatalf("ok %v err %v, want ErrEnumerate", ok, err)
	}
	// And the Finder is usable afterwards (the run was marked finished).
	if _, _, err := f.Lookup(context.Background(), serialCOM3); !errors.Is(err, ErrEnumerate) {
		t.Fatalf("second: %v", err)
	}
}
