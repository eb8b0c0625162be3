package payflow

// Regression tests from the adversarial review before issue 8 was closed
// (each failed before its fix).

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

// A micropay whose answer was lost may have charged the payer. The re-send
// under the same number can be refused by a check the bank makes before it
// looks the order up (the simulator checks TERMINAL_DISABLED and
// DEVICE_MISMATCH first): such a refusal is about the re-send, not about the
// order, and must not record "failed, no money taken" for an order the bank
// has paid. The order is asked about instead.
func TestRegressionResendRefusedAfterLostPaidAnswer(t *testing.T) {
	j := newMem()
	var micropays atomic.Int32
	b := &fakeBank{
		micropay: func(r payclient.MicropayRequest) (*payclient.Payment, error) {
			if micropays.Add(1) == 1 {
				return nil, commErr() // charged, but the answer was lost
			}
			return nil, apiErr("TERMINAL_DISABLED") // bank staff disabled the terminal meanwhile
		},
		query: func(no string) (*payclient.Payment, error) {
			return &payclient.Payment{OutTradeNo: no, TradeState: payclient.TradeSuccess, TransactionID: "T1",
				Channel: order.ChannelWeChat, TotalFee: 100, TimeEnd: "20261201221500"}, nil
		},
		close: func(string) (*payclient.Payment, error) { return nil, commErr() },
	}
	r := New(j, b, fastCfg, nil)
	o, err := r.Pay(context.Background(), PayRequest{Amount: 100, Code: wechatCode})
	if err != nil {
		t.Fatal(err)
	}
	if micropays.Load() != 2 {
		t.Fatalf("micropay sent %d times, want 2 (the re-send after the lost answer)", micropays.Load())
	}
	if o.State != order.StatePaid || o.TransactionID != "T1" {
		t.Fatalf("the bank has the order paid, but it ended %s (%s): the cashier is told no money was taken", o.State, o.ErrCode)
	}
}
