package core

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/store"
)

// The store behind the core is reachable for history, and status shows the
// open shift and the refunds not yet definite.
func TestStoreAndStatusHistory(t *testing.T) {
	c, err := Open(t.TempDir(), Options{Kind: KindCLI})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Store()
	if err != nil {
		t.Fatal(err)
	}
	if s != c.Journal() {
		t.Fatal("Store is not the journal in use")
	}
	st := c.Status()
	if st.Shift != nil || st.UnresolvedRefunds != 0 || st.HistoryError != "" {
		t.Fatalf("fresh status: %+v", st)
	}
	if _, err := s.OpenShift("王芳"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	o := order.Order{OutTradeNo: "SB1", Kind: order.KindMicropay, AmountFen: money.Fen(1000), State: order.StatePaid,
		CreatedAt: now, UpdatedAt: now}
	if err := s.Append(o); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendRefund(store.Refund{OutRefundNo: "RF1", OutTradeNo: "SB1", RefundFen: 300,
		State: store.RefundProcessing, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	st = c.Status()
	if st.Shift == nil || st.Shift.Cashier != "王芳" || st.UnresolvedRefunds != 1 {
		t.Fatalf("status: shift %+v, unresolved refunds %d", st.Shift, st.UnresolvedRefunds)
	}
}

// An old journal swapped in keeps payments working and says plainly that
// history is not there.
func TestNoHistoryOnOldJournal(t *testing.T) {
	old := OpenJournal
	OpenJournal = func(dir string, log *slog.Logger) (Journal, error) { return journal.Open(dir) }
	defer func() { OpenJournal = old }()
	c, err := Open(t.TempDir(), Options{Kind: KindCLI})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Store(); !errors.Is(err, ErrNoHistory) {
		t.Fatalf("Store on a journal: %v", err)
	}
	if st := c.Status(); st.Shift != nil || st.HistoryError != "" {
		t.Fatalf("status: %+v", st)
	}
}

// With payment slips on, each paid order prints one slip beside the
// payment, showing the code only masked; a printer that cannot be reached
// changes nothing about the payment.
func TestPaymentSlips(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	c, err := Open(t.TempDir(), Options{Kind: KindServe})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := activate(t, c, url, banksim.DefaultTerminalID); err != nil {
		t.Fatal(err)
	}
	slips := filepath.Join(t.TempDir(), "slips.bin")
	cfg := c.Config()
	cfg.Receipt = config.ReceiptConfig{Printer: "file:" + slips, PaymentSlips: true}
	if err := c.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	const code = "134567890123456780"
	pay := func(code string) {
		t.Helper()
		o, err := c.Pay(1250, code)
		if err != nil {
			t.Fatal(err)
		}
		if o, err = c.Wait(context.Background(), o.OutTradeNo); err != nil || o.State != order.StatePaid {
			t.Fatalf("pay: %v %v", o.State, err)
		}
	}
	pay(code)
	var b []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, _ = os.ReadFile(slips); strings.Contains(string(b), "\x1dVB\x03") {
			break
		}
	}
	if strings.Count(string(b), "\x1b@") != 1 || !strings.Contains(string(b), "1345**********6780") || strings.Contains(string(b), code) {
		t.Fatalf("payment slip: %q", b)
	}
	cfg.Receipt.Printer = "file:" + filepath.Join(t.TempDir(), "gone", "slips.bin")
	if err := c.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	pay("134567890123456790") // a printer that fails: the payment is paid all the same
	if _, err := c.PrintRefund(context.Background(), refund.Refund{OutTradeNo: "x"}); err == nil ||
		!strings.Contains(err.Error(), "收款不受影响") {
		t.Errorf("a failing printer: %v", err)
	}
	cfg.Receipt = config.ReceiptConfig{}
	c.SetConfig(cfg)
	if printed, err := c.PrintRefund(context.Background(), refund.Refund{OutTradeNo: "x"}); printed || err != nil {
		t.Errorf("no printer: printed %v, %v", printed, err)
	}
}

// The owner reconciles yesterday once a day, at or after reconcile_at; the
// result is kept for status and the tray.
func TestReconcileIfDue(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	c, err := Open(t.TempDir(), Options{Kind: KindServe})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	day, _ := store.DayBounds(time.Now())
	if c.ReconcileIfDue(day.Add(10 * time.Hour)) {
		t.Fatal("reconciled before activation")
	}
	if err := activate(t, c, url, banksim.DefaultTerminalID); err != nil {
		t.Fatal(err)
	}
	if c.ReconcileIfDue(day.Add(8*time.Hour+59*time.Minute)) || c.LastReconciliation() != nil {
		t.Fatal("reconciled before 09:00")
	}
	if !c.ReconcileIfDue(day.Add(9 * time.Hour)) {
		t.Fatal("not reconciled at 09:00")
	}
	r := c.LastReconciliation()
	if r == nil || r.Error != "" || !r.Agreed || r.Date != day.AddDate(0, 0, -1).Format(time.DateOnly) {
		t.Fatalf("last reconciliation %+v", r)
	}
	if c.ReconcileIfDue(day.Add(15 * time.Hour)) {
		t.Error("reconciled twice in one day")
	}
	if st := c.Status(); st.Reconciliation == nil || st.Reconciliation.Date != r.Date {
		t.Errorf("status: %+v", st.Reconciliation)
	}
	cfg := c.Config()
	cfg.ReconcileAt = "off"
	if err := c.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if c.ReconcileIfDue(day.Add(24*time.Hour + 10*time.Hour)) {
		t.Error("reconciled with reconcile_at off")
	}
}

// Activation waits for unresolved refunds of the terminal, as for orders:
// their queries need the current key.
func TestActivationRefusedWhileRefundsOpen(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	c, err := Open(t.TempDir(), Options{Kind: KindServe})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := activate(t, c, url, banksim.DefaultTerminalID); err != nil {
		t.Fatal(err)
	}
	o, err := c.Pay(1000, "134567890123456780")
	if err == nil {
		o, err = c.Wait(context.Background(), o.OutTradeNo)
	}
	if err != nil || o.State != order.StatePaid {
		t.Fatalf("pay: %v %v", o.State, err)
	}
	s, _ := c.Store()
	now := time.Now()
	if err := s.AppendRefund(store.Refund{OutRefundNo: "RF0000000000000000000001", OutTradeNo: o.OutTradeNo, RefundFen: 100,
		State: store.RefundUnknown, CreatedAt: now, UpdatedAt: now, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID}); err != nil {
		t.Fatal(err)
	}
	err = activate(t, c, url, banksim.DefaultTerminalID)
	if !errors.Is(err, ErrUnresolvedOrders) || !strings.Contains(err.Error(), "refund") {
		t.Fatalf("activation with a refund open: %v", err)
	}
	if err := s.AppendRefund(store.Refund{OutRefundNo: "RF0000000000000000000001", OutTradeNo: o.OutTradeNo, RefundFen: 100,
		State: store.RefundFailed, CreatedAt: now, UpdatedAt: now, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID}); err != nil {
		t.Fatal(err)
	}
	if err := activate(t, c, url, banksim.DefaultTerminalID); err != nil {
		t.Fatalf("activation once the refund is definite: %v", err)
	}
}
