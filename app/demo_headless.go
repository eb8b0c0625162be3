package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/store"
)

// demoSale is one scripted sale of the headless demo.
type demoSale struct {
	what   string
	amount string
	code   string
}

// demoSales show each path of the procedure; the simulator picks the payer's
// behaviour from the code's last digit.
var demoSales = []demoSale{
	{"WeChat Pay, the customer pays at once", "12.50", "134567890123456780"},
	{"Alipay, the customer confirms with a password", "88.00", "281234567890123454"},
	{"UnionPay, the balance is not enough", "5.00", "6212345678901234568"},
	{"a product barcode scanned by mistake", "5.00", "6901234567892"},
	{"WeChat Pay, the customer never confirms: ScanBox closes the order", "30.00", "101234567890123456"},
	{"Alipay, the customer confirms just as ScanBox gives up: the bank reverses it", "9.90", "251234567890123457"},
}

// runHeadlessDemo is `scanbox demo --headless`: the whole flow on the
// embedded simulator in a throw-away data directory, each step printed.
func runHeadlessDemo(setup demoSetup, stdout, stderr io.Writer) int {
	ctx := context.Background()
	dir, info, cleanup, code := demoBank(setup, banksim.Options{PasswordDelay: 3 * time.Second}, stdout, stderr)
	if code != exitOK {
		return code
	}
	defer cleanup()
	fmt.Fprintf(stdout, "Activated terminal %s of merchant %s (%s, %s); signing key stored protected.\n\n",
		banksim.DefaultTerminalID, banksim.DefaultMchID, info.MerchantName, info.StoreName)

	c, err := core.Open(dir, core.Options{Kind: core.KindCLI, Stderr: stderr,
		Pacing: core.Pacing{PollInterval: time.Second, PollTimeout: 8 * time.Second}})
	if err != nil {
		return report(stderr, "demo", err)
	}
	defer c.Close()
	c.Subscribe(func(o order.Order) { printStep(stdout, o) })
	if err := c.PIN().Set(demoPIN); err != nil {
		return report(stderr, "demo", err)
	}
	st, err := storeOf(c)
	if err != nil {
		return report(stderr, "demo", err)
	}
	if sh, err := st.OpenShift(demoCashier); err == nil {
		fmt.Fprintf(stdout, "Shift %d opened for cashier %s (scanbox shift open); manager PIN set to %s for the demo (scanbox pin set).\n\n", sh.ID, sh.Cashier, demoPIN)
	}
	var firstPaid order.Order

	for i, s := range demoSales {
		fmt.Fprintf(stdout, "[%d/%d] %s: ¥%s, code %s\n", i+1, len(demoSales), s.what, s.amount, s.code)
		fen, err := money.Parse(s.amount)
		if err != nil {
			fmt.Fprintf(stderr, "scanbox demo: %v\n", err)
			return exitUsage
		}
		o, err := c.Pay(fen, s.code)
		if err == nil {
			o, _ = c.Wait(ctx, o.OutTradeNo)
		}
		switch {
		case err != nil && errors.Is(err, payflow.ErrJournal):
			fmt.Fprintf(stderr, "scanbox demo: %v\n", err)
			return exitUsage
		case err != nil:
			fmt.Fprintf(stdout, "          refused before anything was sent: %v\n\n", err)
			continue
		}
		fmt.Fprintf(stdout, "          result: %s\n\n", o.State)
		if o.State == order.StatePaid && firstPaid.OutTradeNo == "" {
			firstPaid = o
		}
	}
	fmt.Fprintln(stdout, "Recent orders (scanbox orders):")
	printOrders(stdout, c.Journal().Recent(20), false, refundedOf(c))
	if firstPaid.OutTradeNo == "" {
		return exitOK
	}
	return demoAfterSale(ctx, c, st, firstPaid, stdout, stderr)
}

// The demo's manager PIN and cashier.
const (
	demoPIN     = "135790"
	demoCashier = "演示收银员"
)

// demoAfterSale shows issue 9's after-sale steps on the simulator: refunds
// (a wrong PIN, more than is left, a partial refund with its slip), the
// shift's close with its summary slip, and a reconciliation with the bank's
// bill, first agreeing, then with a payment only the bank knows.
func demoAfterSale(ctx context.Context, c *core.Core, st *store.Store, o order.Order, stdout, stderr io.Writer) int {
	half := o.AmountFen / 2
	fmt.Fprintf(stdout, "\nAfter the sale: refunds of order %s (¥%s, paid)\n", o.OutTradeNo, o.AmountFen)
	try := func(what, pin string, fen money.Fen) (refund.Refund, bool) {
		fmt.Fprintf(stdout, "  %s: ¥%s\n", what, fen)
		x, err := c.Refund(refund.Request{OutTradeNo: o.OutTradeNo, Amount: fen, Reason: "演示退款", PIN: pin})
		if err != nil {
			fmt.Fprintf(stdout, "          refused before anything was sent: %v\n", err)
			return x, false
		}
		x, _ = c.WaitRefund(ctx, x.OutRefundNo)
		fmt.Fprintf(stdout, "          refund %s: %s. %s\n", x.OutRefundNo, x.State, x.Message)
		return x, true
	}
	try("with a wrong manager PIN", "000000", half)
	try("more than the order's amount", demoPIN, o.AmountFen+1)
	if x, ok := try("half of it, with the right PIN", demoPIN, half); ok {
		fmt.Fprintln(stdout, "\nRefund slip (printed when a receipt printer is set):")
		fmt.Fprint(stdout, indent(c.RefundSlip(x).Text()))
	}
	if left, err := st.Refundable(o.OutTradeNo); err == nil {
		fmt.Fprintf(stdout, "  left to refund of that order: ¥%s\n", left)
	}

	fmt.Fprintln(stdout, "\nShift close (scanbox shift close):")
	if sh, err := st.CloseShift(); err == nil && sh.Summary != nil {
		kept := sh
		kept.Summary = nil
		printSummary(stdout, summaryJSON{Shift: &kept, Summary: *sh.Summary})
		fmt.Fprintln(stdout, "\nShift summary slip:")
		fmt.Fprint(stdout, indent(c.ShiftSlip(sh, *sh.Summary).Text()))
	} else if err != nil {
		fmt.Fprintf(stdout, "  the shift could not be closed: %v\n", err)
	}

	fmt.Fprintln(stdout, "\nReconciliation with the bank's bill of today (scanbox reconcile --date today):")
	res, err := c.Reconcile(ctx, time.Now())
	if err != nil {
		fmt.Fprintf(stdout, "  %v\n", err)
		return exitOK
	}
	printReconcile(stdout, res)
	fmt.Fprintln(stdout, "\nThe bank's staff record a payment the journal never saw; reconciling again:")
	if err := banksim.Admin(ctx, c.Config().BankURL, "bankpay", url.Values{"terminal_id": {banksim.DefaultTerminalID},
		"out_trade_no": {"SBDEMOBANKONLY1"}, "total_fee": {"4200"}, "pay_channel": {"ALIPAY"}}); err != nil {
		fmt.Fprintf(stdout, "  the simulator refused: %v\n", err)
		return exitOK
	}
	if res, err = c.Reconcile(ctx, time.Now()); err != nil {
		fmt.Fprintf(stdout, "  %v\n", err)
		return exitOK
	}
	printReconcile(stdout, res)
	return exitOK
}

func indent(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    | " + l
	}
	return strings.Join(lines, "\n") + "\n"
}
