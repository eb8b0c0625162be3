package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/reconcile"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/refund/refundstore"
	"github.com/scanbox/scanbox/store"
)

// ErrNoBill: the bank's bill could not be had (the bank unreachable, a
// garbled answer, a refusal). Reconciliation is then not possible; nothing
// is concluded.
var ErrNoBill = errors.New("the bank's bill could not be had")

// BillError says why the bill could not be had, in one sentence.
type BillError struct {
	Day string // YYYY-MM-DD
	Why string
	Err error
}

func (e *BillError) Error() string {
	return fmt.Sprintf("the bank's bill of %s could not be had: %s; try again later", e.Day, e.Why)
}

func (e *BillError) Unwrap() []error { return []error{ErrNoBill, e.Err} }

// Reconcile downloads the bank's bill of the China-time day of day and
// compares it, order by order and refund by refund, with the store.
func (c *Core) Reconcile(ctx context.Context, day time.Time) (reconcile.Result, error) {
	if _, err := c.Runner(); err != nil {
		return reconcile.Result{}, err
	}
	s, err := c.Store()
	if err != nil {
		return reconcile.Result{}, err
	}
	bank := c.Bank()
	if bank == nil {
		return reconcile.Result{}, ErrNotActivated
	}
	pday := payclient.DayOf(day)
	from, to := store.DayBounds(day)
	bill, err := bank.DownloadBill(ctx, pday)
	if err != nil {
		c.log.Warn("bill download failed", "bill_date", pday.String(), "err", err)
		why := "the bank could not be reached or its answer was not usable"
		var ae *payclient.APIError
		if errors.As(err, &ae) && ae.ErrCode != "" {
			why = "the bank refused it (" + ae.ErrCode + ")"
		}
		return reconcile.Result{}, &BillError{Day: from.Format(time.DateOnly), Why: why, Err: err}
	}
	// The neighbouring days too, so that a record stamped just across
	// midnight on one side is matched rather than reported.
	from, to = from.AddDate(0, 0, -1), to.AddDate(0, 0, 1)
	orders, err := s.OrdersBetween(from, to, 0)
	if err != nil {
		return reconcile.Result{}, err
	}
	srs, err := s.RefundsBetween(from, to, 0)
	if err != nil {
		return reconcile.Result{}, err
	}
	rs := make([]refund.Refund, len(srs))
	for i, r := range srs {
		rs[i] = refundstore.FromStore(r)
	}
	cfg := c.Config()
	res := reconcile.Compare(reconcile.Input{Bill: bill, Orders: orders, Refunds: rs, MchID: cfg.MchID, TerminalID: cfg.TerminalID})
	c.log.Info("reconciled", "bill_date", pday.String(), "bank_lines", res.BankLines, "journal_lines", res.JournalLines,
		"differences", len(res.Differences))
	return res, nil
}
