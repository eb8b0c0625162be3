package store

import (
	"database/sql"
	"sort"
	"sync"

	"github.com/scanbox/scanbox/order"
)

// windowSize is how many of the newest orders are kept decoded in memory
// (a variable only so that a test can make it small).
// The runner reads Recent(200) before every payment (has this code paid
// already?) and Get several times per payment; served from SQL, each read
// would decode its rows' documents again, and the old journal answered these
// from memory. The window keeps that cost where it was.
var windowSize = 512

// window holds the newest orders, exactly as committed: it is updated
// after each commit while the write lock is held, so writes reach it in
// commit order. Only this process writes (the lock file), so nothing else
// can make it stale.
type window struct {
	mu    sync.RWMutex
	valid bool
	// complete: the window holds every order in the table.
	complete bool
	list     []*wEntry // by (created, id), oldest first
	byNo     map[string]*wEntry
}

type wEntry struct {
	id      int64
	created int64
	o       order.Order
}

func (a *wEntry) less(b *wEntry) bool {
	if a.created != b.created {
		return a.created < b.created
	}
	return a.id < b.id
}

// invalidate makes the next read reload the window (after pruning).
func (w *window) invalidate() {
	w.mu.Lock()
	w.valid = false
	w.list, w.byNo = nil, nil
	w.mu.Unlock()
}

// load fills the window from the database. Called with w.mu held.
func (w *window) load(s *Store, db *sql.DB) error {
	rows, err := db.Query("SELECT id, created_ns, doc FROM orders ORDER BY created_ns DESC, id DESC LIMIT ?", windowSize+1)
	if err != nil {
		return err
	}
	defer rows.Close()
	var list []*wEntry
	n := 0
	for rows.Next() {
		n++
		if n > windowSize {
			break
		}
		e := &wEntry{}
		var packed []byte
		if err := rows.Scan(&e.id, &e.created, &packed); err != nil {
			return err
		}
		o, err := decodeOrder(packed)
		if err != nil {
			s.log.Warn("order left out: this version cannot read it", "err", err)
			continue
		}
		e.o = o
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for a, b := 0, len(list)-1; a < b; a, b = a+1, b-1 {
		list[a], list[b] = list[b], list[a]
	}
	w.list = list
	w.byNo = make(map[string]*wEntry, len(list))
	for _, e := range list {
		w.byNo[e.o.OutTradeNo] = e
	}
	w.complete = n <= windowSize
	w.valid = true
	return nil
}

// ready returns with w.mu read-locked and the window loaded, or false
// (unlocked) if it could not be loaded.
func (w *window) ready(s *Store, db *sql.DB) bool {
	w.mu.RLock()
	if w.valid {
		return true
	}
	w.mu.RUnlock()
	w.mu.Lock()
	if !w.valid {
		if err := w.load(s, db); err != nil {
			w.mu.Unlock()
			s.logged("load recent orders", err)
			return false
		}
	}
	w.mu.Unlock()
	w.mu.RLock()
	if !w.valid { // invalidated in between: let the caller use SQL
		w.mu.RUnlock()
		return false
	}
	return true
}

// put records a committed state of order o stored in row id.
func (w *window) put(id int64, o order.Order) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.valid {
		return // loaded fresh on the next read
	}
	e := &wEntry{id: id, created: nanos(o.CreatedAt), o: o}
	if old, ok := w.byNo[o.OutTradeNo]; ok {
		if old.created == e.created {
			old.o = o
			return
		}
		// CreatedAt changed (never done by the runner): rebuild rather
		// than reason about which rows now belong to the window.
		w.valid = false
		w.list, w.byNo = nil, nil
		return
	}
	if !w.complete && len(w.list) > 0 && e.less(w.list[0]) {
		return // older than everything the window holds
	}
	i := sort.Search(len(w.list), func(i int) bool { return e.less(w.list[i]) })
	w.list = append(w.list, nil)
	copy(w.list[i+1:], w.list[i:])
	w.list[i] = e
	w.byNo[o.OutTradeNo] = e
	if len(w.list) > windowSize {
		delete(w.byNo, w.list[0].o.OutTradeNo)
		w.list = w.list[1:]
		w.complete = false
	}
}
