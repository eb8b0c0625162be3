package main

import (
	"testing"
	"time"
)

// fakeTimer fires only when the test says so.
type fakeTimer struct {
	f      func()
	armed  bool
	resets int
}

func (t *fakeTimer) Reset(time.Duration) bool {
	was := t.armed
	t.armed = true
	t.resets++
	return was
}

func (t *fakeTimer) fire() {
	if t.armed {
		t.armed = false
		t.f()
	}
}

func newFakeTrim() (*memoryTrim, *int, func() *fakeTimer) {
	freed := 0
	var timers []*fakeTimer
	m := newMemoryTrim()
	m.free = func() { freed++ }
	m.after = func(d time.Duration, f func()) resetter {
		if d != uiSettle {
			panic("settle")
		}
		t := &fakeTimer{f: f, armed: true}
		timers = append(timers, t)
		return t
	}
	return m, &freed, func() *fakeTimer {
		if len(timers) != 1 {
			panic("want exactly one timer")
		}
		return timers[0]
	}
}

// A burst of UI work (windows opened one after another, a payment's
// updates) returns memory once, when the burst is over, and again after
// the next burst.
func TestMemoryTrimOncePerBurst(t *testing.T) {
	m, freed, timer := newFakeTrim()
	if *freed != 0 {
		t.Fatal("freed before asked")
	}
	m.soon()
	m.soon()
	m.soon()
	if *freed != 0 {
		t.Fatalf("freed %d times during the burst", *freed)
	}
	tm := timer()
	if tm.resets != 2 {
		t.Fatalf("later calls should move the moment on: %d resets", tm.resets)
	}
	tm.fire()
	tm.fire()
	if *freed != 1 {
		t.Fatalf("freed %d times after one burst, want 1", *freed)
	}
	m.soon() // the next burst re-arms the same timer
	tm.fire()
	if *freed != 2 {
		t.Fatalf("freed %d times after two bursts, want 2", *freed)
	}
}

// The tray calls soon on every window it shows; a nil trim (a tray built
// by a test without one) must not panic.
func TestMemoryTrimNilIsNoop(t *testing.T) {
	var m *memoryTrim
	m.soon()
}
