package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

func TestRefundStateRoundTrip(t *testing.T) {
	for s := RefundPending; s <= RefundChange; s++ {
		got, err := ParseRefundState(s.String())
		if err != nil || got != s {
			t.Fatalf("%v: parsed %v %v", s, got, err)
		}
		b, _ := s.MarshalText()
		var u RefundState
		if err := u.UnmarshalText(b); err != nil || u != s {
			t.Fatalf("%v: text round trip %v %v", s, u, err)
		}
	}
	for _, bad := range []string{"", "invalid", "Refunded", "refund_state(9)"} {
		if _, err := ParseRefundState(bad); err == nil {
			t.Errorf("ParseRefundState(%q) accepted", bad)
		}
	}
	terminal := map[RefundState]bool{RefundRefunded: true, RefundFailed: true, RefundChange: true}
	for s := RefundPending; s <= RefundChange; s++ {
		if s.Terminal() != terminal[s] {
			t.Errorf("%v.Terminal() = %v", s, s.Terminal())
		}
		if s.MayRefund() != (s != RefundFailed) {
			t.Errorf("%v.MayRefund() = %v", s, s.MayRefund())
		}
	}
}

func rf(no, trade string, fen money.Fen, st RefundState, i int) Refund {
	at := t0.Add(time.Hour + time.Duration(i)*time.Second)
	return Refund{OutRefundNo: no, OutTradeNo: trade, RefundFen: fen, State: st, Reason: "退货",
		CreatedAt: at, UpdatedAt: at, MchID: "1900000109", TerminalID: "T0001"}
}

func TestRefunds(t *testing.T) {
	dir := testDir(t)
	s := mustOpen(t, dir)
	paid := mk("P1", order.StatePaid, 1) // 101 fen
	mustAppend(t, s, paid)
	mustAppend(t, s, mk("U1", order.StateUnknown, 2))

	if err := s.AppendRefund(rf("R0", "U1", 1, RefundPending, 0)); !errors.Is(err, ErrNotRefundable) {
		t.Fatalf("refund of an unresolved order = %v", err)
	}
	if err := s.AppendRefund(rf("R0", "nope", 1, RefundPending, 0)); !errors.Is(err, ErrNotRefundable) {
		t.Fatalf("refund of an unknown order = %v", err)
	}
	if err := s.AppendRefund(rf("R0", "P1", 102, RefundPending, 0)); !errors.Is(err, ErrOverRefund) {
		t.Fatalf("refund over the amount = %v", err)
	}
	for _, bad := range []Refund{rf("", "P1", 1, RefundPending, 0), rf("R0", "P1", 0, RefundPending, 0), rf("R0", "P1", 1, RefundInvalid, 0)} {
		if err := s.AppendRefund(bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("invalid refund %+v = %v", bad, err)
		}
	}
	r1 := rf("R1", "P1", 60, RefundPending, 1)
	if err := s.AppendRefund(r1); err != nil {
		t.Fatal(err)
	}
	// A pending refund holds its amount: 41 left.
	if left, err := s.Refundable("P1"); err != nil || left != 41 {
		t.Fatalf("Refundable = %v %v, want 41", left, err)
	}
	if err := s.AppendRefund(rf("R2", "P1", 42, RefundPending, 2)); !errors.Is(err, ErrOverRefund) {
		t.Fatalf("second refund over what is left = %v", err)
	}
	r2 := rf("R2", "P1", 41, RefundPending, 2)
	if err := s.AppendRefund(r2); err != nil {
		t.Fatal(err)
	}
	// A failed refund gives its amount back.
	r2.State, r2.ErrCode = RefundFailed, "NOTENOUGH"
	if err := s.AppendRefund(r2); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.Refundable("P1"); left != 41 {
		t.Fatalf("after a failed refund %v left, want 41", left)
	}
	// A known refund cannot change its amount or order.
	bad := r1
	bad.RefundFen = 1
	if err := s.AppendRefund(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("changing a refund's amount = %v", err)
	}
	r1.State, r1.RefundID = RefundProcessing, "50300001"
	if err := s.AppendRefund(r1); err != nil {
		t.Fatal(err)
	}
	r3 := rf("R3", "P1", 41, RefundUnknown, 3)
	if err := s.AppendRefund(r3); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		got, ok, err := s.GetRefund("R1")
		if err != nil || !ok || got.State != RefundProcessing || got.RefundID != "50300001" || got.Reason != "退货" ||
			!got.CreatedAt.Equal(r1.CreatedAt) {
			t.Fatalf("GetRefund(R1) = %+v %v %v", got, ok, err)
		}
		if _, ok, err := s.GetRefund("nope"); ok || err != nil {
			t.Fatalf("GetRefund(nope) = %v %v", ok, err)
		}
		list, err := s.RefundsOf("P1")
		if err != nil || len(list) != 3 || list[0].OutRefundNo != "R1" || list[2].OutRefundNo != "R3" {
			t.Fatalf("RefundsOf = %+v %v", list, err)
		}
		un, err := s.UnresolvedRefunds()
		if err != nil || len(un) != 2 || un[0].OutRefundNo != "R1" || un[1].OutRefundNo != "R3" {
			t.Fatalf("UnresolvedRefunds = %+v %v", un, err)
		}
		rec, err := s.RecentRefunds(2)
		if err != nil || len(rec) != 2 || rec[0].OutRefundNo != "R3" || rec[1].OutRefundNo != "R2" {
			t.Fatalf("RecentRefunds = %+v %v", rec, err)
		}
		if n, err := s.RefundedFen("P1"); err != nil || n != 101 {
			t.Fatalf("RefundedFen = %v %v, want 101 (processing + unknown)", n, err)
		}
		if left, err := s.Refundable("P1"); err != nil || left != 0 {
			t.Fatalf("Refundable = %v %v", left, err)
		}
		day, _ := s.RefundsOnDate(t0)
		if len(day) != 3 {
			t.Fatalf("RefundsOnDate = %d", len(day))
		}
	}
	check(s)
	s.Close()
	s = mustOpen(t, dir)
	defer s.Close()
	check(s)
}

// TestConcurrentRefundsNeverExceedTheOrder: many refunds of one order
// started at once; the store's check in the same transaction lets through
// exactly as many as fit.
func TestConcurrentRefundsNeverExceedTheOrder(t *testing.T) {
	s := mustOpen(t, testDir(t))
	defer s.Close()
	o := mk("P", order.StatePaid, 0)
	o.AmountFen = 1000
	mustAppend(t, s, o)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, over := 0, 0
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.AppendRefund(rf(fmt.Sprintf("R%02d", i), "P", 300, RefundPending, i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrOverRefund):
				over++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 3 || over != 9 {
		t.Fatalf("%d refunds stored, %d refused; want 3 and 9", ok, over)
	}
	if n, _ := s.RefundedFen("P"); n != 900 {
		t.Fatalf("RefundedFen = %v", n)
	}
}
