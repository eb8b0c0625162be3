package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/scan"
)

func init() {
	onDir("pay", "charge a payment code: journal, micropay, poll, close", cmdPay)
}

// payResult is the --json object of `scanbox pay` (cli-contract.md).
type payResult struct {
	OutTradeNo    string `json:"out_trade_no"`
	State         string `json:"state"`
	AmountFen     int64  `json:"amount_fen"`
	Channel       string `json:"channel"`
	TransactionID string `json:"transaction_id"`
	Error         string `json:"error"`
}

// contractState maps an order state to the contract's pay states: anything
// not definite is "unknown".
func contractState(s order.State) string {
	if s.Terminal() {
		return s.String()
	}
	return "unknown"
}

func cmdPay(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("pay", stdout, stderr)
	fs.synopsis = "--amount YUAN --code AUTH_CODE [--json] [--poll-interval D] [--poll-timeout D] [--http-timeout D]"
	amount := fs.String("amount", "", "the amount in `YUAN`, e.g. 12.50")
	code := fs.String("code", "", "the customer's payment code (`AUTH_CODE`) as scanned")
	asJSON := fs.Bool("json", false, "print one JSON object")
	var p core.Pacing
	fs.DurationVar(&p.PollInterval, "poll-interval", 0, "time between queries while the payer confirms (default from config, 3s; a running instance uses its own)")
	fs.DurationVar(&p.PollTimeout, "poll-timeout", 0, "how long to wait for the payer before closing (default from config, 45s; a running instance uses its own)")
	fs.DurationVar(&p.HTTPTimeout, "http-timeout", 0, "timeout of each bank request (default from config, 10s; a running instance uses its own)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if *amount == "" || *code == "" {
		return fs.usage("both --amount and --code are required")
	}
	fen, err := money.Parse(*amount)
	if err != nil {
		return fs.usage("--amount %q: %v", *amount, err)
	}
	// A product barcode or a URL is refused before anything else happens.
	if _, err := scan.Recognize(*code); err != nil {
		fmt.Fprintf(stderr, "scanbox pay: %v\n", err)
		return exitFailed
	}
	c, release, err := h.open(*dir, p)
	if err != nil {
		return report(stderr, "pay", err)
	}
	defer release()
	if err := runnerOf(c); err != nil {
		return report(stderr, "pay", err)
	}

	// Progress lines of this order only: a running instance drives other
	// payments at the same time. Changes that arrive before Start has said
	// the number are held back until it has. With --json stdout is the one
	// object, so there is no progress (cli-contract.md).
	var mu sync.Mutex
	var no string
	var early []order.Order
	steps := &stepPrinter{w: stdout}
	if !*asJSON {
		unsub := c.Subscribe(func(o order.Order) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case no == "":
				early = append(early, o)
			case o.OutTradeNo == no:
				steps.step(o)
			}
		})
		defer unsub()
	}
	o, err := c.Pay(fen, *code)
	if err != nil {
		var paid *payflow.AlreadyPaidError
		switch {
		case errors.As(err, &paid) && paid.Order.AmountFen == fen:
			// Codes are single-use: the same code for the same amount is
			// this sale sent again (its first run's answer was not heard).
			// Exit 1 would tell the POS that nothing was charged.
			fmt.Fprintf(stderr, "scanbox pay: this payment code has already paid order %s (%s yuan); do not take the money again\n",
				paid.Order.OutTradeNo, paid.Order.AmountFen)
			return exitUnknown
		case errors.Is(err, payflow.ErrCodeUnresolved):
			fmt.Fprintf(stderr, "scanbox pay: %v; run scanbox resolve\n", err)
			return exitUnknown
		case errors.Is(err, payflow.ErrJournal), errors.Is(err, payflow.ErrBadAmount), errors.Is(err, core.ErrActivating):
			fmt.Fprintf(stderr, "scanbox pay: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "scanbox pay: %v\n", err)
		return exitFailed
	}
	mu.Lock()
	no = o.OutTradeNo
	for _, e := range early {
		if e.OutTradeNo == no {
			steps.step(e)
		}
	}
	early = nil
	mu.Unlock()
	if !*asJSON {
		// While the order is followed, a line every progressEvery says
		// how long ScanBox keeps at it (issue 11 item 13: 30 s of silence
		// with the bank down).
		stopTick := make(chan struct{})
		defer close(stopTick)
		go func() {
			t := time.NewTicker(progressEvery)
			defer t.Stop()
			for {
				select {
				case <-stopTick:
					return
				case <-ctx.Done():
					return
				case <-t.C:
					mu.Lock()
					steps.remind(time.Now())
					mu.Unlock()
				}
			}
		}()
	}
	final, werr := c.Wait(ctx, o.OutTradeNo)
	mu.Lock()
	steps.done = true // no countdown line after the outcome
	mu.Unlock()
	if werr != nil {
		final, _ = c.Journal().Get(o.OutTradeNo)
	}
	res := payResult{OutTradeNo: final.OutTradeNo, State: contractState(final.State), AmountFen: int64(final.AmountFen),
		Channel: final.Channel.String(), TransactionID: final.TransactionID}
	if final.State != order.StatePaid {
		res.Error = final.Message
		if res.Error == "" {
			res.Error = "The outcome is not known yet; run scanbox resolve."
		}
	}
	if *asJSON {
		json.NewEncoder(stdout).Encode(res)
	}
	switch final.State {
	case order.StatePaid:
		return exitOK
	case order.StateFailed, order.StateClosed, order.StateRevoked:
		if !*asJSON {
			fmt.Fprintf(stderr, "scanbox pay: %s\n", res.Error)
		}
		return exitFailed
	}
	if !*asJSON {
		fmt.Fprintf(stderr, "scanbox pay: order %s is not resolved yet; run scanbox resolve\n", final.OutTradeNo)
	}
	return exitUnknown
}

// progressEvery is how often `pay` says how long it keeps following an
// order that is not definite yet; a test shortens it.
var progressEvery = 5 * time.Second

// stepPrinter prints an order's progress: a line per change of state (not
// per journal write: the first send's stamp is no news), one when the bank
// turns out to be unreachable, and remind's countdown lines in between.
type stepPrinter struct {
	w       io.Writer
	last    order.Order
	printed bool
	done    bool
	overdue bool
}

func (p *stepPrinter) step(o order.Order) {
	prev, had := p.last, p.printed
	p.last, p.printed = o, true
	if !had || o.State != prev.State {
		printStep(p.w, o)
		return
	}
	if bankDown(o) && !bankDown(prev) {
		fmt.Fprintf(p.w, "%s  order %s: the bank cannot be reached; ScanBox keeps trying until %s, then closes the order. Do not charge the customer again.\n",
			stamp(), o.OutTradeNo, o.Deadline.Format("15:04:05"))
	}
}

// remind is the countdown line while the order is followed.
func (p *stepPrinter) remind(now time.Time) {
	o := p.last
	if !p.printed || p.done || o.State.Terminal() {
		return
	}
	left := o.Deadline.Sub(now).Round(time.Second)
	switch {
	case o.State == order.StateClosing || o.State == order.StateUnknown || o.Deadline.IsZero():
		fmt.Fprintf(p.w, "%s  order %s: still closing it with the bank; do not charge the customer again\n", stamp(), o.OutTradeNo)
	case left <= 0:
		if !p.overdue { // said once; the closing line follows
			p.overdue = true
			fmt.Fprintf(p.w, "%s  order %s: no answer in time; closing it with the bank\n", stamp(), o.OutTradeNo)
		}
	case bankDown(o):
		fmt.Fprintf(p.w, "%s  order %s: the bank still cannot be reached; %s left before the order is closed\n", stamp(), o.OutTradeNo, left)
	case o.State == order.StateWaiting:
		fmt.Fprintf(p.w, "%s  order %s: still waiting for the payer; %s left\n", stamp(), o.OutTradeNo, left)
	default:
		fmt.Fprintf(p.w, "%s  order %s: no answer from the bank yet; %s left before the order is closed\n", stamp(), o.OutTradeNo, left)
	}
}

// bankDown: the order's last exchange with the bank failed to connect.
func bankDown(o order.Order) bool {
	return o.ErrCode == payflow.CodeComm && (o.State == order.StatePending || o.State == order.StateWaiting)
}

func stamp() string { return time.Now().Format("15:04:05.000") }

// printStep is the human-readable line for one state change.
func printStep(w io.Writer, o order.Order) {
	ts := stamp()
	switch o.State {
	case order.StatePending:
		fmt.Fprintf(w, "%s  order %s journaled: ¥%s, code %s (%s), sending micropay\n", ts, o.OutTradeNo, o.AmountFen, o.CodeMasked, walletName(o.Guess))
		if bankDown(o) {
			fmt.Fprintf(w, "%s  order %s: the bank cannot be reached; ScanBox keeps trying until %s, then closes the order. Do not charge the customer again.\n",
				ts, o.OutTradeNo, o.Deadline.Format("15:04:05"))
		}
	case order.StateWaiting:
		fmt.Fprintf(w, "%s  order %s waiting for the payer to confirm (until %s)\n", ts, o.OutTradeNo, o.Deadline.Format("15:04:05"))
	case order.StateClosing:
		fmt.Fprintf(w, "%s  order %s closing\n", ts, o.OutTradeNo)
	case order.StatePaid:
		fmt.Fprintf(w, "%s  order %s PAID by %s, transaction %s\n", ts, o.OutTradeNo, walletName(o.Channel), o.TransactionID)
	default:
		fmt.Fprintf(w, "%s  order %s %s: %s\n", ts, o.OutTradeNo, o.State, o.Message)
	}
}

func walletName(c order.Channel) string {
	switch c {
	case order.ChannelWeChat:
		return "WeChat Pay"
	case order.ChannelAlipay:
		return "Alipay"
	case order.ChannelUnionPay:
		return "UnionPay"
	case order.ChannelECNY:
		return "e-CNY"
	case order.ChannelOther:
		return "other wallet"
	}
	return "unknown wallet"
}
