package main

// The after-sale windows' controllers (issue 9): the refund window, Today,
// the shift handover and reconciliation, each a small interface of app/ui
// adapted here over the core (its store, bank client, PIN and voice). No
// money logic here: refunds go through the refund runner, which checks the
// PIN and journals before the bank; summaries and shifts are the store's.

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/scanbox/scanbox/app/ui"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/receipt"
	"github.com/scanbox/scanbox/reconcile"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/refund/refundstore"
	"github.com/scanbox/scanbox/store"
	"github.com/scanbox/scanbox/voice"
)

// afterSale implements the four window interfaces for the tray.
type afterSale struct {
	c *trayController

	mu      sync.Mutex
	last    *ui.ReconcileResult
	printer receipt.Printer
}

var (
	_ ui.RefundController    = (*afterSale)(nil)
	_ ui.TodayController     = (*afterSale)(nil)
	_ ui.ShiftController     = (*afterSale)(nil)
	_ ui.ReconcileController = (*afterSale)(nil)
)

// envPrinter names a receipt printer target ("spool:NAME", "serial:COM3",
// "file:PATH") until Settings has the field: with none set, Print says that
// no printer is configured.
const envPrinter = "SCANBOX_RECEIPT_PRINTER"

func newAfterSale(c *trayController) *afterSale {
	a := &afterSale{c: c}
	if s := os.Getenv(envPrinter); s != "" {
		if t, err := receipt.ParseTarget(s); err == nil {
			a.printer = receipt.New(t)
		} else {
			c.log.Warn("receipt printer setting not usable", "err", err)
		}
	}
	return a
}

func (a *afterSale) store() (*store.Store, error) { return a.c.core.Store() }

// refunds is the core's refund runner (ErrNotActivated before activation,
// ErrNoHistory on an old journal).
func (a *afterSale) refunds() (*refund.Runner, error) {
	if _, err := a.c.getRunner(); err != nil {
		return nil, err
	}
	return a.c.core.Refunds()
}

func refundLine(x refund.Refund) ui.RefundLine {
	return ui.RefundLine{OutRefundNo: x.OutRefundNo, OutTradeNo: x.OutTradeNo, Amount: x.RefundFen,
		State: x.State.String(), Reason: x.Reason, At: x.CreatedAt, Message: x.Message}
}

// Remaining implements ui.RefundController.
func (a *afterSale) Remaining(no string) (money.Fen, error) {
	r, err := a.refunds()
	if err != nil {
		return 0, err
	}
	return r.Remaining(no)
}

// Refunds implements ui.RefundController.
func (a *afterSale) Refunds(no string) ([]ui.RefundLine, error) {
	s, err := a.store()
	if err != nil {
		return nil, err
	}
	rs, err := s.RefundsOf(no)
	if err != nil {
		return nil, err
	}
	out := make([]ui.RefundLine, 0, len(rs))
	for _, x := range rs {
		out = append(out, refundLine(refundstore.FromStore(x)))
	}
	return out, nil
}

// Refund implements ui.RefundController: the core checks the PIN, stores
// the refund and drives it on its own context (closing the window abandons
// nothing); ctx bounds only the wait for its result.
func (a *afterSale) Refund(ctx context.Context, no string, amount money.Fen, reason, p string) (ui.RefundLine, error) {
	if _, err := a.refunds(); err != nil {
		return ui.RefundLine{}, err
	}
	x, err := a.c.core.Refund(refund.Request{OutTradeNo: no, Amount: amount, Reason: reason, PIN: p})
	if err != nil {
		return ui.RefundLine{}, err
	}
	if y, err := a.c.core.WaitRefund(ctx, x.OutRefundNo); err == nil {
		x = y
	}
	a.c.core.Changed()
	return refundLine(x), nil
}

// SpeakRefunded implements ui.RefundController.
func (a *afterSale) SpeakRefunded(amount money.Fen) {
	a.c.speaker.Say(voice.RefundedClips(amount))
}

func daySummary(s store.Summary) ui.DaySummary {
	conv := func(ch string, t store.Totals) ui.ChannelSum {
		return ui.ChannelSum{Channel: ch, PaidCount: t.PaidCount, Paid: t.PaidFen, RefundCount: t.RefundCount,
			Refunded: t.RefundedFen, Net: t.NetFen, Unresolved: t.Unresolved, ChangeCount: t.ChangeCount, Change: t.ChangeFen}
	}
	out := ui.DaySummary{From: s.From, To: s.To, Total: conv("", s.Total), Hourly: s.HourlyPaidFen}
	for _, c := range s.Channels {
		out.Channels = append(out.Channels, conv(c.Channel, c.Totals))
	}
	return out
}

// Summary implements ui.TodayController.
func (a *afterSale) Summary(day time.Time) (ui.DaySummary, error) {
	s, err := a.store()
	if err != nil {
		return ui.DaySummary{}, err
	}
	sum, err := s.SummaryOn(day)
	if err != nil {
		return ui.DaySummary{}, err
	}
	return daySummary(sum), nil
}

func (a *afterSale) shiftInfo(sh store.Shift) ui.ShiftInfo {
	out := ui.ShiftInfo{ID: sh.ID, Cashier: sh.Cashier, OpenedAt: sh.OpenedAt, ClosedAt: sh.ClosedAt}
	if sh.Summary != nil {
		out.Summary = daySummary(*sh.Summary)
		out.Preview = a.shiftSlip(sh).Preview()
	}
	return out
}

// shiftSlip is the receipt of a shift with its kept summary.
func (a *afterSale) shiftSlip(sh store.Shift) receipt.Slip {
	cfg := a.c.core.Config()
	rs := receipt.Shift{Shop: receipt.Shop{Store: cfg.StoreName, Terminal: cfg.TerminalID},
		ID: fmt.Sprint(sh.ID), Cashier: sh.Cashier, Opened: sh.OpenedAt, Closed: sh.ClosedAt, Printed: time.Now()}
	if sh.Summary != nil {
		for _, c := range sh.Summary.Channels {
			ch, err := order.ParseChannel(c.Channel)
			if err != nil {
				ch = order.ChannelOther
			}
			rs.Channels = append(rs.Channels, receipt.ChannelTotal{Channel: ch, PaidCount: c.PaidCount,
				Paid: c.PaidFen, RefundCount: c.RefundCount, Refunded: c.RefundedFen})
		}
		rs.Unresolved = sh.Summary.Total.Unresolved
	}
	lang := receipt.Chinese
	if ui.CurrentLanguage() == ui.English {
		lang = receipt.English
	}
	return receipt.ShiftSlip(rs, receipt.Options{Lang: lang})
}

// CurrentShift implements ui.ShiftController.
func (a *afterSale) CurrentShift() (ui.ShiftInfo, bool, error) {
	s, err := a.store()
	if err != nil {
		return ui.ShiftInfo{}, false, err
	}
	sh, open, err := s.CurrentShift()
	if err != nil || !open {
		return ui.ShiftInfo{}, false, err
	}
	return a.shiftInfo(sh), true, nil
}

// OpenShift implements ui.ShiftController.
func (a *afterSale) OpenShift(cashier string) (ui.ShiftInfo, error) {
	s, err := a.store()
	if err != nil {
		return ui.ShiftInfo{}, err
	}
	sh, err := s.OpenShift(cashier)
	if err != nil {
		return ui.ShiftInfo{}, err
	}
	a.c.log.Info("shift opened", "shift", sh.ID)
	a.c.core.Changed()
	return a.shiftInfo(sh), nil
}

// CloseShift implements ui.ShiftController.
func (a *afterSale) CloseShift() (ui.ShiftInfo, error) {
	s, err := a.store()
	if err != nil {
		return ui.ShiftInfo{}, err
	}
	sh, err := s.CloseShift()
	if err != nil {
		return ui.ShiftInfo{}, err
	}
	a.c.log.Info("shift closed", "shift", sh.ID)
	a.c.core.Changed()
	return a.shiftInfo(sh), nil
}

// PrintShift implements ui.ShiftController: the slip of a closed shift as
// kept, on the configured printer (*receipt.Error when there is none or it
// fails; payments are not touched either way).
func (a *afterSale) PrintShift(id int64) error {
	s, err := a.store()
	if err != nil {
		return err
	}
	list, err := s.Shifts(0)
	if err != nil {
		return err
	}
	for _, sh := range list {
		if sh.ID == id {
			err := receipt.Print(a.c.ctx, a.printer, a.shiftSlip(sh))
			if err != nil {
				a.c.log.Warn("shift slip not printed", "shift", id, "err", err)
			}
			return err
		}
	}
	return store.ErrNoShift
}

// LastReconcile implements ui.ReconcileController.
func (a *afterSale) LastReconcile() (ui.ReconcileResult, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		return ui.ReconcileResult{}, false
	}
	return *a.last, true
}

// Reconcile implements ui.ReconcileController: the bank's bill of the
// China-time day against the store's orders and refunds of the day before
// to the day after (reconcile.Input's rule for records across midnight).
func (a *afterSale) Reconcile(ctx context.Context, day time.Time) (ui.ReconcileResult, error) {
	if _, err := a.c.getRunner(); err != nil {
		return ui.ReconcileResult{}, err
	}
	s, err := a.store()
	if err != nil {
		return ui.ReconcileResult{}, err
	}
	bank := a.c.core.Bank()
	if bank == nil {
		return ui.ReconcileResult{}, errNotActivated
	}
	d := payclient.DayOf(day)
	bill, err := bank.DownloadBill(ctx, d)
	if err != nil {
		return ui.ReconcileResult{}, err
	}
	from, to := d.Start().AddDate(0, 0, -1), d.Start().AddDate(0, 0, 2)
	orders, err := s.OrdersBetween(from, to, 0)
	if err != nil {
		return ui.ReconcileResult{}, err
	}
	srs, err := s.RefundsBetween(from, to, 0)
	if err != nil {
		return ui.ReconcileResult{}, err
	}
	rs := make([]refund.Refund, 0, len(srs))
	for _, x := range srs {
		rs = append(rs, refundstore.FromStore(x))
	}
	cfg := a.c.core.Config()
	res := reconcile.Compare(reconcile.Input{Bill: bill, Orders: orders, Refunds: rs, MchID: cfg.MchID, TerminalID: cfg.TerminalID})
	out := reconcileResult(res, time.Now())
	a.c.log.Info("reconciled", "date", out.Date, "differences", len(out.Diffs))
	a.mu.Lock()
	a.last = &out
	a.mu.Unlock()
	return out, nil
}

func reconcileResult(r reconcile.Result, at time.Time) ui.ReconcileResult {
	out := ui.ReconcileResult{Date: r.Date, BankLines: r.BankLines, JournalLines: r.JournalLines,
		Provisional: r.Provisional, At: at}
	for _, d := range r.Differences {
		out.Diffs = append(out.Diffs, ui.ReconcileDiff{OutTradeNo: d.OutTradeNo, OutRefundNo: d.OutRefundNo,
			Kind: d.Kind.String(), Bank: d.Bank, Journal: d.Journal})
	}
	sort.SliceStable(out.Diffs, func(i, j int) bool { return out.Diffs[i].Kind < out.Diffs[j].Kind })
	return out
}
