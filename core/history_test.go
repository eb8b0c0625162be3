package core

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
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
