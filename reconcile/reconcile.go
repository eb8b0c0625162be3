// Package reconcile owns the comparison of the bank's bill for one day
// (China time) with the journal's orders and refunds of that day: which
// records only the bank has, which only the journal has, and where they
// disagree about a state or an amount, each with one sentence of what to
// do. It is pure: it must never talk to the bank or the store, and never
// change a record (what the bank says is reported, not applied).
package reconcile

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/refund"
)

// Kind names a difference (the CLI's "kind").
type Kind int

const (
	KindInvalid Kind = iota
	// KindMissingInJournal: the bank has an order or refund the journal lacks.
	KindMissingInJournal
	// KindMissingAtBank: the journal records money moved (paid, reversed,
	// refunded, processing, change) that the bank has no record of.
	KindMissingAtBank
	// KindState: both have it, in states that differ in money.
	KindState
	// KindAmount: both have it, with different amounts (or a refund of
	// another order).
	KindAmount
)

var kindNames = [...]string{"invalid", "missing_in_journal", "missing_at_bank", "state", "amount"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// ParseKind accepts exactly what String writes.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if i > 0 && n == s {
			return Kind(i), nil
		}
	}
	return KindInvalid, fmt.Errorf("reconcile: unknown kind %q", s)
}

func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	*k = v
	return err
}

// Difference is one disagreement, in the CLI contract's JSON shape. Bank
// and Journal say what each side holds ("SUCCESS 12.50", "paid 12.50"; ""
// when that side has nothing).
type Difference struct {
	OutTradeNo  string `json:"out_trade_no"`
	OutRefundNo string `json:"out_refund_no"`
	Kind        Kind   `json:"kind"`
	Bank        string `json:"bank"`
	Journal     string `json:"journal"`
	// Advice is one sentence of what to do (text output and the tray; not
	// part of the JSON contract).
	Advice string `json:"-"`
}

// Result is the reconciliation of one day (the CLI's JSON object).
type Result struct {
	Date         string       `json:"date"` // YYYY-MM-DD
	BankLines    int          `json:"bank_lines"`
	JournalLines int          `json:"journal_lines"`
	Differences  []Difference `json:"differences"`
	// Provisional: the bill is of the bank's current day and may change.
	Provisional bool `json:"-"`
}

// Agreed reports whether the bank and the journal agree.
func (r Result) Agreed() bool { return len(r.Differences) == 0 }

// Input is what Compare needs. Orders and Refunds may include neighbouring
// days (pass the day before to the day after, so that a record stamped just
// across midnight is matched, not reported): only those created on the
// bill's day count as the journal's lines and can be missing at the bank.
type Input struct {
	Bill    *payclient.Bill
	Orders  []order.Order
	Refunds []refund.Refund
	// MchID and TerminalID leave out records of another terminal (the bill
	// is this terminal's); "" on either side matches.
	MchID, TerminalID string
}

// money classes of an order: what matters is whether money moved.
type class int

const (
	classOpen     class = iota // not settled yet: no money kept either way
	classNone                  // no money moved
	classPaid                  // the customer paid
	classReversed              // paid, then given back by the bank
)

func bankClass(s payclient.TradeState) class {
	switch s {
	case payclient.TradeSuccess:
		return classPaid
	case payclient.TradeRevoked:
		return classReversed
	case payclient.TradeClosed, payclient.TradePayError:
		return classNone
	}
	return classOpen // USERPAYING, NOTPAY
}

func journalClass(s order.State) class {
	switch s {
	case order.StatePaid:
		return classPaid
	case order.StateRevoked:
		return classReversed
	case order.StateClosed, order.StateFailed:
		return classNone
	}
	return classOpen // pending, waiting, closing, unknown
}

// agree: both sides say the same about money (an open order and one where
// no money moved are the same in money: nothing was kept).
func agree(a, b class) bool {
	if a == b {
		return true
	}
	low := func(c class) bool { return c == classOpen || c == classNone }
	return low(a) && low(b)
}

// bankRefundState is the journal state a bank refund_state means.
func bankRefundState(s payclient.RefundState) refund.State {
	switch s {
	case payclient.RefundProcessing:
		return refund.StateProcessing
	case payclient.RefundSuccess:
		return refund.StateRefunded
	case payclient.RefundFailed:
		return refund.StateFailed
	case payclient.RefundChange:
		return refund.StateChange
	}
	return refund.StateInvalid
}

func side(state string, fen money.Fen) string { return state + " " + fen.String() }

// Compare reconciles in.Bill with the journal. It is pure and deterministic:
// differences are sorted by out_trade_no, out_refund_no and kind.
func Compare(in Input) Result {
	bill := in.Bill
	if bill == nil {
		bill = &payclient.Bill{}
	}
	day := bill.Day
	res := Result{Date: fmt.Sprintf("%04d-%02d-%02d", day.Year, int(day.Month), day.Day),
		BankLines: len(bill.Lines), Provisional: bill.Provisional, Differences: []Difference{}}
	same := func(a, b string) bool { return a == "" || b == "" || a == b }
	ours := func(mch, term string) bool { return same(mch, in.MchID) && same(term, in.TerminalID) }
	orders := map[string]order.Order{}
	for _, o := range in.Orders {
		if ours(o.MchID, o.TerminalID) {
			orders[o.OutTradeNo] = o
		}
	}
	refunds := map[string]refund.Refund{}
	for _, x := range in.Refunds {
		if ours(x.MchID, x.TerminalID) {
			refunds[x.OutRefundNo] = x
		}
	}
	add := func(d Difference) {
		d.Advice = advice(d)
		res.Differences = append(res.Differences, d)
	}
	seenOrders, seenRefunds := map[string]bool{}, map[string]bool{}
	for _, l := range bill.Lines {
		if l.IsRefund() {
			seenRefunds[l.OutRefundNo] = true
			bank := side(l.RefundState.String(), l.RefundFee)
			x, ok := refunds[l.OutRefundNo]
			switch {
			case !ok:
				add(Difference{OutTradeNo: l.OutTradeNo, OutRefundNo: l.OutRefundNo, Kind: KindMissingInJournal, Bank: bank})
			case x.RefundFen != l.RefundFee || x.OutTradeNo != l.OutTradeNo:
				add(Difference{OutTradeNo: l.OutTradeNo, OutRefundNo: l.OutRefundNo, Kind: KindAmount, Bank: bank,
					Journal: side(x.State.String(), x.RefundFen) + refundOf(x, l)})
			case bankRefundState(l.RefundState) != x.State:
				add(Difference{OutTradeNo: l.OutTradeNo, OutRefundNo: l.OutRefundNo, Kind: KindState, Bank: bank,
					Journal: side(x.State.String(), x.RefundFen)})
			}
			continue
		}
		seenOrders[l.OutTradeNo] = true
		bank := side(l.TradeState.String(), l.TotalFee)
		o, ok := orders[l.OutTradeNo]
		switch {
		case !ok:
			add(Difference{OutTradeNo: l.OutTradeNo, Kind: KindMissingInJournal, Bank: bank})
		case o.AmountFen != l.TotalFee:
			add(Difference{OutTradeNo: l.OutTradeNo, Kind: KindAmount, Bank: bank, Journal: side(o.State.String(), o.AmountFen)})
		case !agree(bankClass(l.TradeState), journalClass(o.State)):
			add(Difference{OutTradeNo: l.OutTradeNo, Kind: KindState, Bank: bank, Journal: side(o.State.String(), o.AmountFen)})
		}
	}
	for _, o := range orders {
		if payclient.DayOf(o.CreatedAt) != day {
			continue
		}
		res.JournalLines++
		if seenOrders[o.OutTradeNo] {
			continue
		}
		// Only an order with money moved must be at the bank: a closed,
		// failed or never-settled number may never have reached it (the
		// bank keeps such tombstones out of the bill).
		if c := journalClass(o.State); c == classPaid || c == classReversed {
			add(Difference{OutTradeNo: o.OutTradeNo, Kind: KindMissingAtBank, Journal: side(o.State.String(), o.AmountFen)})
		}
	}
	for _, x := range refunds {
		if payclient.DayOf(x.CreatedAt) != day {
			continue
		}
		res.JournalLines++
		if seenRefunds[x.OutRefundNo] {
			continue
		}
		// Pending or unknown: maybe never reached the bank; failed: refused.
		switch x.State {
		case refund.StateRefunded, refund.StateProcessing, refund.StateChange:
			add(Difference{OutTradeNo: x.OutTradeNo, OutRefundNo: x.OutRefundNo, Kind: KindMissingAtBank,
				Journal: side(x.State.String(), x.RefundFen)})
		}
	}
	slices.SortFunc(res.Differences, func(a, b Difference) int {
		return cmp.Or(cmp.Compare(a.OutTradeNo, b.OutTradeNo), cmp.Compare(a.OutRefundNo, b.OutRefundNo), cmp.Compare(a.Kind, b.Kind))
	})
	return res
}

func refundOf(x refund.Refund, l payclient.BillLine) string {
	if x.OutTradeNo != l.OutTradeNo {
		return " of order " + x.OutTradeNo
	}
	return ""
}

// advice is the one sentence of what to do about d.
func advice(d Difference) string {
	isRefund := d.OutRefundNo != ""
	switch d.Kind {
	case KindMissingInJournal:
		if isRefund {
			return "The bank made a refund ScanBox has no record of: check with the manager who made it and keep the bank's record."
		}
		if len(d.Bank) >= 7 && d.Bank[:7] == "SUCCESS" {
			return "The customer paid but ScanBox lost the order: check the sale for this payment and keep the bank's record."
		}
		return "The bank has an order ScanBox has no record of; no money was kept, but tell support: the journal lost it."
	case KindMissingAtBank:
		if isRefund {
			return "ScanBox records a refund the bank has no record of: the payer may not have the money back; ask the bank."
		}
		return "ScanBox records a payment the bank has no record of: do not count this money until the bank confirms it."
	case KindState:
		if !isRefund && len(d.Bank) >= 7 && d.Bank[:7] == "REVOKED" {
			return "The bank reversed this payment and the money went back to the payer: collect it again or take the goods back."
		}
		if isRefund {
			return "The bank and ScanBox disagree about this refund's state: run \"scanbox resolve\"; if it stays, the bank's state counts."
		}
		return "The bank and ScanBox disagree about this order's state: run \"scanbox resolve\"; if it stays, the bank's state counts."
	case KindAmount:
		return "The bank and ScanBox record different amounts: the bank's amount counts; ask the bank about it."
	}
	return ""
}
