package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/refund"
)

const key = "0123456789abcdef0123456789abcdef"

func TestKindRoundTrip(t *testing.T) {
	for k := KindMissingInJournal; k <= KindAmount; k++ {
		if got, err := ParseKind(k.String()); err != nil || got != k {
			t.Errorf("%v: %v %v", k, got, err)
		}
	}
	if _, err := ParseKind("invalid"); err == nil {
		t.Error("invalid parsed")
	}
}

// day is a journal as the program would keep it, built from the bank's
// real answers.
type day struct {
	sim     *banksim.Sim
	c       *payclient.Client
	orders  []order.Order
	refunds []refund.Refund
}

func newDay(t *testing.T) *day {
	sim, base := simtest.NewServer(t, banksim.Options{TerminalKeys: map[string]string{banksim.DefaultTerminalID: key}})
	c, err := payclient.New(payclient.Config{BaseURL: base, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID,
		Key: []byte(key), TerminalSN: banksim.TerminalSN(banksim.DefaultMchID, banksim.DefaultTerminalID),
		DeviceID: "ab00000000000000000000000000000000000000000000000000000000000001", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return &day{sim: sim, c: c}
}

func (d *day) record(no string, fen money.Fen, st order.State) {
	now := d.sim.Now()
	d.orders = append(d.orders, order.Order{OutTradeNo: no, Kind: order.KindMicropay, AmountFen: fen, State: st,
		CreatedAt: now, UpdatedAt: now, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID})
}

// pay charges a code; the code's last digit picks the payer (0 pays, 8
// has not enough money).
func (d *day) pay(t *testing.T, no, code string, fen money.Fen) {
	t.Helper()
	ctx := context.Background()
	_, err := d.c.Micropay(ctx, payclient.MicropayRequest{OutTradeNo: no, AuthCode: code, TotalFee: fen, Body: "test"})
	switch payclient.Classify(payclient.CallMicropay, nil, err) {
	case payclient.OutcomePaid:
		d.record(no, fen, order.StatePaid)
	case payclient.OutcomeFailed:
		d.record(no, fen, order.StateFailed)
	default:
		if err == nil {
			d.record(no, fen, order.StatePaid)
			return
		}
		t.Fatalf("micropay %s: %v", no, err)
	}
}

func (d *day) refund(t *testing.T, no, rno string, total, fee money.Fen) {
	t.Helper()
	rf, err := d.c.Refund(context.Background(), payclient.RefundRequest{OutTradeNo: no, OutRefundNo: rno, TotalFee: total, RefundFee: fee})
	if err != nil {
		t.Fatal(err)
	}
	now := d.sim.Now()
	st := refund.StateRefunded
	if rf.State == payclient.RefundProcessing {
		st = refund.StateProcessing
	}
	d.refunds = append(d.refunds, refund.Refund{OutRefundNo: rno, OutTradeNo: no, RefundFen: fee, State: st, RefundID: rf.RefundID,
		CreatedAt: now, UpdatedAt: now, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID})
}

func (d *day) reconcile(t *testing.T) Result {
	t.Helper()
	bill, err := d.c.DownloadBill(context.Background(), payclient.DayOf(d.sim.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return Compare(Input{Bill: bill, Orders: d.orders, Refunds: d.refunds,
		MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID})
}

// TestReconcileAgainstSimulator: a clean day (payments, a failed payment,
// a closed number the bank never saw, partial refunds, a refund still
// processing) reconciles with no difference; then a payment only the bank
// knows and an order revoked at the bank are exactly two differences.
func TestReconcileAgainstSimulator(t *testing.T) {
	if n := payclient.DayOf(time.Now()); n != payclient.DayOf(time.Now().Add(time.Minute)) {
		t.Log("China-time midnight in a minute: the day may change under the test")
	}
	d := newDay(t)
	ctx := context.Background()
	d.pay(t, "SBREC0000001", "134567890123456780", 1250)
	d.pay(t, "SBREC0000002", "284567890123456780", 3000)
	d.pay(t, "SBREC0000003", "134567890123456781", 999)
	d.pay(t, "SBREC0000004", "134567890123456788", 500) // NOTENOUGH: failed
	// A number closed before any micropay reached the bank: a tombstone.
	if _, err := d.c.Close(ctx, "SBREC0000005"); err != nil {
		t.Fatal(err)
	}
	d.record("SBREC0000005", 700, order.StateClosed)
	d.refund(t, "SBREC0000002", "RFREC00000010", 3000, 1000)
	d.refund(t, "SBREC0000002", "RFREC00000020", 3000, 500)
	d.refund(t, "SBREC0000003", "RFREC00000034", 999, 999) // processing

	clean := d.reconcile(t)
	if !clean.Agreed() {
		t.Fatalf("a clean day differs: %+v", clean.Differences)
	}
	if clean.BankLines != 7 || clean.JournalLines != 8 {
		t.Errorf("bank %d lines (want 4 orders + 3 refunds), journal %d (want 5 + 3)", clean.BankLines, clean.JournalLines)
	}
	js, _ := json.Marshal(clean)
	if string(js) != fmt.Sprintf(`{"date":"%s","bank_lines":7,"journal_lines":8,"differences":[]}`, clean.Date) {
		t.Errorf("JSON %s", js)
	}

	if err := d.sim.AddBankOnlyPayment(banksim.DefaultTerminalID, "SBREC0000009", 4200, order.ChannelAlipay, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := d.sim.RevokeOrder(banksim.DefaultTerminalID, "SBREC0000001"); err != nil {
		t.Fatal(err)
	}
	res := d.reconcile(t)
	want := []Difference{
		{OutTradeNo: "SBREC0000001", Kind: KindState, Bank: "REVOKED 12.50", Journal: "paid 12.50"},
		{OutTradeNo: "SBREC0000009", Kind: KindMissingInJournal, Bank: "SUCCESS 42.00"},
	}
	got := res.Differences
	for i := range got {
		if got[i].Advice == "" {
			t.Errorf("difference %d without advice", i)
		}
		got[i].Advice = ""
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("differences\n got %+v\nwant %+v", got, want)
	}
	js, _ = json.Marshal(res.Differences[0])
	var keys []string
	var m map[string]any
	json.Unmarshal(js, &m)
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{"bank", "journal", "kind", "out_refund_no", "out_trade_no"}) {
		t.Errorf("difference JSON keys %v", keys)
	}
}

func TestCompareKinds(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, payclient.ChinaTime)
	dayOf := payclient.DayOf(at)
	o := func(no string, fen money.Fen, st order.State) order.Order {
		return order.Order{OutTradeNo: no, AmountFen: fen, State: st, CreatedAt: at}
	}
	bl := func(no string, fen money.Fen, st payclient.TradeState) payclient.BillLine {
		return payclient.BillLine{Time: at, OutTradeNo: no, TotalFee: fen, TradeState: st}
	}
	rl := func(no, rno string, fen money.Fen, st payclient.RefundState) payclient.BillLine {
		return payclient.BillLine{Time: at, OutTradeNo: no, OutRefundNo: rno, RefundID: "R" + rno, RefundFee: fen, RefundState: st}
	}
	rf := func(no, rno string, fen money.Fen, st refund.State) refund.Refund {
		return refund.Refund{OutTradeNo: no, OutRefundNo: rno, RefundFen: fen, State: st, CreatedAt: at}
	}
	in := Input{
		Bill: &payclient.Bill{Day: dayOf, Lines: []payclient.BillLine{
			bl("SB01", 100, payclient.TradeSuccess),    // agrees
			bl("SB02", 200, payclient.TradeSuccess),    // amount
			bl("SB03", 300, payclient.TradeClosed),     // journal paid: state
			bl("SB04", 400, payclient.TradeUserPaying), // journal unknown: agrees in money
			bl("SB05", 500, payclient.TradeSuccess),    // journal unknown, bank paid: state
			rl("SB01", "RF01", 50, payclient.RefundSuccess),
			rl("SB01", "RF02", 20, payclient.RefundChange),  // journal processing: state
			rl("SB01", "RF03", 10, payclient.RefundSuccess), // amount
		}},
		Orders: []order.Order{
			o("SB01", 100, order.StatePaid), o("SB02", 250, order.StatePaid), o("SB03", 300, order.StatePaid),
			o("SB04", 400, order.StateUnknown), o("SB05", 500, order.StateUnknown),
			o("SB06", 600, order.StatePaid),    // missing at bank
			o("SB07", 700, order.StateClosed),  // tombstone: not at bank, fine
			o("SB08", 800, order.StateFailed),  // refused: fine
			o("SB09", 900, order.StatePending), // never reached: fine
		},
		Refunds: []refund.Refund{
			rf("SB01", "RF01", 50, refund.StateRefunded), rf("SB01", "RF02", 20, refund.StateProcessing),
			rf("SB01", "RF03", 11, refund.StateRefunded),
			rf("SB01", "RF04", 5, refund.StateRefunded), // missing at bank
			rf("SB01", "RF05", 5, refund.StateUnknown),  // may never have reached it: fine
			rf("SB01", "RF06", 5, refund.StateFailed),   // refused: fine
		},
	}
	// Another terminal's order and a neighbouring day's are left out.
	other := o("SB10", 1000, order.StatePaid)
	other.TerminalID = "T9"
	yesterday := o("SB11", 1100, order.StatePaid)
	yesterday.CreatedAt = at.Add(-24 * time.Hour)
	in.Orders = append(in.Orders, other, yesterday)
	in.TerminalID = "T1"
	res := Compare(in)
	type k struct {
		no, rno string
		kind    Kind
	}
	var got []k
	for _, d := range res.Differences {
		got = append(got, k{d.OutTradeNo, d.OutRefundNo, d.Kind})
	}
	want := []k{
		{"SB01", "RF02", KindState}, {"SB01", "RF03", KindAmount}, {"SB01", "RF04", KindMissingAtBank},
		{"SB02", "", KindAmount}, {"SB03", "", KindState}, {"SB05", "", KindState}, {"SB06", "", KindMissingAtBank},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	if res.JournalLines != 9+6 || res.BankLines != 8 || res.Date != "2026-12-01" {
		t.Errorf("lines %d/%d date %s", res.JournalLines, res.BankLines, res.Date)
	}
}
