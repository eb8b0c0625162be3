package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
)

func init() {
	onDir("status", "activation, owner, unresolved orders, amount source and scanner state", cmdStatus)
}

func cmdStatus(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("status", stdout, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object (snake_case keys)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "status", err)
	}
	defer release()
	st := c.Status()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
		return exitOK
	}
	printStatus(stdout, st)
	return exitOK
}

func printStatus(w io.Writer, st core.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	yes := map[bool]string{true: "yes", false: "no"}
	fmt.Fprintf(tw, "activated:\t%s\n", yes[st.Activated])
	if st.MchID != "" {
		fmt.Fprintf(tw, "merchant:\t%s (%s)\n", st.Merchant, st.MchID)
		fmt.Fprintf(tw, "store:\t%s\n", st.Store)
		term := st.Terminal
		if st.TerminalSN != "" {
			term += " (serial " + st.TerminalSN + ")"
		}
		fmt.Fprintf(tw, "terminal:\t%s\n", term)
	}
	if st.PaymentsError != "" {
		fmt.Fprintf(tw, "payments:\toff: %s\n", st.PaymentsError)
	}
	if st.Owner != nil {
		fmt.Fprintf(tw, "owner:\t%s, process %d\n", st.Owner.Kind, st.Owner.PID)
	} else {
		fmt.Fprintf(tw, "owner:\tnone running (this command opened the data directory)\n")
	}
	fmt.Fprintf(tw, "orders:\t%d unresolved, %d payment(s) in flight\n", st.Unresolved, st.InFlight)
	fmt.Fprintf(tw, "refunds:\t%d unresolved\n", st.UnresolvedRefunds)
	if st.Shift != nil {
		fmt.Fprintf(tw, "shift:\t%d, cashier %s, open since %s\n", st.Shift.ID, st.Shift.Cashier, st.Shift.OpenedAt)
	} else {
		fmt.Fprintf(tw, "shift:\tnone open\n")
	}
	if r := st.Reconciliation; r != nil {
		switch {
		case r.Error != "":
			fmt.Fprintf(tw, "reconciliation:\t%s not done: %s\n", r.Date, r.Error)
		case r.Agreed:
			fmt.Fprintf(tw, "reconciliation:\t%s agrees with the bank\n", r.Date)
		default:
			fmt.Fprintf(tw, "reconciliation:\t%s: %d difference(s) with the bank; see scanbox reconcile --date %s\n", r.Date, len(r.Differences), r.Date)
		}
	}
	if st.HistoryError != "" {
		fmt.Fprintf(tw, "history:\t%s\n", st.HistoryError)
	}
	src := st.Amount.Kind + ", " + st.Amount.State
	if st.Amount.Error != "" {
		src += ": " + st.Amount.Error
	}
	if st.Amount.AmountFen != nil {
		src += fmt.Sprintf("; current amount %s from %s, %d s old", money.Fen(*st.Amount.AmountFen), st.Amount.AmountFrom, *st.Amount.AmountAgeSec)
	}
	fmt.Fprintf(tw, "amount source:\t%s\n", src)
	sc := st.Scanner.Mode + ", " + st.Scanner.State
	if st.Scanner.Error != "" {
		sc += ": " + st.Scanner.Error
	}
	fmt.Fprintf(tw, "scanner:\t%s\n", sc)
	if st.ClockOffsetMS != nil {
		fmt.Fprintf(tw, "clock:\tthe bank's clock is %+.1f s from this PC's\n", float64(*st.ClockOffsetMS)/1000)
	} else {
		fmt.Fprintf(tw, "clock:\toffset to the bank not measured yet\n")
	}
	fmt.Fprintf(tw, "data directory:\t%s\n", st.DataDir)
	tw.Flush()
}
