package refund

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

func TestStateRoundTrip(t *testing.T) {
	for s := StatePending; s <= StateChange; s++ {
		got, err := ParseState(s.String())
		if err != nil || got != s {
			t.Errorf("%v: parsed %v, %v", s, got, err)
		}
		b, _ := s.MarshalText()
		var u State
		if err := u.UnmarshalText(b); err != nil || u != s {
			t.Errorf("%v: text round trip %v, %v", s, u, err)
		}
	}
	if _, err := ParseState("invalid"); err == nil {
		t.Error("invalid parsed")
	}
	if StateFailed.MayRefund() || !StateUnknown.MayRefund() || !StateChange.MayRefund() || !StateProcessing.MayRefund() {
		t.Error("MayRefund wrong")
	}
}

func setup(t *testing.T, bank *fakeBank, fen money.Fen) (*testStore, *Runner) {
	t.Helper()
	st := newMemStore()
	if err := st.AddOrder(paidOrder("SB0001ORDER", fen)); err != nil {
		t.Fatal(err)
	}
	return st, newTestRunner(t, st, bank)
}

func TestRefundAtOnceJournalBeforeBank(t *testing.T) {
	bank := &fakeBank{}
	st, r := setup(t, bank, 1000)
	bank.refund = func(n int, req payclient.RefundRequest) (*payclient.Refund, error) {
		x, ok, _ := st.GetRefund(req.OutRefundNo)
		if !ok || x.State != StatePending || x.SentAt.IsZero() {
			t.Errorf("refund sent before it was stored: %+v %v", x, ok)
		}
		return answer4(req, payclient.RefundSuccess), nil
	}
	x, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 250, Reason: "退货"})
	if err != nil || x.State != StateRefunded || x.RefundID == "" {
		t.Fatalf("got %+v, %v", x, err)
	}
	if left, _ := r.Remaining("SB0001ORDER"); left != 750 {
		t.Errorf("left %v, want 7.50", left)
	}
	if c := bank.Calls(); len(c) != 1 {
		t.Errorf("calls %v", c)
	}
}

func TestResendSameNumberBoundedThenQuery(t *testing.T) {
	bank := &fakeBank{refund: func(int, payclient.RefundRequest) (*payclient.Refund, error) { return nil, errComm },
		query: func(int, string) (*payclient.Refund, error) { return nil, errComm }}
	st, r := setup(t, bank, 1000)
	x, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 100})
	if err != nil {
		t.Fatal(err)
	}
	if x.State != StateUnknown {
		t.Fatalf("state %v, want unknown", x.State)
	}
	calls := bank.Calls()
	refunds, queries := 0, 0
	for _, c := range calls {
		if !strings.HasSuffix(c, ":"+x.OutRefundNo) {
			t.Fatalf("a call under another number: %v", c)
		}
		if strings.HasPrefix(c, "refund:") {
			refunds++
		} else {
			queries++
		}
	}
	if refunds != MaxSends || queries == 0 {
		t.Errorf("%d refunds (want %d) and %d queries", refunds, MaxSends, queries)
	}
	// Unknown counts against the remainder, and blocks a second refund.
	if left, _ := r.Remaining("SB0001ORDER"); left != 900 {
		t.Errorf("left %v", left)
	}
	n := len(bank.Calls())
	if _, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 100}); !errors.Is(err, ErrUnresolved) {
		t.Errorf("second refund while unknown: %v", err)
	}
	if len(bank.Calls()) != n || len(st.All()) != 1 {
		t.Error("second refund reached the bank or the store")
	}
	// The bank comes back: the resolver settles it without a new number.
	bank.mu.Lock()
	bank.query = func(_ int, no string) (*payclient.Refund, error) {
		return &payclient.Refund{OutTradeNo: "SB0001ORDER", OutRefundNo: no, RefundID: "R1", RefundFee: 100, State: payclient.RefundSuccess}, nil
	}
	bank.mu.Unlock()
	if _, err := r.ResolveAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := st.GetRefund(x.OutRefundNo); got.State != StateRefunded || got.RefundID != "R1" {
		t.Errorf("after resolve %+v", got)
	}
}

func TestProcessingThenSuccess(t *testing.T) {
	bank := &fakeBank{
		refund: func(_ int, req payclient.RefundRequest) (*payclient.Refund, error) {
			return answer4(req, payclient.RefundProcessing), nil
		},
		query: func(n int, no string) (*payclient.Refund, error) {
			st := payclient.RefundProcessing
			if n >= 3 {
				st = payclient.RefundSuccess
			}
			return &payclient.Refund{OutTradeNo: "SB0001ORDER", OutRefundNo: no, RefundID: "5000" + no, RefundFee: 300, State: st}, nil
		}}
	_, r := setup(t, bank, 1000)
	x, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 300})
	if err != nil || x.State != StateRefunded {
		t.Fatalf("%+v %v", x, err)
	}
	if bank.nQuery != 3 || bank.nRefund != 1 {
		t.Errorf("refunds %d queries %d", bank.nRefund, bank.nQuery)
	}
}

func TestRefundNotExistResendsRefund(t *testing.T) {
	// The first refund is lost before the bank saw it; refundquery says
	// REFUNDNOTEXIST; the refund itself is sent again, same number.
	bank := &fakeBank{
		refund: func(n int, req payclient.RefundRequest) (*payclient.Refund, error) {
			if n == 1 || n == 2 {
				return nil, errComm
			}
			return answer4(req, payclient.RefundSuccess), nil
		},
		query: func(int, string) (*payclient.Refund, error) {
			return nil, bizErr(payclient.EndpointRefundQuery, "REFUNDNOTEXIST")
		}}
	_, r := setup(t, bank, 1000)
	x, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 1000})
	if err != nil || x.State != StateRefunded {
		t.Fatalf("%+v %v; calls %v", x, err, bank.Calls())
	}
	// And after a restart: a refund left unknown whose query says
	// REFUNDNOTEXIST is re-sent by the resolver, not concluded.
	bank2 := &fakeBank{query: func(int, string) (*payclient.Refund, error) {
		return nil, bizErr(payclient.EndpointRefundQuery, "REFUNDNOTEXIST")
	}}
	st := newMemStore()
	st.AddOrder(paidOrder("SB0002ORDER", 500))
	now := time.Now()
	st.AppendRefund(Refund{OutRefundNo: "RF0000000000000001", OutTradeNo: "SB0002ORDER", RefundFen: 500, State: StateUnknown,
		CreatedAt: now, UpdatedAt: now, SentAt: now, ErrCode: CodeComm})
	r2 := newTestRunner(t, st, bank2)
	if _, err := r2.ResolveAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _, _ := st.GetRefund("RF0000000000000001")
	if got.State != StateRefunded || bank2.nRefund != 1 || bank2.Calls()[0] != "query:RF0000000000000001" {
		t.Errorf("resolved %+v, calls %v", got, bank2.Calls())
	}
}

func TestChangeIsFinalNeverRetried(t *testing.T) {
	bank := &fakeBank{refund: func(_ int, req payclient.RefundRequest) (*payclient.Refund, error) {
		return answer4(req, payclient.RefundChange), nil
	}}
	st, r := setup(t, bank, 1000)
	x, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 600})
	if err != nil || x.State != StateChange || x.Message == "" {
		t.Fatalf("%+v %v", x, err)
	}
	if _, err := r.ResolveAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(bank.Calls()) != 1 {
		t.Errorf("CHANGE retried: %v", bank.Calls())
	}
	// CHANGE counts against the remainder.
	if _, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 401}); !errors.Is(err, ErrOverRefund) {
		t.Errorf("over the remainder after CHANGE: %v", err)
	}
	if len(bank.Calls()) != 1 || len(st.All()) != 1 {
		t.Error("refused refund reached the bank or the store")
	}
}

func TestDefiniteFailureFreesRemainder(t *testing.T) {
	bank := &fakeBank{refund: func(n int, req payclient.RefundRequest) (*payclient.Refund, error) {
		if n == 1 {
			return nil, bizErr(payclient.EndpointRefund, "NOTENOUGH")
		}
		return answer4(req, payclient.RefundSuccess), nil
	}}
	_, r := setup(t, bank, 1000)
	x, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 1000})
	if err != nil || x.State != StateFailed || x.ErrCode != "NOTENOUGH" || !strings.Contains(x.Message, "balance") {
		t.Fatalf("%+v %v", x, err)
	}
	y, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 1000})
	if err != nil || y.State != StateRefunded || y.OutRefundNo == x.OutRefundNo {
		t.Fatalf("%+v %v", y, err)
	}
	if _, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 1}); !errors.Is(err, ErrOverRefund) {
		t.Errorf("refund beyond the order: %v", err)
	}
}

func TestForgedQuerySuccessNeverRecorded(t *testing.T) {
	// A verified-looking refundquery SUCCESS about another amount, another
	// order or another number is a communication failure.
	for _, tc := range []struct {
		name string
		edit func(*payclient.Refund)
	}{
		{"fee", func(x *payclient.Refund) { x.RefundFee++ }},
		{"order", func(x *payclient.Refund) { x.OutTradeNo = "SB9999OTHER" }},
		{"number", func(x *payclient.Refund) { x.OutRefundNo = "RF999999999999" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bank := &fakeBank{
				refund: func(int, payclient.RefundRequest) (*payclient.Refund, error) { return nil, errComm },
				query: func(_ int, no string) (*payclient.Refund, error) {
					x := &payclient.Refund{OutTradeNo: "SB0001ORDER", OutRefundNo: no, RefundID: "FORGED", RefundFee: 100, State: payclient.RefundSuccess}
					tc.edit(x)
					return x, nil
				}}
			st, r := setup(t, bank, 1000)
			x, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 100})
			if err != nil {
				t.Fatal(err)
			}
			got, _, _ := st.GetRefund(x.OutRefundNo)
			if got.State == StateRefunded || got.RefundID == "FORGED" || got.State != StateUnknown {
				t.Errorf("forged answer recorded: %+v", got)
			}
		})
	}
}

func TestStoreFailureSendsNothing(t *testing.T) {
	bank := &fakeBank{}
	st, r := setup(t, bank, 1000)
	st.failing.Store(true)
	if _, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 100}); !errors.Is(err, ErrJournal) {
		t.Fatalf("err %v", err)
	}
	if len(bank.Calls()) != 0 {
		t.Errorf("sent without a stored record: %v", bank.Calls())
	}
}

func TestRefusedBeforeSending(t *testing.T) {
	bank := &fakeBank{}
	st, r := setup(t, bank, 1000)
	o := paidOrder("SB0003CLOSED", 500)
	o.State = order.StateClosed
	st.AddOrder(o)
	for _, tc := range []struct {
		req  Request
		want error
	}{
		{Request{OutTradeNo: "SB0001ORDER", Amount: 1001}, ErrOverRefund},
		{Request{OutTradeNo: "SB0001ORDER", Amount: 0}, ErrBadAmount},
		{Request{OutTradeNo: "SB0404", Amount: 1}, ErrOrderUnknown},
		{Request{OutTradeNo: "SB0003CLOSED", Amount: 1}, ErrNotPaid},
	} {
		if _, err := r.Refund(context.Background(), tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.req, err, tc.want)
		}
	}
	if len(bank.Calls()) != 0 || len(st.All()) != 0 {
		t.Error("a refused refund reached the bank or the store")
	}
	// No authorizer: refused.
	r2 := New(st, bank, nil, fastCfg, nil)
	if _, err := r2.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 1}); !errors.Is(err, ErrNoAuthorizer) {
		t.Errorf("no authorizer: %v", err)
	}
}

func TestConcurrentRefundsNeverExceedOrder(t *testing.T) {
	bank := &fakeBank{}
	st, r := setup(t, bank, 1000)
	errs := make(chan error, 10)
	for range 10 {
		go func() {
			_, err := r.Refund(context.Background(), Request{OutTradeNo: "SB0001ORDER", Amount: 300})
			errs <- err
		}()
	}
	ok := 0
	for range 10 {
		if <-errs == nil {
			ok++
		}
	}
	var sum money.Fen
	for _, x := range st.All() {
		if x.State.MayRefund() {
			sum += x.RefundFen
		}
	}
	if sum > 1000 || ok > 3 || ok == 0 {
		t.Errorf("%d refunds accepted, %v refunded of 10.00", ok, sum)
	}
}

func TestStepPure(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	x := Refund{OutRefundNo: "RF1", OutTradeNo: "SB1", RefundFen: 1, TotalFen: 2, State: StatePending, CreatedAt: now}
	a, ea := Step(x, Event{Kind: EvStart, Now: now}, Config{})
	b, eb := Step(x, Event{Kind: EvStart, Now: now}, Config{})
	if a != b || ea != eb || ea.Kind != EffRefund {
		t.Fatal("Step is not deterministic or does not send")
	}
	// Started once only.
	if _, e := Step(a, Event{Kind: EvStart, Now: now}, Config{}); e.Kind != EffNone {
		t.Errorf("restart sent again: %v", e.Kind)
	}
	// A terminal state takes nothing.
	f := a
	f.State = StateChange
	for _, k := range []EventKind{EvResume, EvTick, EvAnswer} {
		if g, e := Step(f, Event{Kind: k, Now: now, Outcome: payclient.RefundOutcomeRefunded}, Config{}); g != f || e.Kind != EffNone {
			t.Errorf("terminal refund moved on %v", k)
		}
	}
	// A processing refund stays processing on an unreadable answer.
	p := a
	p.State = StateProcessing
	g, e := Step(p, Event{Kind: EvAnswer, Now: now, Call: payclient.CallRefundQuery, Outcome: payclient.RefundOutcomeUnknown, ErrCode: CodeComm}, Config{})
	if g.State != StateProcessing || e.Kind != EffWait {
		t.Errorf("processing on COMM: %v %v", g.State, e.Kind)
	}
}
