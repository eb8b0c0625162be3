package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/scan"
)

func init() {
	commands["pay"] = command{"charge a payment code: journal, micropay, poll, close", cmdPay}
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

func cmdPay(args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("pay", stderr)
	amount := fs.String("amount", "", "amount in yuan, e.g. 12.50")
	code := fs.String("code", "", "the customer's payment code as scanned")
	asJSON := fs.Bool("json", false, "print one JSON object")
	var ov overrides
	fs.DurationVar(&ov.pollInterval, "poll-interval", 0, "time between queries while the payer confirms (default from config, 3s)")
	fs.DurationVar(&ov.pollTimeout, "poll-timeout", 0, "how long to wait for the payer before closing (default from config, 45s)")
	fs.DurationVar(&ov.httpTimeout, "http-timeout", 0, "timeout of each bank request (default from config, 10s)")
	if !parseFlags(fs, args, stderr) {
		return exitUsage
	}
	if *amount == "" || *code == "" {
		fmt.Fprintln(stderr, "scanbox pay: both --amount and --code are required")
		return exitUsage
	}
	fen, err := money.Parse(*amount)
	if err != nil {
		fmt.Fprintf(stderr, "scanbox pay: %q: %v\n", *amount, err)
		return exitUsage
	}
	// A product barcode or a URL is refused before anything else happens.
	if _, err := scan.Recognize(*code); err != nil {
		fmt.Fprintf(stderr, "scanbox pay: %v\n", err)
		return exitFailed
	}
	e, err := openEnv(*dir, ov, stderr)
	if err != nil {
		return report(stderr, "pay", err)
	}
	defer e.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var mu sync.Mutex
	var no string
	if !*asJSON {
		e.runner.Subscribe(func(o order.Order) {
			mu.Lock()
			defer mu.Unlock()
			if o.OutTradeNo == no || no == "" {
				printStep(stdout, o)
			}
		})
	}
	o, err := e.runner.Start(ctx, payflow.PayRequest{Amount: fen, Code: *code})
	if err != nil {
		switch {
		case errors.Is(err, payflow.ErrCodeUnresolved):
			fmt.Fprintf(stderr, "scanbox pay: %v; run scanbox resolve\n", err)
			return exitUnknown
		case errors.Is(err, payflow.ErrJournal), errors.Is(err, payflow.ErrBadAmount):
			fmt.Fprintf(stderr, "scanbox pay: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "scanbox pay: %v\n", err)
		return exitFailed
	}
	mu.Lock()
	no = o.OutTradeNo
	mu.Unlock()
	final, werr := e.runner.Wait(ctx, o.OutTradeNo)
	if werr != nil {
		final, _ = e.journal.Get(o.OutTradeNo)
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

// printStep is the human-readable line for one state change.
func printStep(w io.Writer, o order.Order) {
	ts := time.Now().Format("15:04:05.000")
	switch o.State {
	case order.StatePending:
		fmt.Fprintf(w, "%s  order %s journaled: ¥%s, code %s (%s), sending micropay\n", ts, o.OutTradeNo, o.AmountFen, o.CodeMasked, walletName(o.Guess))
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
