package payflow

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

// Defect 10: after ORDERPAID the order is paid at once and its details
// (transaction_id, channel, time_end) are asked for by query for at most
// PollTimeout. When every details query in that window fails, nothing ever
// asked again: ResolveAll and the background resolver took only unresolved
// orders, so the order stayed paid with no transaction id, disagreeing with
// the bank's bill. Now they also take recent paid orders lacking their
// details, query them and record a matching SUCCESS; the state never moves.
func TestRegressionPaidDetailsCompletedLater(t *testing.T) {
	const amount = 1250
	j := newMem()
	var bankUp atomic.Bool
	success := func(no string) *payclient.Payment {
		return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeSuccess, TransactionID: "TX-DETAILS",
			Channel: order.ChannelAlipay, TimeEnd: "20261201224500", TotalFee: amount}
	}
	var wrongAmount atomic.Bool
	b := &fakeBank{
		micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("ORDERPAID") },
		query: func(no string) (*payclient.Payment, error) {
			switch {
			case wrongAmount.Load():
				p := success(no)
				p.TotalFee = amount + 1 // a SUCCESS for another amount is never taken
				p.TransactionID = "TX-WRONG"
				return p, nil
			case bankUp.Load():
				return success(no), nil
			}
			return nil, commErr()
		},
		close: func(string) (*payclient.Payment, error) {
			t.Error("a paid order must never be closed")
			return nil, commErr()
		},
	}
	cfg := fastCfg
	cfg.PollTimeout = 30 * time.Millisecond // the details window, failed throughout
	cfg.MchID, cfg.TerminalID = "M1", "T1"
	r := New(j, b, cfg, nil)
	ctx := context.Background()
	o, err := r.Pay(ctx, PayRequest{Amount: amount, Code: wechatCode})
	if err != nil || o.State != order.StatePaid || o.TransactionID != "" {
		t.Fatalf("Pay = %+v, %v; want paid without details", o, err)
	}
	if !(o.State == order.StatePaid && o.TransactionID == "") {
		t.Fatalf("NeedsDetails(%+v) = false", o)
	}
	// Another terminal's paid order is not ours to ask about.
	foreign := o
	foreign.OutTradeNo, foreign.TerminalID, foreign.CodeHash = "SBFOREIGN00000000000001", "T9", "other"
	if err := j.Append(foreign); err != nil {
		t.Fatal(err)
	}

	// The bank still fails: a round asks once and changes nothing.
	before := len(b.Calls())
	out, err := r.ResolveAll(ctx)
	if err != nil || len(out) != 1 || out[0].State != order.StatePaid || out[0].TransactionID != "" {
		t.Fatalf("ResolveAll with the bank down = %+v, %v", out, err)
	}
	if got := len(b.Calls()) - before; got != 1 {
		t.Errorf("a resolve round past the details window made %d calls, want 1 query", got)
	}
	// A SUCCESS at another amount is not this order's: not recorded.
	wrongAmount.Store(true)
	if out, _ := r.ResolveAll(ctx); len(out) != 1 || out[0].TransactionID != "" || out[0].State != order.StatePaid {
		t.Fatalf("ResolveAll took a SUCCESS at another amount: %+v", out)
	}
	wrongAmount.Store(false)

	bankUp.Store(true)
	out, err = r.ResolveAll(ctx)
	if err != nil || len(out) != 1 {
		t.Fatalf("ResolveAll = %+v, %v", out, err)
	}
	got, _ := j.Get(o.OutTradeNo)
	if got.State != order.StatePaid || got.TransactionID != "TX-DETAILS" || got.Channel != order.ChannelAlipay ||
		got.TimeEnd != "20261201224500" || !got.UpdatedAt.Equal(o.UpdatedAt) {
		t.Fatalf("journal after ResolveAll = %+v; want paid with the bank's details", got)
	}
	if NeedsDetails(got) {
		t.Error("NeedsDetails still true after the details were recorded")
	}
	if f, _ := j.Get(foreign.OutTradeNo); f != foreign {
		t.Errorf("another terminal's order was touched: %+v", f)
	}
	// Complete now: nothing more is asked.
	before = len(b.Calls())
	if out, _ := r.ResolveAll(ctx); len(out) != 0 || len(b.Calls()) != before {
		t.Errorf("a complete paid order was driven again: %+v, calls %v", out, b.Calls()[before:])
	}
}

// The background resolver completes the details on its own.
func TestPaidDetailsCompletedInBackground(t *testing.T) {
	j := newMem()
	var bankUp atomic.Bool
	b := &fakeBank{
		micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("ORDERPAID") },
		query: func(no string) (*payclient.Payment, error) {
			if !bankUp.Load() {
				return nil, commErr()
			}
			return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeSuccess, TransactionID: "TX-BG",
				Channel: order.ChannelWeChat, TotalFee: 300}, nil
		},
		close: func(string) (*payclient.Payment, error) {
			t.Error("a paid order must never be closed")
			return nil, commErr()
		},
	}
	cfg := fastCfg
	cfg.PollTimeout = 30 * time.Millisecond
	r := New(j, b, cfg, nil)
	o, err := r.Pay(context.Background(), PayRequest{Amount: 300, Code: wechatCode})
	if err != nil || !NeedsDetails(o) {
		t.Fatalf("Pay = %+v, %v", o, err)
	}
	bankUp.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { r.Background(ctx); close(done) }()
	for ctx.Err() == nil {
		if got, _ := j.Get(o.OutTradeNo); got.TransactionID == "TX-BG" && got.State == order.StatePaid {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if got, _ := j.Get(o.OutTradeNo); got.TransactionID != "TX-BG" || got.State != order.StatePaid {
		t.Fatalf("the background resolver left %+v", got)
	}
}
