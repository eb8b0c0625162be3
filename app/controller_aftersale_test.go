package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

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
	// Refunds settle at once: by default the simulator settles a refund by
	// its random number's last character (1 in 17 would end CHANGE or
	// failed, which this test is not about).
	sim, url := simtest.NewServer(t, banksim.Options{Refunds: banksim.RefundAtOnce})
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
	if last, ok := a.LastReconcile(); !ok || len(last.Diffs) != 2 || last.Background {
		t.Errorf("last %+v", last)
	}

	// The next morning the core's daily run reconciles this day: the
	// window's newest result is that run's, with the same two differences.
	tomorrow := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1)
	morning := time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 9, 30, 0, 0, tomorrow.Location())
	if !c.core.ReconcileIfDue(morning) {
		t.Fatal("the daily reconciliation did not run at 09:30")
	}
	bg, ok := a.LastReconcile()
	if !ok || !bg.Background || bg.Failed || len(bg.Diffs) != 2 || !bg.At.Equal(morning) {
		t.Fatalf("background result %+v", bg)
	}
	kinds = map[string]string{}
	for _, d := range bg.Diffs {
		kinds[d.OutTradeNo] = d.Kind
	}
	if kinds[paid[1].OutTradeNo] != "state" || kinds["SB20990101000000LOST"] != "missing_in_journal" {
		t.Errorf("background differences %+v", bg.Diffs)
	}
}

// Issue 9 item 7: Settings' Test print lays out a slip and sends it to the
// target typed (not yet saved); a printer that cannot be reached is one
// receipt.Error, and the configured printer prints the shift slip.
func TestAfterSaleTestPrintAndConfiguredPrinter(t *testing.T) {
	dir := t.TempDir()
	c, err := newTrayController(dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := newAfterSale(c)
	paper := filepath.Join(dir, "paper.bin")
	if err := a.TestPrint(t.Context(), "file:"+paper, "58mm"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(paper)
	if err != nil || !bytes.HasPrefix(data, []byte{0x1B, '@'}) || !bytes.Contains(data, []byte{0x1D, 'V'}) {
		t.Fatalf("test slip bytes %q, %v", data, err)
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("打印测试")
	if !bytes.Contains(data, []byte(gbk)) {
		t.Errorf("the test slip has no GBK title: %q", data)
	}
	var re *receipt.Error
	err = a.TestPrint(t.Context(), "serial:"+filepath.Join(dir, "no-such-tty"), "80mm")
	if !errors.As(err, &re) || !errors.Is(err, receipt.ErrUnavailable) {
		t.Errorf("missing serial printer: %v", err)
	}
	if err := a.TestPrint(t.Context(), "COM3", "80mm"); !errors.As(err, &re) {
		t.Errorf("a target in no known form: %v", err)
	}

	// Saved through Settings, the printer prints the shift slip.
	s := c.Settings()
	s.ReceiptPrinter, s.PaymentSlips = "file:"+paper, true
	if err := c.SaveSettings(s); err != nil {
		t.Fatal(err)
	}
	if cfg := c.core.Config(); cfg.Receipt.Printer != "file:"+paper || !cfg.Receipt.PaymentSlips {
		t.Fatalf("saved receipt config %+v", cfg.Receipt)
	}
	if _, err := a.OpenShift("王芳"); err != nil {
		t.Fatal(err)
	}
	sh, err := a.CloseShift()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(paper)
	if err := a.PrintShift(sh.ID); err != nil {
		t.Fatalf("shift slip: %v", err)
	}
	after, _ := os.ReadFile(paper)
	if len(after) <= len(before) {
		t.Error("the shift slip was not printed on the configured printer")
	}
}
