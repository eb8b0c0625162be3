package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/pin"
	"github.com/scanbox/scanbox/reconcile"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/refund/refundstore"
	"github.com/scanbox/scanbox/store"
)

func init() {
	onDir("pin", "set or check the manager PIN (read from standard input)", cmdPIN)
	pinVerbs = withVerbs("pin", "set", "check")
	onDir("refund", "refund part or all of a paid order (manager PIN from standard input)", cmdRefund)
	onDir("reconcile", "compare the bank's bill of a day with the journal", cmdReconcile)
	stdinLines["pin"] = func(args []string) int {
		switch {
		case len(args) > 0 && args[0] == "set":
			return 2
		case len(args) > 0 && args[0] == "check":
			return 1
		}
		return 0
	}
	stdinLines["refund"] = func(args []string) int {
		if boolFlagSet(args, "pin-stdin") {
			return 1
		}
		return 0
	}
	// The flags are checked before the PIN is read: a wrong flag is said
	// at once, not after a PIN typed for nothing.
	stdinFlagCheck["pin"] = func(args []string, stderr io.Writer) (int, bool) {
		if len(args) == 0 || (args[0] != "set" && args[0] != "check") {
			return exitOK, true // no PIN is read; the command says what is wrong
		}
		fs, _ := newFlags("pin "+args[0], io.Discard, stderr)
		return fs.parse(args[1:])
	}
	stdinFlagCheck["refund"] = func(args []string, stderr io.Writer) (int, bool) {
		fs, _ := refundFlags(io.Discard, stderr)
		return fs.parse(args)
	}
}

// stdinFlagCheck parses a command's flags before its standard input is read.
var stdinFlagCheck = map[string]func(args []string, stderr io.Writer) (int, bool){}

// refundOpts are refund's flags.
type refundOpts struct {
	no, amount, reason, dir *string
	pinStdin, asJSON        *bool
}

func refundFlags(stdout, stderr io.Writer) (*flagSet, refundOpts) {
	fs, dir := newFlags("refund", stdout, stderr)
	fs.synopsis = "--order OUT_TRADE_NO --amount YUAN [--reason TEXT] --pin-stdin [--json]"
	return fs, refundOpts{
		dir:      dir,
		no:       fs.String("order", "", "the order's number (out_trade_no, see scanbox orders)"),
		amount:   fs.String("amount", "", "how much to refund, in yuan (e.g. 12.50)"),
		reason:   fs.String("reason", "", "why (sent to the bank, kept with the refund)"),
		pinStdin: fs.Bool("pin-stdin", false, "read the manager PIN from standard input (required)"),
		asJSON:   fs.Bool("json", false, "print one JSON object"),
	}
}

// stdinLines says how many lines of standard input a command reads (its PIN).
// They are read by the calling process, before the command is carried out
// here or by the owning instance, and handed to the command as leading
// arguments that start with a NUL byte: no argument a user or script can
// pass on a command line holds one, so they cannot be forged or made to
// show in a process list; the owner gets them over its local endpoint
// (mode 0600 / the pipe's ACL), and they are never logged.
var stdinLines = map[string]func(args []string) int{}

// stdinMark starts an argument that carries a line of standard input.
const stdinMark = "\x00stdin:"

// maxStdinLine bounds a line read for a PIN.
const maxStdinLine = 256

// withStdin reads the lines cmd wants from in and puts them before args.
func withStdin(cmd string, args []string, in io.Reader) ([]string, error) {
	f := stdinLines[cmd]
	if f == nil {
		return args, nil
	}
	n := f(args)
	if n == 0 {
		return args, nil
	}
	r := bufio.NewReaderSize(in, maxStdinLine)
	lines := make([]string, 0, n+len(args))
	for range n {
		line, err := r.ReadSlice('\n')
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			if errors.Is(err, bufio.ErrBufferFull) {
				return nil, fmt.Errorf("the line read from standard input is too long")
			}
			return nil, fmt.Errorf("standard input ended before the PIN was read")
		}
		lines = append(lines, stdinMark+strings.TrimRight(string(line), "\r\n"))
	}
	return append(lines, args...), nil
}

// takeStdin splits the stdin lines off a command's arguments.
func takeStdin(args []string) (lines, rest []string) {
	for len(args) > 0 && strings.HasPrefix(args[0], stdinMark) {
		lines = append(lines, strings.TrimPrefix(args[0], stdinMark))
		args = args[1:]
	}
	return lines, args
}

// boolFlagSet reports whether a boolean flag is set (before any "--"; --name=false is not).
func boolFlagSet(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), name)
		if ok && strings.HasPrefix(a, "-") && (v == "" || v == "=true" || v == "=1") {
			return true
		}
	}
	return false
}

func cmdPIN(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	lines, args := takeStdin(args)
	if len(args) == 0 || (args[0] != "set" && args[0] != "check") {
		if len(args) > 0 && isHelp(args[0]) {
			return verbHelp(stdout, "pin", "set    (the new PIN, 6 to 12 digits, twice on standard input)", "check  (the PIN once on standard input)")
		}
		return verbMistake(stderr, "pin", first(args), pinVerbs)
	}
	sub := args[0]
	name := "pin " + sub
	fs, dir := newFlags(name, stdout, stderr)
	if code, ok := fs.parse(args[1:]); !ok {
		return code
	}
	want := map[string]int{"set": 2, "check": 1}[sub]
	if len(lines) != want {
		return report(stderr, name, usagef(name, "the PIN is read from standard input"))
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, name, err)
	}
	defer release()
	m := c.PIN()
	if sub == "set" {
		err := m.SetTwice(lines[0], lines[1])
		switch {
		case err == nil:
			c.Log().Info("manager PIN set")
			fmt.Fprintln(stdout, "the manager PIN is set")
			return exitOK
		case errors.Is(err, pin.ErrFormat), errors.Is(err, pin.ErrMismatch):
			return report(stderr, name, failf(exitUsage, "%v; nothing was changed", err))
		}
		return report(stderr, name, failf(exitUsage, "%v", err))
	}
	err = m.Check(lines[0])
	switch {
	case err == nil:
		fmt.Fprintln(stdout, "the manager PIN is right")
		return exitOK
	case errors.Is(err, pin.ErrStorage):
		return report(stderr, name, failf(exitUsage, "%v", err))
	}
	return report(stderr, name, failf(exitFailed, "%v", err))
}

// refundResult is the --json object of `scanbox refund` (cli-contract 1.1).
type refundResult struct {
	OutRefundNo string `json:"out_refund_no"`
	OutTradeNo  string `json:"out_trade_no"`
	State       string `json:"state"`
	RefundFen   int64  `json:"refund_fen"`
	RefundID    string `json:"refund_id"`
	Error       string `json:"error"`
}

func cmdRefund(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	lines, args := takeStdin(args)
	fs, opt := refundFlags(stdout, stderr)
	no, amount, reason, pinStdin, asJSON, dir := opt.no, opt.amount, opt.reason, opt.pinStdin, opt.asJSON, opt.dir
	if code, ok := fs.parse(args); !ok {
		return code
	}
	switch {
	case *no == "" || *amount == "":
		return report(stderr, "refund", usagef("refund", "--order and --amount are required"))
	case !*pinStdin:
		return report(stderr, "refund", usagef("refund", "the manager PIN is read from standard input: add --pin-stdin"))
	case len(lines) != 1:
		return report(stderr, "refund", usagef("refund", "the manager PIN is read from standard input"))
	}
	fen, err := money.Parse(*amount)
	if err != nil || fen <= 0 {
		return report(stderr, "refund", usagef("refund", "--amount %q is not an amount in yuan like 12.50", *amount))
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "refund", err)
	}
	defer release()
	if err := runnerOf(c); err != nil {
		return report(stderr, "refund", err)
	}
	if _, err := c.Refunds(); err != nil {
		return report(stderr, "refund", failf(exitUsage, "%v", err))
	}
	refuse := func(code int, msg string) int {
		if *asJSON {
			json.NewEncoder(stdout).Encode(refundResult{OutTradeNo: *no, RefundFen: int64(fen), State: "failed", Error: msg})
			return code
		}
		fmt.Fprintf(stderr, "scanbox refund: %s\n", oneLine(msg))
		return code
	}
	x, err := c.Refund(refund.Request{OutTradeNo: *no, Amount: fen, Reason: *reason, PIN: lines[0]})
	if err != nil {
		// Refused before anything was sent.
		if errors.Is(err, core.ErrActivating) || errors.Is(err, core.ErrClosed) || errors.Is(err, refund.ErrJournal) ||
			errors.Is(err, pin.ErrStorage) || errors.Is(err, refund.ErrBadAmount) {
			return refuse(exitUsage, err.Error())
		}
		return refuse(exitFailed, err.Error())
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "%s  refund %s of order %s stored: ¥%s, sending\n", time.Now().Format("15:04:05.000"), x.OutRefundNo, x.OutTradeNo, x.RefundFen)
	}
	final, werr := c.WaitRefund(ctx, x.OutRefundNo)
	if werr != nil || final.OutRefundNo == "" {
		if s, err := c.Store(); err == nil {
			if r, ok, _ := s.GetRefund(x.OutRefundNo); ok {
				final = refundstore.FromStore(r)
			}
		}
		if final.OutRefundNo == "" {
			final = x
		}
	}
	res := refundResult{OutRefundNo: final.OutRefundNo, OutTradeNo: final.OutTradeNo, State: refundState(final.State),
		RefundFen: int64(final.RefundFen), RefundID: final.RefundID}
	if final.State != refund.StateRefunded {
		res.Error = final.Message
		if res.Error == "" {
			res.Error = "The refund's outcome is not known yet; ScanBox keeps following it (see scanbox refunds, or run scanbox resolve)."
		}
	}
	if *asJSON {
		json.NewEncoder(stdout).Encode(res)
	}
	printReceipt(stdout, stderr, "refund", !*asJSON, func() (bool, error) { return c.PrintRefund(ctx, final) })
	switch final.State {
	case refund.StateRefunded:
		if !*asJSON {
			fmt.Fprintf(stdout, "%s  refund %s REFUNDED: ¥%s back to the payer\n", time.Now().Format("15:04:05.000"), final.OutRefundNo, final.RefundFen)
		}
		return exitOK
	case refund.StateFailed, refund.StateChange:
		if !*asJSON {
			fmt.Fprintf(stderr, "scanbox refund: %s\n", oneLine(res.Error))
		}
		return exitFailed
	}
	if !*asJSON {
		fmt.Fprintf(stderr, "scanbox refund: refund %s is not definite yet (%s); ScanBox follows it, see scanbox refunds or run scanbox resolve\n",
			final.OutRefundNo, final.State)
	}
	return exitUnknown
}

// refundState is the contract's name of a refund state: a refund stored
// but not yet answered (pending) is not definite, as unknown is.
func refundState(s refund.State) string {
	if s == refund.StatePending {
		return "unknown"
	}
	return s.String()
}

func cmdReconcile(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("reconcile", stdout, stderr)
	date := fs.String("date", "", "the day, YYYY-MM-DD (China time; default yesterday)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	day := time.Now().In(store.China).AddDate(0, 0, -1)
	if *date != "" {
		d, err := store.ParseDay(*date)
		if err != nil {
			return report(stderr, "reconcile", usagef("reconcile", "--date %q is not a date like 2026-12-01", *date))
		}
		day = d
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "reconcile", err)
	}
	defer release()
	if err := runnerOf(c); err != nil {
		return report(stderr, "reconcile", err)
	}
	if _, err := storeOf(c); err != nil {
		return report(stderr, "reconcile", err)
	}
	res, err := c.Reconcile(ctx, day)
	var be *core.BillError
	switch {
	case errors.As(err, &be):
		fmt.Fprintf(stderr, "scanbox reconcile: %s\n", oneLine(be.Error()))
		return exitUnknown
	case err != nil:
		return report(stderr, "reconcile", historyError(err))
	}
	if *asJSON {
		writeJSON(stdout, res)
	} else {
		printReconcile(stdout, res)
	}
	if !res.Agreed() {
		return exitFailed
	}
	return exitOK
}

func printReconcile(w io.Writer, res reconcile.Result) {
	note := ""
	if res.Provisional {
		note = " (the bank's day is not over: its bill may still change)"
	}
	if res.Agreed() {
		fmt.Fprintf(w, "%s: the bank's bill (%d lines) and the journal (%d lines) agree%s\n", res.Date, res.BankLines, res.JournalLines, note)
		return
	}
	fmt.Fprintf(w, "%s: %d difference(s) between the bank's bill (%d lines) and the journal (%d lines)%s\n",
		res.Date, len(res.Differences), res.BankLines, res.JournalLines, note)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ORDER\tREFUND\tKIND\tBANK\tJOURNAL\tWHAT TO DO")
	for _, d := range res.Differences {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.OutTradeNo, d.OutRefundNo, d.Kind, d.Bank, d.Journal, d.Advice)
	}
	tw.Flush()
}

// printReceipt prints a slip if a printer is configured. Its failure is one
// line on stderr and changes nothing else: not the exit code, not the record.
func printReceipt(stdout, stderr io.Writer, cmd string, say bool, print func() (bool, error)) {
	printed, err := print()
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "scanbox %s: %s\n", cmd, oneLine(err.Error()))
	case printed && say:
		fmt.Fprintln(stdout, "receipt printed")
	}
}

var pinVerbs []string
