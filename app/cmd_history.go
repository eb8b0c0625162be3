package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/store"
)

// The history commands (cli-contract 1.1: summary, shift, refunds) read the
// store behind the core; like orders they are carried out by the owning
// instance when one runs.
func init() {
	onDir("summary", "totals of a day or a shift: paid, refunded, net, per channel", cmdSummary)
	onDir("shift", "open, close or list cashier shifts (交接班)", cmdShift)
	shiftVerbs = withVerbs("shift", "open", "close", "list")
	onDir("refunds", "list the most recent refunds", cmdRefunds)
}

// period is the --date / --since / --until flags of a listing.
type period struct {
	date, since, until *string
}

func addPeriod(fs *flag.FlagSet) period {
	return period{
		date:  fs.String("date", "", "only those created on this day, YYYY-MM-DD (China time)"),
		since: fs.String("since", "", "only those created at or after this RFC 3339 time"),
		until: fs.String("until", "", "only those created before this RFC 3339 time"),
	}
}

// bounds returns [since, until) (zero: open) and whether any flag was given.
func (p period) bounds(cmd string) (since, until time.Time, set bool, err error) {
	if *p.date != "" {
		if *p.since != "" || *p.until != "" {
			return since, until, false, usagef(cmd, "--date cannot be combined with --since or --until")
		}
		day, err := store.ParseDay(*p.date)
		if err != nil {
			return since, until, false, usagef(cmd, "--date %q is not a date like 2026-12-01", *p.date)
		}
		since, until = store.DayBounds(day)
		return since, until, true, nil
	}
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"since", *p.since, &since}, {"until", *p.until, &until}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.v)
		if err != nil {
			return since, until, false, usagef(cmd, "--%s %q is not an RFC 3339 time like 2026-12-01T08:00:00+08:00", f.name, f.v)
		}
		*f.t, set = t, true
	}
	if set && !since.IsZero() && !until.IsZero() && !until.After(since) {
		return since, until, false, usagef(cmd, "--until must be after --since")
	}
	return since, until, set, nil
}

// storeOf is the core's store, or the command's refusal.
func storeOf(c *core.Core) (*store.Store, error) {
	s, err := c.Store()
	if err != nil {
		return nil, failf(exitUsage, "%v", err)
	}
	return s, nil
}

// historyError turns a store failure into the command's one line.
func historyError(err error) error {
	return failf(exitUsage, "cannot read the history: %s", strings.TrimPrefix(err.Error(), "store: "))
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// summaryJSON is `summary --json`: the store's summary (from, to, total,
// channels, hourly_paid_fen) and what it is of.
type summaryJSON struct {
	Date  string       `json:"date,omitempty"`
	Shift *store.Shift `json:"shift,omitempty"`
	store.Summary
}

func cmdSummary(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("summary", stdout, stderr)
	date := fs.String("date", "", "the day, YYYY-MM-DD (China time; default today)")
	shift := fs.String("shift", "", "a shift instead of a day: current, or a shift's ID (see scanbox shift list)")
	asJSON := fs.Bool("json", false, "print one JSON object (amounts in fen)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if *date != "" && *shift != "" {
		return report(stderr, "summary", usagef("summary", "--date and --shift cannot be used together"))
	}
	var day time.Time
	if *date != "" {
		d, err := store.ParseDay(*date)
		if err != nil {
			return report(stderr, "summary", usagef("summary", "--date %q is not a date like 2026-12-01", *date))
		}
		day = d
	}
	var shiftID int64
	if *shift != "" && *shift != "current" {
		id, err := strconv.ParseInt(*shift, 10, 64)
		if err != nil || id < 1 {
			return report(stderr, "summary", usagef("summary", "--shift is current or a shift's number, not %q", *shift))
		}
		shiftID = id
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "summary", err)
	}
	defer release()
	s, err := storeOf(c)
	if err != nil {
		return report(stderr, "summary", err)
	}
	var out summaryJSON
	switch {
	case *shift == "current":
		sh, open, err := s.CurrentShift()
		if err != nil {
			return report(stderr, "summary", historyError(err))
		}
		if !open {
			return report(stderr, "summary", failf(exitFailed, "no shift is open; open one with scanbox shift open --cashier NAME"))
		}
		shiftID = sh.ID
		fallthrough
	case shiftID != 0:
		sh, err := shiftByID(s, shiftID)
		if err != nil {
			return report(stderr, "summary", err)
		}
		sum, err := s.SummaryForShift(shiftID)
		if err != nil {
			return report(stderr, "summary", historyError(err))
		}
		sh.Summary = nil // the summary is the object itself
		out = summaryJSON{Shift: &sh, Summary: sum}
	default:
		if day.IsZero() {
			day = time.Now()
		}
		sum, err := s.SummaryOn(day)
		if err != nil {
			return report(stderr, "summary", historyError(err))
		}
		out = summaryJSON{Date: sum.From.In(store.China).Format(time.DateOnly), Summary: sum}
	}
	out.From, out.To = out.From.In(store.China), out.To.In(store.China)
	if *asJSON {
		writeJSON(stdout, out)
		return exitOK
	}
	printSummary(stdout, out)
	return exitOK
}

// shiftByID returns one shift; an unknown ID is the caller's mistake.
func shiftByID(s *store.Store, id int64) (store.Shift, error) {
	list, err := s.Shifts(0)
	if err != nil {
		return store.Shift{}, historyError(err)
	}
	for _, sh := range list {
		if sh.ID == id {
			return sh, nil
		}
	}
	return store.Shift{}, usagef("summary", "there is no shift %d (scanbox shift list shows them)", id)
}

func shiftTitle(sh store.Shift) string {
	t := fmt.Sprintf("Shift %d, cashier %s, from %s", sh.ID, sh.Cashier, sh.OpenedAt.In(store.China).Format("2006-01-02 15:04"))
	if sh.Open() {
		return t + " (still open)"
	}
	return t + " to " + sh.ClosedAt.In(store.China).Format("2006-01-02 15:04")
}

func printSummary(w io.Writer, s summaryJSON) {
	switch {
	case s.Shift != nil:
		fmt.Fprintln(w, shiftTitle(*s.Shift))
	default:
		fmt.Fprintf(w, "Summary of %s (China time)\n", s.Date)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WALLET\tPAID (YUAN)\tORDERS\tREFUNDED (YUAN)\tREFUNDS\tNET (YUAN)\tUNRESOLVED\t")
	row := func(name string, t store.Totals) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%d\t\n", name, t.PaidFen.Grouped(), t.PaidCount,
			t.RefundedFen.Grouped(), t.RefundCount, t.NetFen.Grouped(), t.Unresolved)
	}
	for _, ch := range s.Channels {
		row(channelName(ch.Channel), ch.Totals)
	}
	row("TOTAL", s.Total)
	tw.Flush()
	if s.Total.ChangeCount > 0 {
		fmt.Fprintf(w, "%d refund(s) of %s yuan could not be paid back by the bank: its staff settle them by hand\n",
			s.Total.ChangeCount, s.Total.ChangeFen.Grouped())
	}
	if s.Total.Unresolved > 0 {
		fmt.Fprintf(w, "%d order(s) or refund(s) are not definite yet, so the totals may still change; run scanbox resolve\n", s.Total.Unresolved)
	}
}

// channelName is the wallet's name as the cashier knows it.
func channelName(ch string) string {
	switch ch {
	case "WECHAT":
		return "WeChat Pay"
	case "ALIPAY":
		return "Alipay"
	case "UNIONPAY":
		return "UnionPay"
	case "OTHER":
		return "other"
	}
	return ch
}

func cmdShift(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && isHelp(args[0]) {
			return verbHelp(stdout, "shift", "open --cashier NAME [--json]", "close [--json]", "list [--json] [--limit N]")
		}
		return verbMistake(stderr, "shift", first(args), shiftVerbs)
	}
	sub, args := args[0], args[1:]
	name := "shift " + sub
	fs, dir := newFlags(name, stdout, stderr)
	var cashier *string
	limit := new(int)
	switch sub {
	case "open":
		cashier = fs.String("cashier", "", "the cashier's name (required)")
	case "close":
	case "list":
		limit = fs.Int("limit", 50, "how many shifts, newest first")
	default:
		return verbMistake(stderr, "shift", sub, shiftVerbs)
	}
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if cashier != nil && strings.TrimSpace(*cashier) == "" {
		return report(stderr, name, usagef(name, "--cashier NAME is required"))
	}
	if *limit < 0 {
		return report(stderr, name, usagef(name, "--limit must be at least 1"))
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, name, err)
	}
	defer release()
	s, err := storeOf(c)
	if err != nil {
		return report(stderr, name, err)
	}
	switch sub {
	case "open":
		sh, err := s.OpenShift(*cashier)
		switch {
		case errors.Is(err, store.ErrShiftOpen):
			cur, _, _ := s.CurrentShift()
			return report(stderr, name, failf(exitFailed, "shift %d of %s is still open; close it first with scanbox shift close", cur.ID, cur.Cashier))
		case errors.Is(err, store.ErrInvalid):
			return report(stderr, name, usagef(name, "a cashier's name is 1 to %d characters", store.MaxCashierLen))
		case err != nil:
			return report(stderr, name, historyError(err))
		}
		c.Changed()
		if *asJSON {
			writeJSON(stdout, sh)
		} else {
			fmt.Fprintf(stdout, "shift %d opened for %s at %s\n", sh.ID, sh.Cashier, sh.OpenedAt.In(store.China).Format("2006-01-02 15:04:05"))
		}
		return exitOK
	case "close":
		sh, err := s.CloseShift()
		switch {
		case errors.Is(err, store.ErrNoShift):
			return report(stderr, name, failf(exitFailed, "no shift is open"))
		case err != nil:
			return report(stderr, name, historyError(err))
		}
		c.Changed()
		var sum store.Summary
		if sh.Summary != nil {
			sum = *sh.Summary
		}
		if *asJSON {
			writeJSON(stdout, sh)
		} else {
			kept := sh
			kept.Summary = nil
			printSummary(stdout, summaryJSON{Shift: &kept, Summary: sum})
		}
		printReceipt(stdout, stderr, name, !*asJSON, func() (bool, error) { return c.PrintShift(ctx, sh, sum) })
		return exitOK
	}
	list, err := s.Shifts(*limit)
	if err != nil {
		return report(stderr, name, historyError(err))
	}
	if *asJSON {
		if list == nil {
			list = []store.Shift{}
		}
		writeJSON(stdout, list)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SHIFT\tCASHIER\tOPENED\tCLOSED\tPAID\tREFUNDED\tNET")
	for _, sh := range list {
		closed, paid, refunded, net := "open", "", "", ""
		if !sh.Open() {
			closed = sh.ClosedAt.In(store.China).Format("01-02 15:04")
		}
		if sh.Summary != nil {
			paid, refunded, net = sh.Summary.Total.PaidFen.Grouped(), sh.Summary.Total.RefundedFen.Grouped(), sh.Summary.Total.NetFen.Grouped()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", sh.ID, sh.Cashier, sh.OpenedAt.In(store.China).Format("01-02 15:04"), closed, paid, refunded, net)
	}
	tw.Flush()
	return exitOK
}

// refundJSON is one element of `refunds --json`.
type refundJSON struct {
	OutRefundNo string `json:"out_refund_no"`
	OutTradeNo  string `json:"out_trade_no"`
	State       string `json:"state"`
	RefundFen   int64  `json:"refund_fen"`
	RefundID    string `json:"refund_id"`
	CreatedAt   string `json:"created_at"`
	Reason      string `json:"reason"`
	ErrCode     string `json:"err_code,omitempty"`
	Message     string `json:"message,omitempty"`
}

func toRefundJSON(r store.Refund) refundJSON {
	return refundJSON{OutRefundNo: r.OutRefundNo, OutTradeNo: r.OutTradeNo, State: r.State.String(), RefundFen: int64(r.RefundFen),
		RefundID: r.RefundID, CreatedAt: r.CreatedAt.Format(time.RFC3339), Reason: r.Reason, ErrCode: r.ErrCode, Message: r.Message}
}

func cmdRefunds(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("refunds", stdout, stderr)
	asJSON := fs.Bool("json", false, "print a JSON array")
	limit := fs.Int("limit", 100, "how many refunds, newest first")
	p := addPeriod(fs.FlagSet)
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if *limit < 1 {
		return report(stderr, "refunds", usagef("refunds", "--limit must be at least 1"))
	}
	since, until, _, err := p.bounds("refunds")
	if err != nil {
		return report(stderr, "refunds", err)
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "refunds", err)
	}
	defer release()
	s, err := storeOf(c)
	if err != nil {
		return report(stderr, "refunds", err)
	}
	list, err := s.RefundsBetween(since, until, *limit)
	if err != nil {
		return report(stderr, "refunds", historyError(err))
	}
	if *asJSON {
		out := make([]refundJSON, 0, len(list))
		for _, r := range list {
			out = append(out, toRefundJSON(r))
		}
		writeJSON(stdout, out)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tREFUND\tORDER\tAMOUNT\tSTATE\tREASON")
	for _, r := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.CreatedAt.In(store.China).Format("01-02 15:04:05"), r.OutRefundNo,
			r.OutTradeNo, r.RefundFen.Grouped(), r.State, oneLine(r.Reason))
	}
	tw.Flush()
	return exitOK
}

var shiftVerbs []string
