package payflow

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

// jumpClock is this PC's wall clock, off from the real time by a jump that
// a test changes (a clock corrected by hand or by time sync). It carries no
// monotonic reading, like a time read back from the journal.
type jumpClock struct{ jump atomic.Int64 }

func (c *jumpClock) Now() time.Time       { return time.Now().Add(time.Duration(c.jump.Load())).Round(0) }
func (c *jumpClock) Jump(d time.Duration) { c.jump.Add(int64(d)) }

// countingBank answers micropay USERPAYING, and query USERPAYING until
// paidAfter queries (0: never), then SUCCESS; close CLOSED. hook runs after
// every call.
type countingBank struct {
	mu        sync.Mutex
	queries   int
	closes    int
	paidAfter int
	hook      func(call string, n int)
}

func (b *countingBank) Micropay(_ context.Context, r payclient.MicropayRequest) (*payclient.Payment, error) {
	if b.hook != nil {
		b.hook("micropay", 1)
	}
	return nil, apiErr("USERPAYING")
}
func (b *countingBank) Query(_ context.Context, no string) (*payclient.Payment, error) {
	b.mu.Lock()
	b.queries++
	n := b.queries
	b.mu.Unlock()
	if b.hook != nil {
		b.hook("query", n)
	}
	if b.paidAfter > 0 && n >= b.paidAfter {
		return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeSuccess, TransactionID: "TCLOCK", TotalFee: 100}, nil
	}
	return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeUserPaying}, nil
}
func (b *countingBank) Close(_ context.Context, no string) (*payclient.Payment, error) {
	b.mu.Lock()
	b.closes++
	b.mu.Unlock()
	return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeClosed}, nil
}
func (b *countingBank) Precreate(context.Context, payclient.PrecreateRequest) (*payclient.Precreated, error) {
	panic("not used")
}

// Defect 6 (payflow side), in one process: the PC's clock is corrected
// while an order waits for the payer. Set back an hour, the order used to
// be polled for an hour past its deadline; set forward, it was closed at
// once while the payer was still confirming. Waits and deadlines follow
// the time elapsed since the micropay left, not the wall clock.
func TestRegressionClockJumpDuringWait(t *testing.T) {
	cfg := fastCfg // poll every 2 ms, give up after 200 ms
	t.Run("set back an hour: closed at the real deadline", func(t *testing.T) {
		clk := &jumpClock{}
		b := &countingBank{hook: func(call string, n int) {
			if call == "query" && n == 3 {
				clk.Jump(-time.Hour)
			}
		}}
		r := New(newMem(), b, cfg, nil, WithClock(clk.Now))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		o, err := r.Pay(ctx, PayRequest{Amount: 100, Code: wechatCode})
		if err != nil || o.State != order.StateClosed {
			t.Fatalf("Pay = %v, %v: the order was still polled long after its deadline", o.State, err)
		}
		if max := int(cfg.PollTimeout/cfg.PollInterval) + 2; b.queries > max {
			t.Errorf("%d queries within a %v wait polled every %v", b.queries, cfg.PollTimeout, cfg.PollInterval)
		}
	})
	t.Run("set forward two hours: the payer still pays", func(t *testing.T) {
		clk := &jumpClock{}
		b := &countingBank{paidAfter: 10, hook: func(call string, n int) {
			if call == "query" && n == 3 {
				clk.Jump(2 * time.Hour)
			}
		}}
		r := New(newMem(), b, cfg, nil, WithClock(clk.Now))
		o, err := r.Pay(context.Background(), PayRequest{Amount: 100, Code: wechatCode})
		if err != nil || o.State != order.StatePaid || b.closes != 0 {
			t.Fatalf("Pay = %v, %v, %d closes: the clock jump cut the payer's time short", o.State, err, b.closes)
		}
	})
	t.Run("bank-clock offset measured mid-wait: the payer still pays", func(t *testing.T) {
		var off atomic.Int64
		b := &countingBank{paidAfter: 10, hook: func(call string, n int) {
			if call == "micropay" {
				off.Store(int64(2 * time.Hour)) // the first answer's Date header
			}
		}}
		r := New(newMem(), b, cfg, nil, WithClockOffset(func() time.Duration { return time.Duration(off.Load()) }))
		o, err := r.Pay(context.Background(), PayRequest{Amount: 100, Code: wechatCode})
		if err != nil || o.State != order.StatePaid || b.closes != 0 {
			t.Fatalf("Pay = %v, %v, %d closes", o.State, err, b.closes)
		}
	})
}

// Defect 6 (payflow side), across a restart: the journal's deadline was
// written by a process whose clock was off; the new process must not poll
// the order for hours past its real deadline.
func TestRegressionDeadlineAfterRestartAndClockCorrection(t *testing.T) {
	cfg := fastCfg
	resume := func(t *testing.T, sentAt time.Time, opts ...Option) (*countingBank, []order.Order, error) {
		j := newMem()
		j.Append(order.Order{OutTradeNo: "SBCLOCK0000000000001", AmountFen: 100, State: order.StateWaiting,
			CreatedAt: sentAt, UpdatedAt: sentAt, SentAt: sentAt, Deadline: sentAt.Add(cfg.PollTimeout)})
		b := &countingBank{}
		r := New(j, b, cfg, nil, opts...)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := r.ResolveAll(ctx)
		return b, out, err
	}
	t.Run("written two hours ahead, clock since corrected", func(t *testing.T) {
		// The old process's clock was 2 h fast (no bank answer yet to
		// measure it); now it is right. The deadline on disk is 2 h away.
		b, out, err := resume(t, time.Now().Add(2*time.Hour).Round(0))
		if err != nil || len(out) != 1 || out[0].State != order.StateClosed {
			t.Fatalf("ResolveAll = %+v, %v: polled until a deadline 2 h away", out, err)
		}
		if max := int(cfg.PollTimeout/cfg.PollInterval) + 2; b.queries > max {
			t.Errorf("%d queries", b.queries)
		}
	})
	t.Run("written in bank time, clock still three hours slow", func(t *testing.T) {
		// Times on disk are the bank's (this PC's clock + the measured
		// offset); this PC's clock is still 3 h slow and the offset known.
		clk := &jumpClock{}
		clk.Jump(-3 * time.Hour)
		b, out, err := resume(t, time.Now().Round(0), WithClock(clk.Now),
			WithClockOffset(func() time.Duration { return 3 * time.Hour }))
		if err != nil || len(out) != 1 || out[0].State != order.StateClosed {
			t.Fatalf("ResolveAll = %+v, %v", out, err)
		}
		if b.queries == 0 {
			t.Error("an order within its deadline must be asked about before it is closed")
		}
	})
}
