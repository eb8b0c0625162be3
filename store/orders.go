package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/scan"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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

// updateOrderSQL rewrites the row of an order whose id and created_ns are
// known (held in memory), leaving created_ns and out_trade_no alone: unlike
// the upsert it needs no lookup in the out_trade_no index and leaves the
// orders_created index untouched, one page less to write to the WAL. The
// out_trade_no condition is a guard: no row changed means the id was not
// that order's, and Append falls back to the upsert.
const updateOrderSQL = `UPDATE orders SET state = ?, terminal = ?, channel = ?, amount_fen = ?, updated_ns = ?, extra = ?, doc = ?
	WHERE id = ? AND out_trade_no = ? AND created_ns = ?`

// insertOrderSQL adds a new order; Append uses it for an order not held in
// memory, which is almost always a new one (a payment's first write), and
// falls back to the upsert when out_trade_no is taken after all.
const insertOrderSQL = `INSERT INTO orders (out_trade_no, state, terminal, channel, amount_fen, created_ns, updated_ns, extra, doc)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

func putOrder(tx *sql.Tx, r orderRow, cond string) error {
	_, err := tx.Exec(upsertOrderSQL+cond, r.no, r.state, r.terminal, r.channel, r.amount, r.createdNs, r.updatedNs, r.extra, r.doc)
	if err != nil {
		return fmt.Errorf("store: write order %s: %w", r.no, err)
	}
	return nil
}

// upsertOrder writes r with the prepared upsert as a statement of its own,
// outside any BEGIN/COMMIT: SQLite runs it in an implicit transaction that
// commits, with the WAL fsynced (synchronous=FULL), when the statement runs
// to its end. So the rows are read to the end (io.EOF from the driver), and
// only a clean end means committed: a failed commit is the error of that
// last step (rows.Err). This spares the two statements BEGIN and COMMIT
// (each prepared anew by the driver) and database/sql's transaction on
// every payment's writes, without changing what is durable when.
func (s *Store) upsertOrder(r orderRow) (int64, error) {
	rows, err := s.stUpsertID.Query(r.no, r.state, r.terminal, r.channel, r.amount,
		r.createdNs, r.updatedNs, r.extra, r.doc)
	if err != nil {
		return 0, fmt.Errorf("store: write order %s: %w", r.no, err)
	}
	var id int64
	n := 0
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: write order %s: %w", r.no, err)
		}
		n++
	}
	err = rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != 1 {
		err = fmt.Errorf("%d ids returned", n)
	}
	if err != nil {
		return 0, fmt.Errorf("store: write order %s: %w", r.no, err)
	}
	return id, nil
}

// updateOrder writes r into row id with stUpdate, a statement of its own
// (see upsertOrder); false if no row was that order's.
func (s *Store) updateOrder(id int64, r orderRow) (bool, error) {
	res, err := s.stUpdate.Exec(r.state, r.terminal, r.channel, r.amount, r.updatedNs, r.extra, r.doc, id, r.no, r.createdNs)
	if err != nil {
		return false, fmt.Errorf("store: write order %s: %w", r.no, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: write order %s: %w", r.no, err)
	}
	return n == 1, nil
}

// insertOrder adds r with stInsert, a statement of its own (see
// upsertOrder), returning its id; taken is true (and nothing written) if
// an order with that out_trade_no is stored already.
func (s *Store) insertOrder(r orderRow) (id int64, taken bool, err error) {
	res, err := s.stInsert.Exec(r.no, r.state, r.terminal, r.channel, r.amount, r.createdNs, r.updatedNs, r.extra, r.doc)
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		// The statement failed as a whole: SQLite wrote nothing.
		return 0, true, nil
	}
	if err == nil {
		id, err = res.LastInsertId()
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: write order %s: %w", r.no, err)
	}
	return id, false, nil
}

// knownID returns the row id of order no if it is held in memory (open, or
// among the newest) with created_ns created. Called with wmu held, so what
// it finds is what is committed.
func (s *Store) knownID(no string, created int64) (int64, bool) {
	s.unresMu.RLock()
	e, ok := s.unres[no]
	s.unresMu.RUnlock()
	if !ok {
		s.win.mu.RLock()
		if s.win.valid {
			e, ok = s.win.byNo[no]
		}
		s.win.mu.RUnlock()
	}
	if !ok || e.created != created {
		return 0, false
	}
	return e.id, true
}

// putOrderID is putOrder (unconditional) inside tx, returning the row's id.
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
	return s.writeLocked(func() error {
		extra = nil
		created := nanos(o.CreatedAt)
		if !s.extraOrders[o.OutTradeNo] {
			// The hot path: one statement, its own transaction.
			r := s.orderRow(o, js, false, created)
			if known, ok := s.knownID(o.OutTradeNo, created); ok {
				done, err := s.updateOrder(known, r)
				if err != nil || done {
					id = known
					return err
				}
			}
			newID, taken, err := s.insertOrder(r)
			if err != nil || !taken {
				id = newID
				return err
			}
			id, err = s.upsertOrder(r)
			return err
		}
		// The stored document has fields this version does not know: read
		// them and write the merge in one transaction.
		return s.inTx(func(tx *sql.Tx) error {
			var err error
			if extra, err = carryUnknown(tx, "orders", "out_trade_no", o.OutTradeNo, orderKeys); err != nil {
				return err
			}
			merged, err := mergeUnknown(js, extra)
			if err != nil {
				return err
			}
			id, err = putOrderID(tx, s.stUpsertID, s.orderRow(o, merged, extra != nil, created))
			return err
		})
	}, func() {
		if extra == nil {
			delete(s.extraOrders, o.OutTradeNo)
		}
		s.win.put(id, o)
		s.putUnresolved(id, o)
	})
}

// orderRow is rowOf for Append: the document goes in as plain JSON unless
// the order is resolved and older than packedBefore, which Prune's
// compaction has passed already (compact.go). Called with wmu held.
func (s *Store) orderRow(o order.Order, js []byte, extra bool, created int64) orderRow {
	r := orderRow{no: o.OutTradeNo, state: o.State.String(), channel: channelOf(o), terminal: o.State.Terminal(),
		amount: int64(o.AmountFen), createdNs: created, updatedNs: nanos(o.UpdatedAt), extra: extra, doc: js}
	if r.terminal && created < s.packedBefore {
		r.doc = packDoc(js)
	}
	return r
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
		if _, ok := s.unres[o.OutTradeNo]; ok {
			delete(s.unres, o.OutTradeNo)
			s.unresSorted = nil
		}
		return
	}
	s.unres[o.OutTradeNo] = &wEntry{id: id, created: nanos(o.CreatedAt), o: o}
	s.unresSorted = nil
}

// Unresolved returns every order whose state is not Terminal, oldest first.
// They are few and kept in memory (the database's partial index holds the
// same set; TestWindowMatchesSQL compares them). The runner asks before
// every payment, so the sorted list is kept until the set changes.
func (s *Store) Unresolved() []order.Order {
	s.unresMu.RLock()
	sorted := s.unresSorted
	s.unresMu.RUnlock()
	if sorted == nil {
		s.unresMu.Lock()
		if s.unresSorted == nil {
			list := make([]*wEntry, 0, len(s.unres))
			for _, e := range s.unres {
				list = append(list, e)
			}
			sort.Slice(list, func(i, j int) bool { return list[i].less(list[j]) })
			s.unresSorted = make([]order.Order, len(list))
			for i, e := range list {
				s.unresSorted[i] = e.o
			}
		}
		sorted = s.unresSorted
		s.unresMu.Unlock()
	}
	// A copy: the caller may change what it gets.
	out := make([]order.Order, len(sorted))
	copy(out, sorted)
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
	s.unresMu.RLock()
	defer s.unresMu.RUnlock()
	var oldest *wEntry
	for _, e := range s.unres {
		if e.o.CodeHash == h && (oldest == nil || e.less(oldest)) {
			oldest = e
		}
	}
	if oldest == nil {
		return order.Order{}, false
	}
	return oldest.o, true
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
