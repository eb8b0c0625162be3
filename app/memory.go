package main

import (
	"runtime/debug"
	"sync"
	"time"
)

// uiSettle is how long after a burst of UI work (the tray's start-up, a
// window opened, a payment's outcome shown) the memory it threw away is
// handed back: by then its first frames are drawn (fyne parses font faces
// and lays text out on first paint) and nothing more is coming.
const uiSettle = 5 * time.Second

// memoryTrim hands the garbage of a burst of UI work back to the OS once
// the burst is over. The tray allocates in bursts and then sits idle for
// hours, allocating nothing: start-up parses the fonts (tens of MiB of
// tables, most thrown away), building and first drawing a window allocates
// 10–20 MiB that dies at once (the Settings window: 17 MiB, measured with
// pprof). Go's collector only runs again once the heap has doubled, and its
// scavenger keeps that much resident, so without this a tray that opened
// Settings once sat ~13 MiB bigger all day (docs/ui.md, "Weight"). One
// forced collection and return (debug.FreeOSMemory: ~10 ms of CPU at the
// tray's ~20 MiB live heap) after each burst; calls during a burst move the
// moment on, so a burst costs one.
type memoryTrim struct {
	settle time.Duration
	free   func()
	// after is time.AfterFunc; tests replace it.
	after func(time.Duration, func()) resetter

	mu    sync.Mutex
	timer resetter
}

// freeMemory returns the Go heap's free pages (one forced collection)
// and the C heap's (a destroyed window's GL context and textures, freed
// inside glibc's heap, stay resident until trimmed: 8.8 MiB per window,
// measured; returnCHeap is a no-op where there is nothing to do).
func freeMemory() {
	debug.FreeOSMemory()
	returnCHeap()
}

// resetter is the part of *time.Timer that memoryTrim uses.
type resetter interface{ Reset(time.Duration) bool }

func newMemoryTrim() *memoryTrim {
	return &memoryTrim{
		settle: uiSettle,
		free:   freeMemory,
		after:  func(d time.Duration, f func()) resetter { return time.AfterFunc(d, f) },
	}
}

// soon asks for a return settle after the last call. Safe from any
// goroutine; cheap (no goroutine, one runtime timer).
func (m *memoryTrim) soon() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.timer == nil {
		m.timer = m.after(m.settle, m.free)
		return
	}
	m.timer.Reset(m.settle)
}
