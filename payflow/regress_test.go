package payflow

// Regression tests for the faults an independent review of the payment core
// found (each failed before its fix).

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

// A closed order must not keep the message of an earlier communication failure.
func TestRegressionClosedOrderKeepsCommMessage(t *testing.T) {
	j := newMem()
	var closeOK atomic.Bool
	b := &fakeBank{
		micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("USERPAYING") },
		query:    func(string) (*payclient.Payment, error) { return nil, commErr() },
		close: func(string) (*payclient.Payment, error) {
			if closeOK.Load() {
				return &payclient.Payment{TradeState: payclient.TradeClosed}, nil
			}
			return nil, commErr()
		},
	}
	r := New(j, b, fastCfg, nil)
	o, err := r.Pay(context.Background(), PayRequest{Amount: 100, Code: wechatCode})
	if err != nil || o.State != order.StateUnknown {
		t.Fatalf("Pay = %+v %v", o, err)
	}
	closeOK.Store(true)
	out, _ := r.ResolveAll(context.Background())
	if len(out) != 1 || out[0].State != order.StateClosed {
		t.Fatalf("ResolveAll = %+v", out)
	}
	f := out[0]
	if f.ErrCode != "" || f.Message != messageFor(order.StateClosed, "") {
		t.Errorf("closed order tells the cashier: %q", f.Message)
	}
}

// CloseOrder while a Requery is under way must not report an empty success.
func TestRegressionCloseOrderDuringRequery(t *testing.T) {
	j := newMem()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	b := &fakeBank{
		micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("USERPAYING") },
		query: func(string) (*payclient.Payment, error) {
			select {
			case entered <- struct{}{}:
			default:
			}
			<-release
			return &payclient.Payment{TradeState: payclient.TradeUserPaying}, nil
		},
		close: func(string) (*payclient.Payment, error) { return nil, commErr() },
	}
	r := New(j, b, fastCfg, nil)
	// Put an unknown order in the journal directly.
	o := order.Order{OutTradeNo: "SB000000000000ABCDEFGH", AmountFen: 100, State: order.StateUnknown,
		CreatedAt: time.Now(), UpdatedAt: time.Now(), SentAt: time.Now(), Deadline: time.Now()}
	j.Append(o)
	go r.Requery(context.Background(), o.OutTradeNo)
	<-entered
	type res struct {
		o   order.Order
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := r.CloseOrder(context.Background(), o.OutTradeNo); ch <- res{c, err} }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	got := <-ch
	if got.err == nil && got.o.OutTradeNo == "" {
		t.Errorf("CloseOrder reported success with an empty order; close was never sent")
	}
	if got.err == nil && countOf(b.Calls(), "close") == 0 {
		t.Errorf("CloseOrder returned %v without error but never sent close", got.o.State)
	}
}

// ORDERPAID, then queries cannot get through: the flow must never close (reverse) it.
func TestRegressionOrderPaidThenCloseReverses(t *testing.T) {
	j := newMem()
	n := 0
	b := &fakeBank{
		micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) {
			n++
			if n == 1 {
				return nil, commErr()
			}
			return nil, apiErr("ORDERPAID")
		},
		query: func(string) (*payclient.Payment, error) { return nil, commErr() },
		close: func(string) (*payclient.Payment, error) {
			return &payclient.Payment{TradeState: payclient.TradeRevoked}, nil
		},
	}
	r := New(j, b, fastCfg, nil)
	o, err := r.Pay(context.Background(), PayRequest{Amount: 100, Code: wechatCode})
	if err != nil || o.State != order.StatePaid {
		t.Errorf("ORDERPAID must be recorded as paid: %v %v", o.State, err)
	}
	for _, c := range b.Calls() {
		if c == "close" {
			t.Errorf("bank said ORDERPAID, yet the flow sent close (payer refunded, state %s)", o.State)
			break
		}
	}
}

// A precreate whose answer was lost gives no QR, so nobody can pay it: it is
// closed at once instead of being followed until PrecreateTimeout.
func TestRegressionPrecreateLostAnswerCloses(t *testing.T) {
	j := newMem()
	b := &fakeBank{
		precreate: func(payclient.PrecreateRequest) (*payclient.Precreated, error) { return nil, commErr() },
		query:     func(string) (*payclient.Payment, error) { return nil, apiErr("ORDERNOTEXIST") },
		close: func(string) (*payclient.Payment, error) {
			return &payclient.Payment{TradeState: payclient.TradeClosed}, nil
		},
	}
	cfg := fastCfg
	cfg.PrecreateTimeout = time.Hour
	r := New(j, b, cfg, nil)
	o, err := r.Precreate(context.Background(), 500, "")
	if err == nil || o.CodeURL != "" {
		t.Fatalf("Precreate = %+v, %v; want an error and no QR", o, err)
	}
	final, _ := r.Wait(context.Background(), o.OutTradeNo)
	if final.State != order.StateClosed {
		t.Errorf("final state %v, want closed", final.State)
	}
	if c := b.Calls(); countOf(c, "query") != 0 || countOf(c, "close") != 1 {
		t.Errorf("calls %v: want precreate then one close", c)
	}
}

// staleJournal lets a test run code between ResolveAll's snapshot of the
// unresolved orders and its per-order "already in flight?" check.
type staleJournal struct {
	*memJournal
	between func()
}

func (s *staleJournal) Unresolved() []order.Order {
	snap := s.memJournal.Unresolved()
	if s.between != nil {
		f := s.between
		s.between = nil
		f()
	}
	return snap
}

// R5: a live order that finishes PAID between ResolveAll's snapshot and its
// busy check is resumed from the stale pending copy; with queries failing,
// the resolver then closes it and the bank reverses a payment the cashier
// was already told was received.
func TestRegressionResolveAllStaleSnapshotReversesPaid(t *testing.T) {
	mj := newMem()
	j := &staleJournal{memJournal: mj}
	release := make(chan struct{})
	b := &fakeBank{
		micropay: func(r payclient.MicropayRequest) (*payclient.Payment, error) {
			<-release
			return &payclient.Payment{OutTradeNo: r.OutTradeNo, TradeState: payclient.TradeSuccess,
				TransactionID: "T1", Channel: order.ChannelWeChat, TotalFee: r.TotalFee, TimeEnd: "20261126080000"}, nil
		},
		query: func(string) (*payclient.Payment, error) { return nil, commErr() },
		close: func(string) (*payclient.Payment, error) {
			return &payclient.Payment{TradeState: payclient.TradeRevoked}, nil
		},
	}
	r := New(j, b, fastCfg, nil)
	o, err := r.Start(context.Background(), PayRequest{Amount: 100, Code: wechatCode})
	if err != nil {
		t.Fatal(err)
	}
	j.between = func() {
		close(release)
		if paid, _ := r.Wait(context.Background(), o.OutTradeNo); paid.State != order.StatePaid {
			t.Errorf("setup: the live order should be paid, is %v", paid.State)
		}
	}
	touched, _ := r.ResolveAll(context.Background())
	final, _ := mj.Get(o.OutTradeNo)
	if len(touched) != 0 {
		t.Errorf("ResolveAll drove %d orders from a stale snapshot", len(touched))
	}
	if final.State != order.StatePaid {
		t.Errorf("a paid order was re-driven from a stale copy and ended %s", final.State)
	}
}

// The cashier's Cancel while the details of an ORDERPAID answer are being
// fetched must not stop the fetching: the order is paid either way, and a
// paid order without its transaction id disagrees with the bank's bill
// (found by e2e TestSoakFaultsAndBehaviours).
func TestRegressionCancelDuringOrderPaidDetails(t *testing.T) {
	j := newMem()
	var r *Runner
	var queries atomic.Int32
	b := &fakeBank{
		micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("ORDERPAID") },
		query: func(no string) (*payclient.Payment, error) {
			if queries.Add(1) == 1 {
				r.Cancel(no) // pressed while the first follow-up is under way
				return nil, commErr()
			}
			return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeSuccess, TransactionID: "TDETAIL",
				Channel: order.ChannelWeChat, TotalFee: 100}, nil
		},
	}
	r = New(j, b, fastCfg, nil)
	o, err := r.Pay(context.Background(), PayRequest{Amount: 100, Code: wechatCode})
	if err != nil || o.State != order.StatePaid || o.TransactionID != "TDETAIL" {
		t.Fatalf("Pay = %v %q, %v after %d queries: Cancel stopped fetching the details of a paid order",
			o.State, o.TransactionID, err, queries.Load())
	}
	if c := b.Calls(); countOf(c, "close") != 0 {
		t.Fatalf("a paid order was closed: %v", c)
	}
}
