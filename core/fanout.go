package core

import "sync"

// Fanout calls every subscriber with each value; the one subscriber list of
// the program (orders, scans, status, log lines). The zero value is ready.
//
// Subscribers are called in the order they subscribed: the parts the
// composition root wires first (the tray controller's bookkeeping, which
// consumes a charged amount) have acted on a change before any view that
// subscribed later sees it.
type Fanout[T any] struct {
	mu   sync.Mutex
	subs []fanoutSub[T]
	next int
}

type fanoutSub[T any] struct {
	id int
	fn func(T)
}

// Add registers fn and returns its unsubscribe.
func (f *Fanout[T]) Add(fn func(T)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.next
	f.next++
	f.subs = append(f.subs, fanoutSub[T]{id, fn})
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, s := range f.subs {
			if s.id == id {
				f.subs = append(f.subs[:i:i], f.subs[i+1:]...)
				return
			}
		}
	}
}

// Emit calls every subscriber in subscription order, outside the lock, so a
// subscriber may unsubscribe itself.
func (f *Fanout[T]) Emit(v T) {
	f.mu.Lock()
	fns := make([]func(T), len(f.subs))
	for i, s := range f.subs {
		fns[i] = s.fn
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(v)
	}
}
