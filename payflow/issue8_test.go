package payflow

// Regression tests for the payment-core defects of issue 8 (each failed
// before its fix).

import (
	"context"
	"sync"
	"testing"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

// everPaid reports whether the journal ever held no as paid, and at what
// amounts and transaction ids.
func (m *memJournal) paidRecords(no string) []order.Order {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []order.Order
	for _, o := range m.recs {
		if o.OutTradeNo == no && o.State == order.StatePaid {
			out = append(out, o)
		}
	}
	return out
}

// Defect 3: a signed SUCCESS answer for another amount (or another order)
// must never make an order paid, from micropay, from a query, or as the
// details after ORDERPAID.
func TestRegressionPaidAnswerForAnotherAmount(t *testing.T) {
	const amount = 1250
	wrong := func(no string) *payclient.Payment {
		return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeSuccess, TransactionID: "TWRONG",
			Channel: order.ChannelWeChat, TotalFee: amount * 100}
	}
	other := func(string) *payclient.Payment {
		return &payclient.Payment{OutTradeNo: "SB000000000000OTHER000", TradeState: payclient.TradeSuccess, TransactionID: "TOTHER",
			Channel: order.ChannelWeChat, TotalFee: amount}
	}
	revoked := func(string) (*payclient.Payment, error) {
		return &payclient.Payment{TradeState: payclient.TradeRevoked}, nil
	}
	cases := []struct {
		name string
		bank func() *fakeBank
	}{
		{"micropay and query at another amount", func() *fakeBank {
			return &fakeBank{
				micropay: func(r payclient.MicropayRequest) (*payclient.Payment, error) { return wrong(r.OutTradeNo), nil },
				query:    func(no string) (*payclient.Payment, error) { return wrong(no), nil },
				close:    revoked,
			}
		}},
		{"query at another amount", func() *fakeBank {
			return &fakeBank{
				micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("USERPAYING") },
				query:    func(no string) (*payclient.Payment, error) { return wrong(no), nil },
				close:    revoked,
			}
		}},
		{"query about another order", func() *fakeBank {
			return &fakeBank{
				micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, commErr() },
				query:    func(no string) (*payclient.Payment, error) { return other(no), nil },
				close:    revoked,
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := newMem()
			r := New(j, c.bank(), fastCfg, nil)
			o, err := r.Pay(context.Background(), PayRequest{Amount: amount, Code: wechatCode})
			if err != nil {
				t.Fatal(err)
			}
			if o.State == order.StatePaid || len(j.paidRecords(o.OutTradeNo)) > 0 {
				t.Fatalf("an answer for another amount or order made the order paid: %+v", j.paidRecords(o.OutTradeNo))
			}
			if o.State != order.StateRevoked || o.TransactionID != "" {
				t.Errorf("final %v %q, want revoked by the close, no transaction recorded", o.State, o.TransactionID)
			}
		})
	}

	t.Run("ORDERPAID details at another amount", func(t *testing.T) {
		j := newMem()
		var mu sync.Mutex
		queries := 0
		b := &fakeBank{
			micropay: func(payclient.MicropayRequest) (*payclient.Payment, error) { return nil, apiErr("ORDERPAID") },
			query: func(no string) (*payclient.Payment, error) {
				mu.Lock()
				queries++
				mu.Unlock()
				return wrong(no), nil
			},
		}
		r := New(j, b, fastCfg, nil)
		o, err := r.Pay(context.Background(), PayRequest{Amount: amount, Code: wechatCode})
		if err != nil {
			t.Fatal(err)
		}
		final, _ := r.Wait(context.Background(), o.OutTradeNo)
		for _, p := range j.paidRecords(o.OutTradeNo) {
			if p.TransactionID != "" || p.AmountFen != amount {
				t.Fatalf("details of another amount were recorded: %+v", p)
			}
		}
		if final.State != order.StatePaid || final.AmountFen != amount {
			t.Errorf("final %+v", final)
		}
		if queries < 2 {
			t.Errorf("a mismatching follow-up must be asked again like a lost one: %d queries", queries)
		}
	})
}
