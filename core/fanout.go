package core

import "sync"

// Fanout calls every subscriber with each value; the one subscriber list of
// the program (orders, scans, status, log lines). The zero value is ready.
type Fanout[T any] struct {
	mu   sync.Mutex
	subs map[int]func(T)
	next int
}

// Add registers fn and returns its unsubscribe.
func (f *Fanout[T]) Add(fn func(T)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[int]func(T){}
	}
	id := f.next
	f.next++
	f.subs[id] = fn
	return func() {
		f.mu.Lock()
		delete(f.subs, id)
		f.mu.Unlock()
	}
}

// Emit calls every subscriber, outside the lock, so a subscriber may
// unsubscribe itself.
func (f *Fanout[T]) Emit(v T) {
	f.mu.Lock()
	fns := make([]func(T), 0, len(f.subs))
	for _, fn := range f.subs {
		fns = append(fns, fn)
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(v)
	}
}
