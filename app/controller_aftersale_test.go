package main

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/pin"
	"github.com/scanbox/scanbox/receipt"
)

// The after-sale adapter over the real core, store, refund runner, PIN
// file and the simulator: a refund (and its refusals, which reach no bank),
// the day's summary, a shift closed and its slip, and a reconciliation
// that finds exactly the two differences made at the bank.
func TestAfterSaleOnSimulator(t *testing.T) {
	sim, url := simtest.NewServer(t, banksim.Options{})
	dir := t.TempDir()
	c, err := newTrayController(dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := newAfterSale(c)
	if _, err := a.Remaining("SB1"); !errors.Is(err, errNotActivated) {
		t.Fatalf("before activation: %v", err)
	}
	if _, err := c.Activate(url, banksim.DefaultMchID, banksim.DefaultTerminalID, banksim.DefaultActivationCode); err != nil {
		t.Fatal(err)
	}
	final := make(chan order.Order, 4)
	c.OnOrder(func(o order.Order) {
		if o.State.Terminal() {
			final <- o
		}
	})
	var paid []order.Order
	for _, code := range []string{"134567890123456780", "284567890123456780"} {
		c.SetManualAmount(3000)
		if _, err := c.Pay(3000, code); err != nil {
			t.Fatal(err)
		}
		select {
		case o := <-final:
			if o.State != order.StatePaid {
				t.Fatalf("order %+v", o)
			}
			paid = append(paid, o)
		case <-time.After(30 * time.Second): // a hang guard, not a speed check
			t.Fatal("the order never ended")
		}
	}
	no := paid[0].OutTradeNo

	// No PIN set: refused, nothing at the bank.
	if _, err := a.Refund(t.Context(), no, 1250, "退货", "246810"); !errors.Is(err, pin.ErrNotSet) {
		t.Fatalf("no PIN: %v", err)
	}
	if err := pin.Open(dir).Set("246810"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refund(t.Context(), no, 1250, "退货", "135790"); !errors.Is(err, pin.ErrWrong) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if _, err := a.Refund(t.Context(), no, 3001, "退货", "246810"); err == nil {
		t.Fatal("over the order's amount accepted")
	}
	if n := len(sim.RefundExecutions()); n != 0 {
		t.Fatalf("refusals reached the bank: %v", sim.RefundExecutions())
	}
	x, err := a.Refund(t.Context(), no, 1250, "退货", "246810")
	if err != nil || x.State != "refunded" || x.Amount != 1250 {
		t.Fatalf("refund %+v, %v", x, err)
	}
	if left, err := a.Remaining(no); err != nil || left != 1750 {
		t.Errorf("remaining %v, %v", left, err)
	}
	if rs, err := a.Refunds(no); err != nil || len(rs) != 1 || rs[0].OutRefundNo != x.OutRefundNo || rs[0].Reason != "退货" {
		t.Errorf("refunds of the order %+v, %v", rs, err)
	}
	if ex := sim.RefundExecutions(); ex[banksim.DefaultTerminalID+"/"+x.OutRefundNo] != 1 || len(ex) != 1 {
		t.Errorf("bank executions %v", ex)
	}

	sum, err := a.Summary(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total.Paid != 6000 || sum.Total.Refunded != 1250 || sum.Total.Net != 4750 || len(sum.Channels) != 2 {
		t.Errorf("summary %+v", sum)
	}
	var hourly int64
	for _, v := range sum.Hourly {
		hourly += int64(v)
	}
	if hourly != 6000 {
		t.Errorf("hourly sums to %d", hourly)
	}

	if _, open, _ := a.CurrentShift(); open {
		t.Fatal("a shift is open at start")
	}
	sh, err := a.OpenShift("王芳")
	if err != nil || sh.Cashier != "王芳" {
		t.Fatalf("open %+v %v", sh, err)
	}
	if _, err := a.OpenShift("李雷"); err == nil {
		t.Error("a second shift opened")
	}
	closed, err := a.CloseShift()
	if err != nil || closed.ClosedAt.IsZero() || len(closed.Preview) == 0 {
		t.Fatalf("close %+v %v", closed, err)
	}
	var re *receipt.Error
	if err := a.PrintShift(closed.ID); !errors.As(err, &re) || !errors.Is(err, receipt.ErrNoPrinter) {
		t.Errorf("print without a printer: %v", err)
	}

	// The bank's staff reverse the second payment and the bank has one the
	// journal never saw: exactly those two differences.
	if err := sim.RevokeOrder(banksim.DefaultTerminalID, paid[1].OutTradeNo); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddBankOnlyPayment(banksim.DefaultTerminalID, "SB20990101000000LOST", 880, order.ChannelAlipay, time.Time{}); err != nil {
		t.Fatal(err)
	}
	res, err := a.Reconcile(t.Context(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diffs) != 2 {
		t.Fatalf("differences %+v", res.Diffs)
	}
	kinds := map[string]string{}
	for _, d := range res.Diffs {
		kinds[d.OutTradeNo] = d.Kind
	}
	if kinds[paid[1].OutTradeNo] != "state" || kinds["SB20990101000000LOST"] != "missing_in_journal" {
		t.Errorf("differences %+v", res.Diffs)
	}
	if last, ok := a.LastReconcile(); !ok || len(last.Diffs) != 2 {
		t.Errorf("last %+v", last)
	}
}
