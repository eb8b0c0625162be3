package main

// The after-sale windows' controllers (issue 9): the refund window, Today,
// the shift handover and reconciliation, each a small interface of app/ui
// adapted here over the core (its store, bank client, PIN and voice). No
// money logic here: refunds go through the refund runner, which checks the
// PIN and journals before the bank; summaries and shifts are the store's.

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/scanbox/scanbox/app/ui"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
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

	mu   sync.Mutex
	last *ui.ReconcileResult // the newest reconciliation asked for in the window
}

var (
	_ ui.RefundController    = (*afterSale)(nil)
	_ ui.TodayController     = (*afterSale)(nil)
	_ ui.ShiftController     = (*afterSale)(nil)
	_ ui.ReconcileController = (*afterSale)(nil)
	_ ui.ReceiptController   = (*afterSale)(nil)
)

func newAfterSale(c *trayController) *afterSale { return &afterSale{c: c} }

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
	if x.State == refund.StateRefunded {
		// Beside the refund, never in its way: the core logs a printer
		// that fails, and without a printer it prints nothing.
		go a.c.core.PrintRefund(a.c.ctx, x)
	}
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
			p, err := a.printer()
			if err == nil {
				err = receipt.Print(a.c.ctx, p, a.shiftSlip(sh))
			}
			if err != nil {
				a.c.log.Warn("shift slip not printed", "shift", id, "err", err)
			}
			return err
		}
	}
	return store.ErrNoShift
}

// LastReconcile implements ui.ReconcileController: the newer of the
// core's daily background run and the last one asked for in the window.
func (a *afterSale) LastReconcile() (ui.ReconcileResult, bool) {
	a.mu.Lock()
	var manual *ui.ReconcileResult
	if a.last != nil {
		m := *a.last
		manual = &m
	}
	a.mu.Unlock()
	bg := a.c.core.LastReconciliation()
	switch {
	case bg == nil && manual == nil:
		return ui.ReconcileResult{}, false
	case bg == nil || manual != nil && !bg.At.After(manual.At):
		return *manual, true
	}
	return backgroundResult(*bg), true
}

// backgroundResult is the core's daily reconciliation as the window shows
// it (it keeps no line counts).
func backgroundResult(r core.Reconciliation) ui.ReconcileResult {
	out := ui.ReconcileResult{Date: r.Date, At: r.At, Background: true, Failed: r.Error != ""}
	out.Diffs = diffs(r.Differences)
	return out
}

// Reconcile implements ui.ReconcileController: the core's reconciliation
// of the China-time day (the bank's bill against the store's orders and
// refunds of the day and its neighbours).
func (a *afterSale) Reconcile(ctx context.Context, day time.Time) (ui.ReconcileResult, error) {
	if _, err := a.c.getRunner(); err != nil {
		return ui.ReconcileResult{}, err
	}
	res, err := a.c.core.Reconcile(ctx, day)
	if err != nil {
		return ui.ReconcileResult{}, err
	}
	out := reconcileResult(res, time.Now())
	a.mu.Lock()
	a.last = &out
	a.mu.Unlock()
	return out, nil
}

func reconcileResult(r reconcile.Result, at time.Time) ui.ReconcileResult {
	return ui.ReconcileResult{Date: r.Date, BankLines: r.BankLines, JournalLines: r.JournalLines,
		Provisional: r.Provisional, At: at, Diffs: diffs(r.Differences)}
}

// diffs are the differences in the window's order: by kind, as found.
func diffs(ds []reconcile.Difference) []ui.ReconcileDiff {
	var out []ui.ReconcileDiff
	for _, d := range ds {
		out = append(out, ui.ReconcileDiff{OutTradeNo: d.OutTradeNo, OutRefundNo: d.OutRefundNo,
			Kind: d.Kind.String(), Bank: d.Bank, Journal: d.Journal})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// printer is the configured receipt printer (nil: none set, which
// receipt.Print reports as ErrNoPrinter).
func (a *afterSale) printer() (receipt.Printer, error) {
	t, err := receipt.ParseTarget(a.c.core.Config().Receipt.Printer)
	if err != nil {
		return nil, &receipt.Error{Kind: receipt.ErrUnavailable, Cause: err}
	}
	return receipt.New(t), nil
}

// ReceiptPrinters implements ui.ReceiptController: the installed printer
// queues (winspool's EnumPrinters on Windows, lpstat elsewhere) as targets.
func (a *afterSale) ReceiptPrinters() ([]string, error) {
	names, err := receipt.Printers()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, receipt.Target{Kind: "spool", Name: n}.String())
	}
	return out, nil
}

// TestPrint implements ui.ReceiptController: a short slip on target (the
// field's text, not yet saved), laid out as the real ones.
func (a *afterSale) TestPrint(ctx context.Context, target, paper string) error {
	t, err := receipt.ParseTarget(target)
	if err != nil {
		return &receipt.Error{Kind: receipt.ErrUnavailable, Cause: err}
	}
	p := receipt.New(t)
	err = receipt.Print(ctx, p, a.testSlip(paper))
	if err != nil {
		a.c.log.Warn("test slip not printed", "printer", target, "err", err)
	} else {
		a.c.log.Info("test slip printed", "printer", target)
	}
	return err
}

// testSlip is the test print: the store, the terminal, the time, and a
// line of Chinese, so that a printer without GBK shows it at once.
func (a *afterSale) testSlip(paper string) receipt.Slip {
	cfg := a.c.core.Config()
	pp, err := receipt.ParsePaper(paper)
	if err != nil {
		pp = receipt.Paper80
	}
	terminal := cfg.TerminalSN
	if terminal == "" {
		terminal = cfg.TerminalID
	}
	now := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
	zh := ui.CurrentLanguage() != ui.English
	title, l1, l2, l3, ok := "Test print", "Store", "Terminal", "Time", "If you can read this, the printer works."
	if zh {
		title, l1, l2, l3, ok = "打印测试", "门店", "终端", "时间", "能看清这张小票，打印机就可以用了。"
	}
	return receipt.Slip{Paper: pp, Lines: []receipt.Line{
		{Text: title, Align: receipt.Center, Bold: true, Double: true},
		{Rule: true},
		{Text: l1, Value: cfg.StoreName},
		{Text: l2, Value: terminal},
		{Text: l3, Value: now},
		{Rule: true},
		{Text: ok},
		{Text: "扫码收款 ScanBox · 中文 GBK 0123456789", Align: receipt.Center},
	}}
}
