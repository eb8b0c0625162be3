package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payflow"
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
	}
	fmt.Fprintln(stdout, "Recent orders (scanbox orders):")
	printOrders(stdout, c.Journal().Recent(20), false, nil)
	return exitOK
}
