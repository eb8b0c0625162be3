package store

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
)

// storeView is everything a reader gets from a store, as JSON.
type storeView struct {
	Recent, Unresolved []order.Order
	Refunds            []Refund
	Summary            Summary
	Shifts             []Shift
}

func viewOf(t *testing.T, s *Store, day time.Time) []byte {
	t.Helper()
	var v storeView
	var err error
	v.Recent = s.Recent(0)
	v.Unresolved = s.Unresolved()
	if v.Refunds, err = s.RecentRefunds(0); err != nil {
		t.Fatal(err)
	}
	if v.Summary, err = s.SummaryOn(day); err != nil {
		t.Fatal(err)
	}
	if v.Shifts, err = s.Shifts(0); err != nil {
		t.Fatal(err)
	}
	js, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// rawDocs counts the orders whose document is stored as plain JSON, by
// resolved or not.
func rawDocs(t *testing.T, s *Store) (resolved, open int) {
	t.Helper()
	rows, err := s.r.Query("SELECT terminal, count(*) FROM orders WHERE substr(doc, 1, 1) = x'7b' GROUP BY terminal")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var term bool
		var n int
		if err := rows.Scan(&term, &n); err != nil {
			t.Fatal(err)
		}
		if term {
			resolved = n
		} else {
			open = n
		}
	}
	return resolved, open
}

// TestStoreWrittenByV1: testdata/store-v1.db.gz was written by the store
// before compaction (commit ecb36a0, every document deflated, no
// packed_before_ns mark; its generator is testdata/store-v1-gen.go.txt), and
// store-v1.json is what that version read from it. This version must read
// exactly the same, write on top of it with plain documents, and after
// Prune (and a reopen) still read the same, with every resolved order's
// document deflated again.
func TestStoreWrittenByV1(t *testing.T) {
	gz, err := os.ReadFile("testdata/store-v1.db.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	db, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/store-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := testDir(t)
	if err := os.MkdirAll(filepath.Join(dir, subdir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, subdir, dbName), db, 0o600); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 30, 20, 0, 0, 0, China)
	var clock atomic.Int64
	clock.Store(day.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).In(China) }

	s := mustOpen(t, dir, WithClock(now))
	if got := viewOf(t, s, day); !bytes.Equal(got, want) {
		t.Fatalf("a store written by v1 reads differently:\n%s\nwant\n%s", got, want)
	}
	if r, o := rawDocs(t, s); r+o != 0 {
		t.Fatalf("%d+%d plain documents in a v1 store", r, o)
	}

	// Write on top: resolve what v1 left open, and add new orders.
	for _, o := range s.Unresolved() {
		o.State, o.Channel, o.UpdatedAt = order.StatePaid, o.Guess, o.UpdatedAt.Add(time.Minute)
		mustAppend(t, s, o)
	}
	for i := range 6 {
		o := mk("NEW"+string(rune('A'+i)), order.StatePending, i)
		o.CreatedAt, o.UpdatedAt = day.Add(time.Duration(i)*time.Second), day.Add(time.Duration(i)*time.Second)
		mustAppend(t, s, o)
		if i%3 != 0 {
			o.State, o.Channel = order.StatePaid, order.ChannelWeChat
			mustAppend(t, s, o)
		}
	}
	// v1's open orders were created before the mark: written deflated. The
	// new ones are plain: 4 resolved, 2 open.
	if r, o := rawDocs(t, s); r != 4 || o != 2 {
		t.Fatalf("plain documents: %d resolved, %d open; want 4, 2", r, o)
	}
	before := viewOf(t, s, day)

	clock.Add(int64(time.Minute))
	res, err := s.Prune()
	if err != nil {
		t.Fatal(err)
	}
	if res.Compacted != 4 || res.Orders != 0 {
		t.Fatalf("Prune = %+v, want 4 documents compacted and nothing pruned", res)
	}
	if r, o := rawDocs(t, s); r != 0 || o != 2 {
		t.Fatalf("after Prune: %d resolved, %d open plain documents; want 0, 2", r, o)
	}
	if got := viewOf(t, s, day); !bytes.Equal(got, before) {
		t.Fatalf("compaction changed what is read:\n%s\nwant\n%s", got, before)
	}
	s.Close()

	s = mustOpen(t, dir, WithClock(now))
	defer s.Close()
	if got := viewOf(t, s, day); !bytes.Equal(got, before) {
		t.Fatalf("after reopening:\n%s\nwant\n%s", got, before)
	}
	// The open ones resolved now are created before the mark: deflated at once.
	for _, o := range s.Unresolved() {
		o.State = order.StateFailed
		mustAppend(t, s, o)
	}
	if r, o := rawDocs(t, s); r != 0 || o != 0 {
		t.Fatalf("%d resolved, %d open plain documents; want none", r, o)
	}
}

// TestCompactionMark: the mark is stored, never moves back with the clock,
// and a resolved order created after it stays plain until the next Prune.
func TestCompactionMark(t *testing.T) {
	dir := testDir(t)
	var clock atomic.Int64
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, China)
	clock.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	s := mustOpen(t, dir, WithClock(now))
	mark := func() int64 {
		var v int64
		if err := s.r.QueryRow("SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?", metaPackedBefore).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if m := mark(); m != start.UnixNano() {
		t.Fatalf("mark %d after Open, want %d", m, start.UnixNano())
	}
	o := mk("A", order.StatePaid, 0)
	o.CreatedAt = start.Add(time.Second)
	mustAppend(t, s, o)
	clock.Add(-int64(time.Hour)) // the clock goes back
	if res, err := s.Prune(); err != nil || res.Compacted != 0 {
		t.Fatalf("Prune with the clock set back = %+v %v", res, err)
	}
	if m := mark(); m != start.UnixNano() {
		t.Fatalf("mark moved back to %d", m)
	}
	if r, _ := rawDocs(t, s); r != 1 {
		t.Fatalf("%d plain resolved documents, want 1", r)
	}
	clock.Store(start.Add(time.Hour).UnixNano())
	if res, err := s.Prune(); err != nil || res.Compacted != 1 {
		t.Fatalf("Prune = %+v %v, want 1 compacted", res, err)
	}
	if r, _ := rawDocs(t, s); r != 0 {
		t.Fatalf("%d plain resolved documents after Prune", r)
	}
	s.Close()
	s = mustOpen(t, dir, WithClock(now))
	defer s.Close()
	if m := mark(); m != start.Add(time.Hour).UnixNano() {
		t.Fatalf("mark %d after reopening", m)
	}
	if got, ok := s.Get("A"); !ok || got.State != order.StatePaid || !got.CreatedAt.Equal(o.CreatedAt) {
		t.Fatalf("Get(A) = %+v %v", got, ok)
	}
}

// TestFailedWriteIsNotAcknowledged: Append's single-statement writes (the
// update of a known row and the upsert of a new one) report a statement
// that fails, leave memory as it was and the store broken (ErrBroken) for
// every later write; after a restart the database holds what was
// acknowledged, nothing more. The writer is made read-only underneath to
// make the write fail.
func TestFailedWriteIsNotAcknowledged(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    order.Order
	}{
		{"update of a known order", mk("A", order.StatePaid, 0)},
		{"insert of a new order", mk("B", order.StatePending, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testDir(t)
			s := mustOpen(t, dir)
			mustAppend(t, s, mk("A", order.StatePending, 0))
			if _, err := s.w.Exec("PRAGMA query_only = 1"); err != nil {
				t.Fatal(err)
			}
			if err := s.Append(tc.o); err == nil || errors.Is(err, ErrBroken) {
				t.Fatalf("failed write = %v, want its own error", err)
			}
			if got, _ := s.Get("A"); got.State != order.StatePending {
				t.Fatalf("A is %v in memory after a failed write", got.State)
			}
			if _, ok := s.Get("B"); ok {
				t.Fatal("B in memory after a failed write")
			}
			if len(s.Unresolved()) != 1 {
				t.Fatalf("unresolved = %v", s.Unresolved())
			}
			if err := s.Append(mk("C", order.StatePending, 2)); !errors.Is(err, ErrBroken) {
				t.Fatalf("next write = %v, want ErrBroken", err)
			}
			s.Close()
			s = mustOpen(t, dir)
			defer s.Close()
			if got, ok := s.Get("A"); !ok || got.State != order.StatePending {
				t.Fatalf("after restart A = %v %v", got.State, ok)
			}
			for _, no := range []string{"B", "C"} {
				if _, ok := s.Get(no); ok {
					t.Fatalf("%s stored though its write failed", no)
				}
			}
		})
	}
}
