package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/scan"
)

// The methods Append, Get, Unresolved, FindUnresolvedByCodeHash and Recent
// are payflow.Journal; the runner uses the Store exactly as it used the journal.

// nanos is a time as the integer columns hold it (0 for the zero time).
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// channelOf is the wallet an order is counted under: the bank's answer, or
// the guess from the code's shape, or OTHER.
func channelOf(o order.Order) string {
	c := o.Channel
	if c == order.ChannelNone {
		c = o.Guess
	}
	if c == order.ChannelNone {
		c = order.ChannelOther
	}
	return c.String()
}

// orderRow is one orders row before it is written.
type orderRow struct {
	no, state, channel   string
	terminal             bool
	amount               int64
	createdNs, updatedNs int64
	extra                bool
	doc                  []byte // packed
}

func rowOf(o order.Order, js []byte, extra bool) orderRow {
	return orderRow{no: o.OutTradeNo, state: o.State.String(), channel: channelOf(o), terminal: o.State.Terminal(),
		amount: int64(o.AmountFen), createdNs: nanos(o.CreatedAt), updatedNs: nanos(o.UpdatedAt),
		extra: extra, doc: packDoc(js)}
}

const upsertOrderSQL = `INSERT INTO orders (out_trade_no, state, terminal, channel, amount_fen, created_ns, updated_ns, extra, doc)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (out_trade_no) DO UPDATE SET state = excluded.state, terminal = excluded.terminal,
		channel = excluded.channel, amount_fen = excluded.amount_fen, created_ns = excluded.created_ns,
		updated_ns = excluded.updated_ns, extra = excluded.extra, doc = excluded.doc`

func putOrder(tx *sql.Tx, r orderRow, cond string) error {
	_, err := tx.Exec(upsertOrderSQL+cond, r.no, r.state, r.terminal, r.channel, r.amount, r.createdNs, r.updatedNs, r.extra, r.doc)
	if err != nil {
		return fmt.Errorf("store: write order %s: %w", r.no, err)
	}
	return nil
}

// putOrderID is putOrder (unconditional) returning the row's id.
func putOrderID(tx *sql.Tx, stUpsert *sql.Stmt, r orderRow) (int64, error) {
	var id int64
	err := tx.Stmt(stUpsert).QueryRow(r.no, r.state, r.terminal, r.channel, r.amount,
		r.createdNs, r.updatedNs, r.extra, r.doc).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: write order %s: %w", r.no, err)
	}
	return id, nil
}

// carryUnknown returns the members of the stored doc of table's row key that
// this version does not know, so that an update keeps them.
func carryUnknown(tx *sql.Tx, table, keyCol, key string, known map[string]bool) (map[string]json.RawMessage, error) {
	var packed []byte
	err := tx.QueryRow("SELECT doc FROM "+table+" WHERE "+keyCol+" = ? AND extra = 1", key).Scan(&packed)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read %s %s: %w", table, key, err)
	}
	js, err := unpackDoc(packed)
	if err != nil {
		return nil, nil // unreadable by this version: nothing we could carry
	}
	return unknownKeys(js, known), nil
}

// Append stores o as the newest state of o.OutTradeNo and returns nil only
// once the transaction is committed and fsynced. An error means the order
// may not be durable: the caller must not send it to the bank.
func (s *Store) Append(o order.Order) error {
	if o.OutTradeNo == "" {
		return fmt.Errorf("%w: empty out_trade_no", ErrInvalid)
	}
	if o.State == order.StateInvalid {
		return fmt.Errorf("%w: order %s has no state", ErrInvalid, o.OutTradeNo)
	}
	// An earlier version's unkeyed code hash (scan.IsLegacyHash) guards a
	// rescan only while the order is open; it must not outlive that, since
	// next to the masked code it gives the code away to a brute force.
	if o.State.Terminal() && scan.IsLegacyHash(o.CodeHash) {
		o.CodeHash = ""
	}
	js, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("%w: encode %s: %v", ErrInvalid, o.OutTradeNo, err)
	}
	var id int64
	var extra map[string]json.RawMessage
	return s.writeThen(func(tx *sql.Tx) error {
		extra = nil
		if s.extraOrders[o.OutTradeNo] {
			var err error
			if extra, err = carryUnknown(tx, "orders", "out_trade_no", o.OutTradeNo, orderKeys); err != nil {
				return err
			}
			if js, err = mergeUnknown(js, extra); err != nil {
				return err
			}
		}
		var err error
		id, err = putOrderID(tx, s.stUpsertID, rowOf(o, js, extra != nil))
		return err
	}, func() {
		if extra == nil {
			delete(s.extraOrders, o.OutTradeNo)
		}
		s.win.put(id, o)
		s.putUnresolved(id, o)
	})
}

// decodeOrders scans rows of a single doc column into orders. A doc this
// version cannot read (a state a newer ScanBox wrote) is left out and
// logged; its row stays in the database untouched.
func (s *Store) decodeOrders(rows *sql.Rows, err error) ([]order.Order, error) {
	if err != nil {
		return nil, fmt.Errorf("store: query orders: %w", err)
	}
	defer rows.Close()
	var out []order.Order
	for rows.Next() {
		var packed []byte
		if err := rows.Scan(&packed); err != nil {
			return out, fmt.Errorf("store: read orders: %w", err)
		}
		o, err := decodeOrder(packed)
		if err != nil {
			s.log.Warn("order left out: this version cannot read it", "err", err)
			continue
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("store: read orders: %w", err)
	}
	return out, nil
}

func decodeOrder(packed []byte) (order.Order, error) {
	var o order.Order
	js, err := unpackDoc(packed)
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal(js, &o); err != nil {
		return order.Order{}, fmt.Errorf("store: decode order: %w", err)
	}
	return o, nil
}

// queryOrders runs a doc query on the read pool.
func (s *Store) queryOrders(q string, args ...any) ([]order.Order, error) {
	db, done, err := s.reader()
	if err != nil {
		return nil, err
	}
	defer done()
	return s.decodeOrders(db.Query(q, args...))
}

// logged turns a query error into the journal's "nothing found" shape for
// the payflow.Journal methods, which have no error result; the error is
// logged so it is not silent.
func (s *Store) logged(what string, err error) {
	if err != nil {
		s.log.Error("store read failed", "what", what, "err", err)
	}
}

// Get returns the newest state of one order.
func (s *Store) Get(outTradeNo string) (order.Order, bool) {
	if o, found, ok := s.getWindow(outTradeNo); ok {
		return o, found
	}
	list, err := s.queryOrders("SELECT doc FROM orders WHERE out_trade_no = ?", outTradeNo)
	s.logged("get order", err)
	if len(list) == 0 {
		return order.Order{}, false
	}
	return list[0], true
}

// putUnresolved records a committed state in the unresolved set.
func (s *Store) putUnresolved(id int64, o order.Order) {
	s.unresMu.Lock()
	defer s.unresMu.Unlock()
	if o.State.Terminal() {
		delete(s.unres, o.OutTradeNo)
		return
	}
	s.unres[o.OutTradeNo] = &wEntry{id: id, created: nanos(o.CreatedAt), o: o}
}

// Unresolved returns every order whose state is not Terminal, oldest first.
// They are few and kept in memory (the database's partial index holds the
// same set; TestWindowMatchesSQL compares them).
func (s *Store) Unresolved() []order.Order {
	s.unresMu.RLock()
	list := make([]*wEntry, 0, len(s.unres))
	for _, e := range s.unres {
		list = append(list, e)
	}
	s.unresMu.RUnlock()
	sort.Slice(list, func(i, j int) bool { return list[i].less(list[j]) })
	out := make([]order.Order, len(list))
	for i, e := range list {
		out[i] = e.o
	}
	return out
}

// FindUnresolvedByCodeHash returns the oldest unresolved order that was paid
// with the code whose scan.Hash is h: a rescan of that code must not start a
// second charge while it is open.
func (s *Store) FindUnresolvedByCodeHash(h string) (order.Order, bool) {
	if h == "" {
		return order.Order{}, false
	}
	// Unresolved orders are few (kept in memory), so the hash is compared
	// here rather than indexed for every order of a year.
	for _, o := range s.Unresolved() {
		if o.CodeHash == h {
			return o, true
		}
	}
	return order.Order{}, false
}

// Recent returns up to n orders, newest first by CreatedAt (n <= 0: all kept).
func (s *Store) Recent(n int) []order.Order {
	if list, ok := s.recentWindow(n); ok {
		return list
	}
	if n <= 0 {
		n = -1
	}
	list, err := s.queryOrders("SELECT doc FROM orders ORDER BY created_ns DESC, id DESC LIMIT ?", n)
	s.logged("recent orders", err)
	return list
}

// OrdersBetween returns up to limit orders created in [since, until), newest
// first (limit <= 0: all). A zero since or until leaves that side open.
func (s *Store) OrdersBetween(since, until time.Time, limit int) ([]order.Order, error) {
	lo, hi := bounds(since, until)
	if limit <= 0 {
		limit = -1
	}
	return s.queryOrders("SELECT doc FROM orders WHERE created_ns >= ? AND created_ns < ? ORDER BY created_ns DESC, id DESC LIMIT ?", lo, hi, limit)
}

// OrdersOnDate returns the orders created on the China-time calendar day of
// day, newest first.
func (s *Store) OrdersOnDate(day time.Time) ([]order.Order, error) {
	from, to := DayBounds(day)
	return s.OrdersBetween(from, to, 0)
}

// bounds turns [since, until) into column values; zero means open.
func bounds(since, until time.Time) (int64, int64) {
	lo, hi := int64(-1<<63), int64(1<<63-1)
	if !since.IsZero() {
		lo = since.UnixNano()
	}
	if !until.IsZero() {
		hi = until.UnixNano()
	}
	return lo, hi
}

// getWindow answers Get from the window when it can (ok).
func (s *Store) getWindow(no string) (o order.Order, found, ok bool) {
	db, done, err := s.reader()
	if err != nil {
		return order.Order{}, false, true
	}
	defer done()
	if !s.win.ready(s, db) {
		return order.Order{}, false, false
	}
	defer s.win.mu.RUnlock()
	if e, in := s.win.byNo[no]; in {
		return e.o, true, true
	}
	if s.win.complete {
		return order.Order{}, false, true
	}
	return order.Order{}, false, false
}

// recentWindow answers Recent(n) from the window when it can (ok).
func (s *Store) recentWindow(n int) ([]order.Order, bool) {
	db, done, err := s.reader()
	if err != nil {
		return nil, true
	}
	defer done()
	if !s.win.ready(s, db) {
		return nil, false
	}
	defer s.win.mu.RUnlock()
	l := s.win.list
	switch {
	case n > 0 && n <= len(l):
	case s.win.complete:
		n = len(l)
	default:
		return nil, false
	}
	out := make([]order.Order, 0, n)
	for i := len(l) - 1; i >= len(l)-n; i-- {
		out = append(out, l[i].o)
	}
	return out, true
}
