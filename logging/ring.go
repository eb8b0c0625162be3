package logging

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// maxAttrs bounds one entry's attribute text so the ring's memory is bounded.
const maxAttrs = 4096

// Entry is one log record as the ring keeps it.
type Entry struct {
	Seq   uint64 // 1 for the first entry ever, +1 for each next one
	Time  time.Time
	Level slog.Level
	Msg   string
	Attrs string // key=value text, already redacted
}

// Ring keeps the newest entries in memory for the log viewer. Readers follow
// it with a cursor: Since(cursor) returns what is new and the next cursor,
// and Wait blocks until there is something new, so nobody busy-polls.
type Ring struct {
	mu     sync.Mutex
	buf    []Entry
	next   uint64        // Seq of the next entry
	notify chan struct{} // closed and replaced on every add
}

// NewRing makes a ring of size entries (at least 1).
func NewRing(size int) *Ring {
	return &Ring{buf: make([]Entry, max(size, 1)), next: 1, notify: make(chan struct{})}
}

func (r *Ring) add(e Entry) {
	if len(e.Attrs) > maxAttrs {
		e.Attrs = e.Attrs[:maxAttrs] + "…"
	}
	r.mu.Lock()
	e.Seq = r.next
	r.buf[e.Seq%uint64(len(r.buf))] = e
	r.next++
	ch := r.notify
	r.notify = make(chan struct{})
	r.mu.Unlock()
	close(ch)
}

// Since returns the entries with Seq >= cursor that are still in the ring,
// oldest first, and the cursor to pass next time. Start with cursor 0 (all
// that is kept). If entries[0].Seq > cursor > 0, older entries were
// overwritten before the reader got to them.
func (r *Ring) Since(cursor uint64) (entries []Entry, next uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := max(cursor, r.oldest())
	if start >= r.next {
		return nil, r.next
	}
	entries = make([]Entry, 0, r.next-start)
	for s := start; s < r.next; s++ {
		entries = append(entries, r.buf[s%uint64(len(r.buf))])
	}
	return entries, r.next
}

// oldest is the smallest Seq still kept. Called with mu held.
func (r *Ring) oldest() uint64 {
	if n := uint64(len(r.buf)); r.next > n {
		return r.next - n
	}
	return 1
}

// Wait blocks until Since(cursor) would return at least one entry, or ctx
// ends (then it returns ctx.Err()).
func (r *Ring) Wait(ctx context.Context, cursor uint64) error {
	for {
		r.mu.Lock()
		ready := r.next > max(cursor, 1)
		ch := r.notify
		r.mu.Unlock()
		if ready {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Changed returns a channel that is closed when the next entry is added
// (for a select loop that waits on other things too). Take a new one after
// each wake-up.
func (r *Ring) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notify
}

// Cap is how many entries the ring keeps.
func (r *Ring) Cap() int { return len(r.buf) }
