package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/internal/testdir"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"

	"modernc.org/sqlite"
)

func TestMain(m *testing.M) {
	switch os.Getenv("STORE_HELPER") {
	case "open":
		helperOpen(os.Getenv("STORE_DIR"))
	case "append":
		helperAppend(os.Getenv("STORE_DIR"), os.Getenv("STORE_RUN"))
	case "":
	default:
		fmt.Println("unknown helper")
		os.Exit(2)
	}
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

func testDir(t testing.TB) string { return testdir.New(t) }

func mustOpen(t testing.TB, dir string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(dir, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, China)

func mk(no string, st order.State, i int) order.Order {
	at := t0.Add(time.Duration(i) * time.Second)
	return order.Order{OutTradeNo: no, Kind: order.KindMicropay, AmountFen: money.Fen(100 + i), Body: "ScanBox",
		CodeMasked: "1345**********6780", CodeHash: "hash-" + no, Guess: order.ChannelWeChat, State: st,
		CreatedAt: at, UpdatedAt: at, MchID: "1900000109", TerminalID: "T0001"}
}

func mustAppend(t testing.TB, s *Store, o order.Order) {
	t.Helper()
	if err := s.Append(o); err != nil {
		t.Fatalf("Append %s: %v", o.OutTradeNo, err)
	}
}

func nos(list []order.Order) string {
	var b []string
	for _, o := range list {
		b = append(b, o.OutTradeNo)
	}
	return strings.Join(b, ",")
}

// sameOrder compares two orders as the JSON they store.
func sameOrder(t *testing.T, got, want order.Order) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("order differs:\n got  %s\n want %s", g, w)
	}
}

func TestJournalSemantics(t *testing.T) {
	dir := testDir(t)
	s := mustOpen(t, dir)
	a := mk("A", order.StatePending, 1)
	b := mk("B", order.StateWaiting, 2)
	c := mk("C", order.StatePaid, 3)
	d := mk("D", order.StateUnknown, 3) // same CreatedAt as C: insertion order breaks the tie
	for _, o := range []order.Order{a, b, c, d} {
		mustAppend(t, s, o)
	}
	a.State, a.TransactionID, a.Channel = order.StatePaid, "4200000001", order.ChannelWeChat
	a.UpdatedAt = a.UpdatedAt.Add(time.Second)
	mustAppend(t, s, a) // newest state wins, position by CreatedAt unchanged
	check := func(s *Store) {
		t.Helper()
		got, ok := s.Get("A")
		if !ok {
			t.Fatal("A missing")
		}
		sameOrder(t, got, a)
		if _, ok := s.Get("nope"); ok {
			t.Fatal("Get of an unknown order found one")
		}
		if g := nos(s.Recent(0)); g != "D,C,B,A" {
			t.Fatalf("Recent(0) = %s", g)
		}
		if g := nos(s.Recent(2)); g != "D,C" {
			t.Fatalf("Recent(2) = %s", g)
		}
		if g := nos(s.Unresolved()); g != "B,D" {
			t.Fatalf("Unresolved = %s", g)
		}
		if o, ok := s.FindUnresolvedByCodeHash("hash-D"); !ok || o.OutTradeNo != "D" {
			t.Fatalf("FindUnresolvedByCodeHash(D) = %v %v", o.OutTradeNo, ok)
		}
		if _, ok := s.FindUnresolvedByCodeHash("hash-C"); ok {
			t.Fatal("a paid order's code counted as unresolved")
		}
		if _, ok := s.FindUnresolvedByCodeHash(""); ok {
			t.Fatal("empty hash matched")
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(mk("E", order.StatePending, 5)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
	s = mustOpen(t, dir)
	defer s.Close()
	check(s)
	if err := s.Append(order.Order{State: order.StatePending}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no out_trade_no: %v", err)
	}
	if err := s.Append(order.Order{OutTradeNo: "X"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no state: %v", err)
	}
	// A refused record leaves the store usable.
	mustAppend(t, s, mk("F", order.StatePending, 9))
}

func TestOrdersBetweenAndOnDate(t *testing.T) {
	s := mustOpen(t, testDir(t))
	defer s.Close()
	// China midnight is 16:00 UTC.
	mid := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	times := map[string]time.Time{
		"late":  mid.Add(-time.Second),               // 2026-12-01 23:59:59 CST
		"early": mid,                                 // 2026-12-02 00:00:00 CST
		"noon":  mid.Add(12 * time.Hour),             // 2026-12-02 12:00 CST
		"next":  mid.Add(24*time.Hour + time.Minute), // 2026-12-03
		"old":   mid.Add(-399 * 24 * time.Hour),
	}
	for no, at := range times {
		o := mk(no, order.StatePaid, 0)
		o.CreatedAt, o.UpdatedAt = at, at
		mustAppend(t, s, o)
	}
	day, err := ParseDay("2026-12-02")
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.OrdersOnDate(day)
	if err != nil || nos(list) != "noon,early" {
		t.Fatalf("OrdersOnDate = %s, %v", nos(list), err)
	}
	list, err = s.OrdersOnDate(mid.Add(-time.Hour)) // a UTC instant on the 1st in China
	if err != nil || nos(list) != "late" {
		t.Fatalf("OrdersOnDate(1st) = %s, %v", nos(list), err)
	}
	list, err = s.OrdersOnDate(times["old"])
	if err != nil || nos(list) != "old" {
		t.Fatalf("an order 399 days old: %s, %v", nos(list), err)
	}
	list, err = s.OrdersBetween(mid.Add(-time.Second), time.Time{}, 2)
	if err != nil || nos(list) != "next,noon" {
		t.Fatalf("OrdersBetween open end = %s, %v", nos(list), err)
	}
	if _, err := ParseDay("2026-13-01"); err == nil {
		t.Fatal("bad date parsed")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := mustOpen(t, testDir(t))
	const writers, each = 3, 10
	var wg, readers sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s.Recent(20)
				s.Unresolved()
				s.Get("W0-0")
				s.FindUnresolvedByCodeHash("hash-W1-1")
				s.SummaryOn(t0)
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				o := mk(fmt.Sprintf("W%d-%d", w, i), order.StatePending, w*100+i)
				if err := s.Append(o); err != nil {
					t.Error(err)
					return
				}
				o.State = order.StatePaid
				if err := s.Append(o); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	s.Close()
	s = mustOpen(t, filepath.Dir(s.dir))
	defer s.Close()
	for w := range writers {
		for i := range each {
			o, ok := s.Get(fmt.Sprintf("W%d-%d", w, i))
			if !ok || o.State != order.StatePaid {
				t.Fatalf("W%d-%d = %v, %v", w, i, o.State, ok)
			}
		}
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	dir := testDir(t)
	s := mustOpen(t, dir)
	_, err := Open(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "another ScanBox is using the data directory") {
		t.Errorf("message %q", err)
	}
	s.Close()
	mustOpen(t, dir).Close()
}

func TestSchemaTooNewIsRefused(t *testing.T) {
	dir := testDir(t)
	s := mustOpen(t, dir)
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(dir); !errors.Is(err, ErrTooNew) {
		t.Fatalf("Open of a newer schema = %v, want ErrTooNew", err)
	}
	// The refusal released the lock: a second try is refused for the same
	// reason, not with ErrLocked.
	if _, err := Open(dir); !errors.Is(err, ErrTooNew) {
		t.Fatalf("second try = %v", err)
	}
}

func TestPragmas(t *testing.T) {
	s := mustOpen(t, testDir(t))
	defer s.Close()
	var mode string
	var syncW, syncR int
	if err := s.w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q %v", mode, err)
	}
	if err := s.w.QueryRow("PRAGMA synchronous").Scan(&syncW); err != nil || syncW != 2 {
		t.Fatalf("writer synchronous = %d %v, want 2 (FULL)", syncW, err)
	}
	if err := s.r.QueryRow("PRAGMA synchronous").Scan(&syncR); err != nil || syncR != 2 {
		t.Fatalf("reader synchronous = %d %v", syncR, err)
	}
	// Commits sync with fdatasync where the system has it (openDB).
	if runtime.GOOS == "linux" && !sqlite.FdatasyncEnabled() {
		t.Fatal("SQLite commits with fsync, want fdatasync on Linux")
	}
}

// TestOddDataDirectoryNames: the database is opened by URI, so characters
// that mean something in a URI must not break a data directory's path.
func TestOddDataDirectoryNames(t *testing.T) {
	dir := filepath.Join(testDir(t), "Zhang San 100% #1?x=y", "数据")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir)
	mustAppend(t, s, mk("A", order.StatePending, 1))
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, subdir, dbName)); err != nil {
		t.Fatalf("database not where it belongs: %v", err)
	}
	s = mustOpen(t, dir)
	defer s.Close()
	if _, ok := s.Get("A"); !ok {
		t.Fatal("order lost")
	}
}
