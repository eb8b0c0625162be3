package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

func init() {
	onDir("orders", "list the most recent orders from the journal", cmdOrders)
	onDir("resolve", "bring every unresolved order to a definite state", cmdResolve)
}

// orderJSON is one element of `orders --json` and `resolve --json`.
type orderJSON struct {
	OutTradeNo    string `json:"out_trade_no"`
	State         string `json:"state"`
	AmountFen     int64  `json:"amount_fen"`
	Channel       string `json:"channel"`
	CreatedAt     string `json:"created_at"`
	CodeMasked    string `json:"code_masked"`
	Kind          string `json:"kind"`
	TransactionID string `json:"transaction_id,omitempty"`
	ErrCode       string `json:"err_code,omitempty"`
	Message       string `json:"message,omitempty"`
	UpdatedAt     string `json:"updated_at"`
	// RefundedFen sums the order's refunds that are refunded or may still
	// be (every state but failed).
	RefundedFen int64 `json:"refunded_fen"`
}

func toJSON(o order.Order) orderJSON {
	return orderJSON{OutTradeNo: o.OutTradeNo, State: o.State.String(), AmountFen: int64(o.AmountFen),
		Channel: o.Channel.String(), CreatedAt: o.CreatedAt.Format(time.RFC3339), CodeMasked: o.CodeMasked,
		Kind: o.Kind.String(), TransactionID: o.TransactionID, ErrCode: o.ErrCode, Message: o.Message,
		UpdatedAt: o.UpdatedAt.Format(time.RFC3339)}
}

// refundedFn says how much of an order is refunded (nil: no history).
type refundedFn func(outTradeNo string) (money.Fen, error)

func refundedOf(c *core.Core) refundedFn {
	if s, err := c.Store(); err == nil {
		return s.RefundedFen
	}
	return nil
}

func printOrders(w io.Writer, os []order.Order, asJSON bool, refunded refundedFn) {
	if asJSON {
		out := make([]orderJSON, 0, len(os))
		for _, o := range os {
			j := toJSON(o)
			if refunded != nil && o.State == order.StatePaid {
				// Only a paid order can have refunds (the store checks).
				if fen, err := refunded(o.OutTradeNo); err == nil {
					j.RefundedFen = int64(fen)
				}
			}
			out = append(out, j)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tORDER\tAMOUNT\tWALLET\tSTATE\tCODE")
	for _, o := range os {
		ch := o.Channel
		if ch == order.ChannelNone {
			ch = o.Guess
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.CreatedAt.Local().Format("01-02 15:04:05"), o.OutTradeNo,
			o.AmountFen.Grouped(), walletName(ch), o.State, o.CodeMasked)
	}
	tw.Flush()
}

func cmdOrders(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("orders", stdout, stderr)
	asJSON := fs.Bool("json", false, "print a JSON array")
	limit := fs.Int("limit", 100, "how many orders, newest first")
	p := addPeriod(fs.FlagSet)
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if *limit < 1 {
		return fs.usage("--limit must be at least 1")
	}
	since, until, period, err := p.bounds("orders")
	if err != nil {
		return report(stderr, "orders", err)
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "orders", err)
	}
	defer release()
	if err := runnerOf(c); err != nil {
		return report(stderr, "orders", err)
	}
	list := c.Journal().Recent(*limit)
	if period {
		s, err := storeOf(c)
		if err != nil {
			return report(stderr, "orders", err)
		}
		if list, err = s.OrdersBetween(since, until, *limit); err != nil {
			return report(stderr, "orders", historyError(err))
		}
	}
	printOrders(stdout, list, *asJSON, refundedOf(c))
	return exitOK
}

func cmdResolve(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("resolve", stdout, stderr)
	asJSON := fs.Bool("json", false, "print the orders touched as a JSON array")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "resolve", err)
	}
	defer release()
	if err := runnerOf(c); err != nil {
		return report(stderr, "resolve", err)
	}
	r, _ := c.Runner()
	touched, err := r.ResolveAll(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "scanbox resolve: stopped early: %v\n", err)
	}
	// In a running instance an order may be driven by a payment or the
	// background resolver right now (ResolveAll leaves it to them): wait
	// for those too, so the exit code says what is really left.
	for _, o := range c.Journal().Unresolved() {
		r.Wait(ctx, o.OutTradeNo)
	}
	refundsLeft := resolveRefunds(ctx, c, stderr)
	ordersLeft := len(c.Journal().Unresolved())
	switch {
	case *asJSON || len(touched) > 0:
		printOrders(stdout, touched, *asJSON, refundedOf(c))
	case ordersLeft == 0 && refundsLeft == 0:
		// One sentence, not an empty table (issue 11 item 13).
		fmt.Fprintln(stdout, "Nothing to resolve: every order and refund already has a definite state.")
	}
	if n := ordersLeft; n > 0 {
		fmt.Fprintf(stderr, "scanbox resolve: %d order(s) are still unresolved; the bank could not be reached, try again later\n", n)
		return exitUnknown
	}
	if refundsLeft > 0 {
		fmt.Fprintf(stderr, "scanbox resolve: %d refund(s) are still unresolved; the bank could not be reached or is still paying them back, try again later\n", refundsLeft)
		return exitUnknown
	}
	return exitOK
}

// resolveRefunds brings every unresolved refund towards a definite state and
// returns how many are still unresolved. Refunds driven right now by a
// command or the background resolver (ResolveAll leaves those) are waited for.
func resolveRefunds(ctx context.Context, c *core.Core, stderr io.Writer) int {
	r, err := c.Refunds()
	if err != nil {
		return 0 // no refunds on this record (an old journal)
	}
	if _, err := r.ResolveAll(ctx); err != nil {
		fmt.Fprintf(stderr, "scanbox resolve: refunds: stopped early: %v\n", err)
	}
	s, err := c.Store()
	if err != nil {
		return 0
	}
	left, err := s.UnresolvedRefunds()
	if err != nil {
		fmt.Fprintf(stderr, "scanbox resolve: cannot read the refunds: %v\n", err)
		return 1
	}
	for _, x := range left {
		r.Wait(ctx, x.OutRefundNo)
	}
	if left, err = s.UnresolvedRefunds(); err != nil {
		return 1
	}
	return len(left)
}
