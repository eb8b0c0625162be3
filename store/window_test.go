package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
)

// TestWindowMatchesSQL: Recent and Get served from the in-memory window, and
// Unresolved from the in-memory set, return exactly what the database holds, through more orders than the
// window keeps, out-of-order CreatedAt, updates of old orders, and pruning.
func TestWindowMatchesSQL(t *testing.T) {
	defer func(n int) { windowSize = n }(windowSize)
	windowSize = 40 // small, so that few appends go past it
	now := t0
	s := mustOpen(t, testDir(t), WithClock(func() time.Time { return now }))
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	var all []string
	compare := func(step string) {
		t.Helper()
		for _, n := range []int{1, 7, 200, windowSize, windowSize + 50, 0} {
			got := nos(s.Recent(n))
			lim := n
			if lim <= 0 {
				lim = -1
			}
			want, err := s.queryOrders("SELECT doc FROM orders ORDER BY created_ns DESC, id DESC LIMIT ?", lim)
			if err != nil {
				t.Fatal(err)
			}
			if got != nos(want) {
				t.Fatalf("%s: Recent(%d) differs from the database", step, n)
			}
		}
		for range 30 {
			no := all[rng.IntN(len(all))]
			got, ok := s.Get(no)
			want, err := s.queryOrders("SELECT doc FROM orders WHERE out_trade_no = ?", no)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (len(want) == 1) {
				t.Fatalf("%s: Get(%s) found=%v, database has %d", step, no, ok, len(want))
			}
			if ok {
				sameOrder(t, got, want[0])
			}
		}
		want, err := s.queryOrders("SELECT doc FROM orders WHERE terminal = 0 ORDER BY created_ns, id")
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Unresolved(); nos(got) != nos(want) {
			t.Fatalf("%s: Unresolved differs from the database", step)
		}
		if _, ok := s.Get("never"); ok {
			t.Fatal("Get of an order never stored")
		}
	}
	for batch := range 5 {
		for i := range 25 {
			no := fmt.Sprintf("O%d-%d", batch, i)
			o := mk(no, order.StatePending, 0)
			// Mostly increasing, sometimes far in the past, sometimes equal.
			o.CreatedAt = t0.Add(time.Duration(batch*25+i) * time.Second)
			switch rng.IntN(10) {
			case 0:
				o.CreatedAt = t0.Add(-time.Duration(rng.IntN(400*24)) * time.Hour)
			case 1:
				o.CreatedAt = t0
			}
			mustAppend(t, s, o)
			all = append(all, no)
			// Update a random earlier order (in or out of the window).
			if u, ok := s.Get(all[rng.IntN(len(all))]); ok {
				u.State = []order.State{order.StatePaid, order.StateUnknown, order.StateClosed}[rng.IntN(3)]
				mustAppend(t, s, u)
			}
		}
		compare(fmt.Sprintf("batch %d", batch))
	}
	// Pruning orders out of the window's reach and inside it.
	now = t0.Add(DefaultRetention + 100*time.Second)
	res, err := s.Prune()
	if err != nil || res.Orders == 0 {
		t.Fatalf("Prune = %+v %v", res, err)
	}
	compare("after prune")
}
