package payclient_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
)

func (e *env) pay(t *testing.T, no string, fee money.Fen) {
	t.Helper()
	r := req(no, wechat(0))
	r.TotalFee = fee
	if _, err := e.client.Micropay(ctx, r); err != nil {
		t.Fatalf("pay %s: %v", no, err)
	}
}

func rreq(no, rno string, total, fee money.Fen) payclient.RefundRequest {
	return payclient.RefundRequest{OutTradeNo: no, OutRefundNo: rno, TotalFee: total, RefundFee: fee, Desc: "顾客退货"}
}

func (e *env) refund(t *testing.T, r payclient.RefundRequest, wantCode string, want payclient.RefundOutcome) *payclient.Refund {
	t.Helper()
	rf, err := e.client.Refund(ctx, r)
	if errCode(err) != wantCode || payclient.ClassifyRefund(payclient.CallRefund, rf, err) != want {
		t.Fatalf("refund %s of %v: %+v %v; want %q/%v", r.OutRefundNo, r.RefundFee, rf, err, wantCode, want)
	}
	if err == nil {
		if rf.OutRefundNo != r.OutRefundNo || rf.OutTradeNo != r.OutTradeNo || rf.RefundFee != r.RefundFee || rf.RefundID == "" {
			t.Errorf("refund answer %+v for %+v", rf, r)
		}
	}
	return rf
}

func (e *env) refundQuery(t *testing.T, r payclient.RefundRequest, want payclient.RefundState) *payclient.Refund {
	t.Helper()
	rf, err := e.client.RefundQuery(ctx, r.OutRefundNo)
	if err != nil || rf.State != want {
		t.Fatalf("refundquery %s: %+v %v, want %v", r.OutRefundNo, rf, err, want)
	}
	if err := r.Matches(rf); err != nil {
		t.Errorf("refundquery answer does not match: %v", err)
	}
	if want == payclient.RefundSuccess && rf.Time.IsZero() {
		t.Error("SUCCESS without refund_time")
	}
	return rf
}

// TestRefundBehaviours: the four ways a refund settles, the refundable
// remainder (CHANGE counts, FAILED does not), idempotent re-sends, and the
// definite refusals of bank-api.md's table, over HTTP against the simulator.
func TestRefundBehaviours(t *testing.T) {
	e := newEnv(t, banksim.Options{RefundDelay: 10 * time.Second})
	e.pay(t, "RO-000001", 1250)

	atOnce := rreq("RO-000001", "RF-000001", 1250, 200)
	first := e.refund(t, atOnce, "", payclient.RefundOutcomeRefunded)
	e.refundQuery(t, atOnce, payclient.RefundSuccess)

	ok := rreq("RO-000001", "RF-000004", 1250, 300) // processing, then success
	e.refund(t, ok, "", payclient.RefundOutcomeProcessing)
	failed := rreq("RO-000001", "RF-000007", 1250, 100) // processing, then failed
	e.refund(t, failed, "", payclient.RefundOutcomeProcessing)
	change := rreq("RO-000001", "RF-000008", 1250, 100) // processing, then CHANGE
	e.refund(t, change, "", payclient.RefundOutcomeProcessing)
	// While PROCESSING, all three count: 1250-200-300-100-100 = 550 left.
	e.refund(t, rreq("RO-000001", "RF-000010", 1250, 551), "REFUND_FEE_INVALID", payclient.RefundOutcomeFailed)
	e.refundQuery(t, ok, payclient.RefundProcessing)
	e.clock.Advance(10 * time.Second)
	e.refundQuery(t, ok, payclient.RefundSuccess)
	e.refundQuery(t, failed, payclient.RefundFailed)
	rf := e.refundQuery(t, change, payclient.RefundChange)
	if payclient.ClassifyRefund(payclient.CallRefundQuery, rf, nil) != payclient.RefundOutcomeChange {
		t.Error("CHANGE not classified change")
	}
	// The failed 100 is back; the CHANGE 100 is not: 650 left.
	e.refund(t, rreq("RO-000001", "RF-000011", 1250, 651), "REFUND_FEE_INVALID", payclient.RefundOutcomeFailed)
	e.refund(t, rreq("RO-000001", "RF-000012", 1250, 650), "", payclient.RefundOutcomeRefunded)
	e.refund(t, rreq("RO-000001", "RF-000013", 1250, 1), "REFUND_FEE_INVALID", payclient.RefundOutcomeFailed)

	// Re-sending a refund answers its current state; never a second execution.
	again := e.refund(t, atOnce, "", payclient.RefundOutcomeRefunded)
	if again.RefundID != first.RefundID {
		t.Errorf("re-send got refund_id %s, first %s", again.RefundID, first.RefundID)
	}
	e.refund(t, failed, "", payclient.RefundOutcomeFailed) // re-sent: FAILED, not a new try
	other := atOnce
	other.RefundFee = 201
	e.refund(t, other, "OUT_REFUND_NO_USED", payclient.RefundOutcomeFailed)
	for k, n := range e.sim.RefundExecutions() {
		if n != 1 {
			t.Errorf("%s executed %d times", k, n)
		}
	}
	var l banksim.LedgerEntry
	for _, le := range e.sim.Ledger() {
		if le.OutTradeNo == "RO-000001" {
			l = le
		}
	}
	if l.State != payclient.TradeSuccess || l.Refunded != 200+300+100+650 {
		t.Errorf("ledger %+v: a refunded order stays SUCCESS; refunded = all but the failed one", l)
	}
	refunds := e.sim.Refunds()
	if len(refunds) != 5 {
		t.Errorf("bank holds %d refunds, want 5: %+v", len(refunds), refunds)
	}

	// Definite refusals.
	e.refund(t, rreq("RO-999999", "RF-000020", 1250, 1), "ORDERNOTEXIST", payclient.RefundOutcomeFailed)
	if _, err := e.client.Micropay(ctx, req("RO-000002", wechat(6))); errCode(err) != "USERPAYING" {
		t.Fatal(err)
	}
	e.refund(t, rreq("RO-000002", "RF-000021", 1250, 1), "TRADE_STATE_ERROR", payclient.RefundOutcomeFailed)
	e.pay(t, "RO-000003", 500)
	e.refund(t, rreq("RO-000003", "RF-000022", 600, 1), "REFUND_FEE_INVALID", payclient.RefundOutcomeFailed)
	// A paid order with refunds can no longer be reversed by close.
	e.refund(t, rreq("RO-000003", "RF-000023", 500, 100), "", payclient.RefundOutcomeRefunded)
	if _, err := e.client.Close(ctx, "RO-000003"); errCode(err) != "REVERSE_EXPIRE" {
		t.Errorf("close of a refunded order: %v", err)
	}
	e.wantQuery(t, "RO-000003", payclient.TradeSuccess)
	// A refund the bank never saw.
	_, err := e.client.RefundQuery(ctx, "RF-999999")
	if !errors.Is(err, payclient.ErrRefundNotExist) || payclient.ClassifyRefund(payclient.CallRefundQuery, nil, err) != payclient.RefundOutcomeUnknown {
		t.Errorf("refundquery of an unknown number: %v", err)
	}
	// Older than 365 days.
	e.clock.Advance(366 * 24 * time.Hour)
	e.refund(t, rreq("RO-000003", "RF-000024", 500, 1), "REFUND_EXPIRE", payclient.RefundOutcomeFailed)

	bc := e.sim.RefundBehaviourCounts()
	for _, b := range []banksim.RefundBehaviour{banksim.RefundAtOnce, banksim.RefundProcessingThenSuccess, banksim.RefundProcessingThenFailed, banksim.RefundProcessingThenChange} {
		if bc[b] == 0 {
			t.Errorf("behaviour %v never met", b)
		}
	}
}

// TestRefundLimitAndBalance: 20 refunds per order, failed ones counted; the
// merchant's refundable balance (NOTENOUGH), given back by a failed refund.
func TestRefundLimitAndBalance(t *testing.T) {
	e := newEnv(t, banksim.Options{RefundDelay: time.Second})
	e.pay(t, "RL-000001", 10000)
	for i := range 20 {
		rno := fmt.Sprintf("RL-R%05d", i)
		if i%5 == 0 {
			e.sim.SetRefundBehaviour(rno, banksim.RefundProcessingThenFailed)
		} else {
			e.sim.SetRefundBehaviour(rno, banksim.RefundAtOnce)
		}
		e.refund(t, rreq("RL-000001", rno, 10000, 10), "", map[bool]payclient.RefundOutcome{true: payclient.RefundOutcomeProcessing, false: payclient.RefundOutcomeRefunded}[i%5 == 0])
	}
	e.clock.Advance(time.Second)
	e.refund(t, rreq("RL-000001", "RL-R00020", 10000, 10), "REFUND_LIMIT", payclient.RefundOutcomeFailed)

	e.pay(t, "RL-000002", 5000)
	e.sim.SetRefundBalance(500)
	e.refund(t, rreq("RL-000002", "RL-B00001", 5000, 600), "NOTENOUGH", payclient.RefundOutcomeFailed)
	e.sim.SetRefundBehaviour("RL-B00002", banksim.RefundProcessingThenFailed)
	e.refund(t, rreq("RL-000002", "RL-B00002", 5000, 400), "", payclient.RefundOutcomeProcessing)
	e.refund(t, rreq("RL-000002", "RL-B00003", 5000, 200), "NOTENOUGH", payclient.RefundOutcomeFailed)
	e.clock.Advance(time.Second) // B00002 fails: its 400 is back
	if bal, limited := e.sim.RefundBalance(); !limited || bal != 500 {
		t.Errorf("balance %v (limited %v), want 500", bal, limited)
	}
	e.refund(t, rreq("RL-000002", "RL-B00003", 5000, 200), "", payclient.RefundOutcomeRefunded)
	// Over the loopback admin endpoint, as the demo does it.
	if err := banksim.Admin(ctx, e.url, "refund-balance", url.Values{"fen": {"-1"}}); err != nil {
		t.Fatal(err)
	}
	e.refund(t, rreq("RL-000002", "RL-B00009", 5000, 4800), "", payclient.RefundOutcomeRefunded)
}

// TestRefundFaults: every fault kind the simulator has for payments, on
// refunds. None is ever a result; re-sending the same refund executes it
// exactly once; a forged SUCCESS is refused.
func TestRefundFaults(t *testing.T) {
	cases := []struct {
		fault   banksim.FaultKind
		applied bool
		badSig  bool
	}{
		{banksim.FaultRequestLost, false, false},
		{banksim.FaultResponseLost, true, false},
		{banksim.FaultHTTP5xx, false, false},
		{banksim.FaultNotJSON, true, false},
		{banksim.FaultBadSignature, true, true},
		{banksim.FaultForgedSuccess, false, true},
		{banksim.FaultSystemError, true, false},
	}
	for i, tc := range cases {
		t.Run(tc.fault.String(), func(t *testing.T) {
			e := newEnv(t, banksim.Options{})
			no := fmt.Sprintf("RX-%06d", i)
			e.pay(t, no, 1000)
			r := rreq(no, fmt.Sprintf("RX-R%05d", i*10), 1000, 400)
			e.sim.InjectFault(payclient.EndpointRefund, banksim.Fault{Kind: tc.fault})
			rf, err := e.client.Refund(ctx, r)
			if rf != nil || payclient.ClassifyRefund(payclient.CallRefund, rf, err) != payclient.RefundOutcomeUnknown ||
				errors.Is(err, payclient.ErrBadSignature) != tc.badSig {
				t.Fatalf("refund with %v: %+v %v", tc.fault, rf, err)
			}
			if got := len(e.sim.Refunds()); got != map[bool]int{true: 1, false: 0}[tc.applied] {
				t.Fatalf("bank holds %d refunds after %v", got, tc.fault)
			}
			_, err = e.client.RefundQuery(ctx, r.OutRefundNo)
			if tc.applied != (err == nil) {
				t.Errorf("refundquery after %v: %v", tc.fault, err)
			}
			// The procedure: re-send the same refund.
			e.refund(t, r, "", payclient.RefundOutcomeRefunded)
			if n := e.sim.RefundExecutions()["T0001/"+r.OutRefundNo]; n != 1 {
				t.Errorf("executed %d times", n)
			}
		})
	}
	t.Run("slow", func(t *testing.T) {
		e := newEnv(t, banksim.Options{})
		e.pay(t, "RX-000100", 1000)
		e.sim.InjectFault(payclient.EndpointRefund, banksim.Fault{Kind: banksim.FaultSlow, Delay: 20 * time.Millisecond})
		e.refund(t, rreq("RX-000100", "RX-R00100", 1000, 1), "", payclient.RefundOutcomeRefunded)
	})
	t.Run("refundquery forged", func(t *testing.T) {
		e := newEnv(t, banksim.Options{})
		e.pay(t, "RX-000200", 1000)
		r := rreq("RX-000200", "RX-R00204", 1000, 10) // processing
		e.refund(t, r, "", payclient.RefundOutcomeProcessing)
		e.sim.InjectFault(payclient.EndpointRefundQuery, banksim.Fault{Kind: banksim.FaultForgedSuccess})
		rf, err := e.client.RefundQuery(ctx, r.OutRefundNo)
		if rf != nil || !errors.Is(err, payclient.ErrBadSignature) || payclient.ClassifyRefund(payclient.CallRefundQuery, rf, err) != payclient.RefundOutcomeUnknown {
			t.Fatalf("forged refundquery: %+v %v", rf, err)
		}
		e.refundQuery(t, r, payclient.RefundProcessing)
	})
	t.Run("random faults", func(t *testing.T) {
		// A mixed run: every refund re-sent until definite, then settled
		// with refundquery; the bank executes each number once, and what
		// the client settles on is what the bank holds.
		e := newEnv(t, banksim.Options{FaultRate: 0.35, Seed: 11, SlowDelay: 2 * time.Millisecond, RefundDelay: time.Second})
		paid := map[string]bool{}
		for i := range 12 {
			no := fmt.Sprintf("RM-%06d", i)
			r := req(no, wechat(i%4))
			for range 10 {
				p, err := e.client.Micropay(ctx, r)
				if o := payclient.Classify(payclient.CallMicropay, p, err); o == payclient.OutcomePaid {
					paid[no] = true
					break
				}
			}
		}
		final := map[string]payclient.RefundOutcome{}
		for i := range 40 {
			no := fmt.Sprintf("RM-%06d", i%12)
			if !paid[no] {
				continue
			}
			r := rreq(no, fmt.Sprintf("RM-R%05d", i), 1250, money.Fen(100+i))
			out := payclient.RefundOutcomeUnknown
			for try := 0; try < 30 && (out == payclient.RefundOutcomeUnknown || out == payclient.RefundOutcomeProcessing); try++ {
				if out == payclient.RefundOutcomeProcessing {
					e.clock.Advance(time.Second)
					rf, err := e.client.RefundQuery(ctx, r.OutRefundNo)
					if err == nil && r.Matches(rf) != nil {
						t.Fatalf("query answer for another refund: %+v", rf)
					}
					if o := payclient.ClassifyRefund(payclient.CallRefundQuery, rf, err); o != payclient.RefundOutcomeUnknown {
						out = o
					}
					continue
				}
				rf, err := e.client.Refund(ctx, r)
				out = payclient.ClassifyRefund(payclient.CallRefund, rf, err)
			}
			final[r.OutRefundNo] = out
		}
		held := map[string]payclient.RefundState{}
		for _, rf := range e.sim.Refunds() {
			held[rf.OutRefundNo] = rf.State
		}
		want := map[payclient.RefundOutcome]payclient.RefundState{payclient.RefundOutcomeRefunded: payclient.RefundSuccess,
			payclient.RefundOutcomeFailed: payclient.RefundFailed, payclient.RefundOutcomeChange: payclient.RefundChange}
		for rno, out := range final {
			st, ok := held[rno]
			switch {
			case out == payclient.RefundOutcomeFailed && !ok:
				// refused by the bank (e.g. over the remainder): nothing held
			case want[out] != st:
				t.Errorf("%s: client settled %v, bank holds %v (held %v)", rno, out, st, ok)
			}
		}
		for k, n := range e.sim.RefundExecutions() {
			if n != 1 {
				t.Errorf("%s executed %d times", k, n)
			}
		}
		if len(final) < 20 {
			t.Errorf("only %d refunds tried", len(final))
		}
		t.Logf("faults %v", e.sim.FaultCounts())
	})
}

// TestBinding (anti-switching, 防切机): a data directory copied to another
// PC sends another device_id and is refused, nothing charged; re-activation
// with a new code moves the terminal: the copy pays, the original's key is
// refused unsigned.
func TestBinding(t *testing.T) {
	clk := newClock()
	sim, base := newSimURL(t, banksim.Options{Now: clk.Now, ActivationCodes: []string{"CODE-A", "CODE-B"}, SingleUse: true})
	pcA, pcB := deviceOf(t, "pc-a"), deviceOf(t, "pc-b")
	activate := func(code, dev string) *payclient.MerchantInfo {
		mi, err := payclient.Activate(ctx, payclient.ActivateRequest{BaseURL: base, MchID: banksim.DefaultMchID,
			TerminalID: banksim.DefaultTerminalID, ActivationCode: code, DeviceID: dev},
			payclient.ActivateWithClock(clk.Now), payclient.ActivateWithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatalf("activate %s: %v", code, err)
		}
		return mi
	}
	client := func(mi *payclient.MerchantInfo, dev string) *payclient.Client {
		c, err := payclient.New(payclient.Config{BaseURL: base, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID,
			Key: mi.Key, TerminalSN: mi.TerminalSN, DeviceID: dev, Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	mi := activate("CODE-A", pcA)
	if mi.TerminalSN != banksim.TerminalSN(banksim.DefaultMchID, banksim.DefaultTerminalID) || mi.AreaCode != banksim.DefaultAreaCode {
		t.Errorf("activation: terminal_sn %q area_code %q", mi.TerminalSN, mi.AreaCode)
	}
	if sim.BoundDevice(banksim.DefaultTerminalID) != pcA {
		t.Fatal("activation did not bind the device")
	}
	orig, copied := client(mi, pcA), client(mi, pcB)
	if _, err := orig.Micropay(ctx, req("BD-000001", wechat(0))); err != nil {
		t.Fatal(err)
	}
	_, err := copied.Micropay(ctx, req("BD-000002", wechat(1)))
	if !errors.Is(err, payclient.ErrDeviceMismatch) || payclient.Classify(payclient.CallMicropay, nil, err) != payclient.OutcomeFailed {
		t.Fatalf("copied installation: %v", err)
	}
	if _, err := copied.Precreate(ctx, payclient.PrecreateRequest{OutTradeNo: "BD-000003", TotalFee: 5}); !errors.Is(err, payclient.ErrDeviceMismatch) {
		t.Errorf("copied precreate: %v", err)
	}
	if _, err := copied.Refund(ctx, rreq("BD-000001", "BD-R00001", 1250, 1)); !errors.Is(err, payclient.ErrDeviceMismatch) {
		t.Errorf("copied refund: %v", err)
	}
	// A query from the other PC learns nothing: not a result.
	_, err = copied.Query(ctx, "BD-000001")
	if !errors.Is(err, payclient.ErrDeviceMismatch) || payclient.Classify(payclient.CallQuery, nil, err) != payclient.OutcomeUnknown {
		t.Errorf("copied query: %v", err)
	}
	for _, l := range sim.Ledger() {
		if l.OutTradeNo != "BD-000001" {
			t.Errorf("the copy left %+v at the bank", l)
		}
	}
	if len(sim.Refunds()) != 0 || sim.PaidCountByCode()[wechat(1)] != 0 {
		t.Error("the copy charged or refunded")
	}

	// 换机: bank staff give a new code; activated on PC B.
	mi2 := activate("CODE-B", pcB)
	moved := client(mi2, pcB)
	if _, err := moved.Micropay(ctx, req("BD-000004", wechat(2))); err != nil {
		t.Fatalf("after moving: %v", err)
	}
	_, err = orig.Micropay(ctx, req("BD-000005", wechat(3)))
	if errCode(err) != "FAIL:SIGNERROR" || payclient.Classify(payclient.CallMicropay, nil, err) != payclient.OutcomeUnknown {
		t.Fatalf("original after the move: %v", err)
	}
	if _, err := client(mi2, pcA).Micropay(ctx, req("BD-000006", wechat(3))); !errors.Is(err, payclient.ErrDeviceMismatch) {
		t.Errorf("original PC with the new key: %v", err)
	}
	if n := sim.PaidCountByCode()[wechat(3)]; n != 0 {
		t.Errorf("the original PC charged %d times after the move", n)
	}
	// The old orders are still visible to the moved terminal.
	if p, err := moved.Query(ctx, "BD-000001"); err != nil || p.TradeState != payclient.TradeSuccess {
		t.Errorf("old order from the new PC: %+v %v", p, err)
	}
	// Activation without device_id is refused.
	ar := payclient.ActivateRequest{BaseURL: base, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID, ActivationCode: "CODE-B", DeviceID: "PC"}
	if _, err := payclient.Activate(ctx, ar, payclient.ActivateWithClock(clk.Now)); err == nil {
		t.Error("activation with a malformed device_id")
	}
}

// TestTerminalDisabled: payments, refunds and activation are refused;
// query, close, refundquery and the bill keep working.
func TestTerminalDisabled(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	e.pay(t, "TD-000001", 1000)
	r := rreq("TD-000001", "TD-R00001", 1000, 100)
	e.refund(t, r, "", payclient.RefundOutcomeRefunded)
	if _, err := e.client.Micropay(ctx, req("TD-000002", wechat(6))); errCode(err) != "USERPAYING" {
		t.Fatal(err)
	}
	if err := banksim.Admin(ctx, e.url, "disable", url.Values{"terminal_id": {"T0001"}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.Micropay(ctx, req("TD-000003", wechat(0)))
	if !errors.Is(err, payclient.ErrTerminalDisabled) || payclient.Classify(payclient.CallMicropay, nil, err) != payclient.OutcomeFailed {
		t.Errorf("micropay: %v", err)
	}
	_, err = e.client.Precreate(ctx, payclient.PrecreateRequest{OutTradeNo: "TD-000004", TotalFee: 5})
	if !errors.Is(err, payclient.ErrTerminalDisabled) || payclient.Classify(payclient.CallPrecreate, nil, err) != payclient.OutcomeFailed {
		t.Errorf("precreate: %v", err)
	}
	e.refund(t, rreq("TD-000001", "TD-R00002", 1000, 1), "TERMINAL_DISABLED", payclient.RefundOutcomeFailed)
	e.wantQuery(t, "TD-000001", payclient.TradeSuccess)
	e.refundQuery(t, r, payclient.RefundSuccess)
	if p, err := e.client.Close(ctx, "TD-000002"); err != nil || p.TradeState != payclient.TradeClosed {
		t.Errorf("close: %+v %v", p, err)
	}
	if b, err := e.client.DownloadBill(ctx, payclient.DayOf(e.clock.Now())); err != nil || len(b.Lines) != 3 {
		t.Errorf("bill: %+v %v", b, err)
	}
	_, err = payclient.Activate(ctx, payclient.ActivateRequest{BaseURL: e.url, MchID: banksim.DefaultMchID, TerminalID: "T0001",
		ActivationCode: banksim.DefaultActivationCode}, payclient.ActivateWithClock(e.clock.Now), payclient.ActivateWithLogger(slog.New(slog.DiscardHandler)))
	if !errors.Is(err, payclient.ErrTerminalDisabled) {
		t.Errorf("activation: %v", err)
	}
	if n := len(e.sim.Ledger()); n != 2 {
		t.Errorf("the disabled terminal left %d orders, want 2", n)
	}
	e.sim.EnableTerminal("T0001")
	e.pay(t, "TD-000005", 10)
}

// TestNoTerminalSN: a terminal activated before 1.1 is refused locally,
// nothing sent; query still works for its old orders.
func TestNoTerminalSN(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	cfg := e.cfg
	cfg.TerminalSN = ""
	c, err := payclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.sim.Events())
	_, err = c.Micropay(ctx, req("NS-000001", wechat(0)))
	if !errors.Is(err, payclient.ErrNoTerminalSN) || payclient.Classify(payclient.CallMicropay, nil, err) != payclient.OutcomeFailed {
		t.Errorf("micropay: %v", err)
	}
	if _, err := c.Refund(ctx, rreq("NS-000001", "NS-R00001", 10, 1)); !errors.Is(err, payclient.ErrNoTerminalSN) {
		t.Errorf("refund: %v", err)
	}
	if len(e.sim.Events()) != before {
		t.Error("a request left the machine")
	}
	e.wantNotExist(t, "NS-000001")
}

// TestBill: one line per order created that day in its current state
// (tombstones left out), one per refund; NO_BILL for an empty day; bank-
// only payments and orders revoked at the bank (admin) show as such.
func TestBill(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	day := payclient.DayOf(e.clock.Now())
	e.pay(t, "BL-000001", 1250)
	if _, err := e.client.Micropay(ctx, req("BL-000002", wechat(6))); errCode(err) != "USERPAYING" {
		t.Fatal(err)
	}
	e.client.Close(ctx, "BL-000002")
	e.client.Close(ctx, "BL-000003") // tombstone
	e.client.Precreate(ctx, payclient.PrecreateRequest{OutTradeNo: "BL-000004", TotalFee: 99, Body: "x"})
	e.clock.Advance(time.Minute)
	e.refund(t, rreq("BL-000001", "BL-R00001", 1250, 250), "", payclient.RefundOutcomeRefunded)
	e.pay(t, "BL-000005", 300)
	if err := banksim.Admin(ctx, e.url, "revoke", url.Values{"terminal_id": {"T0001"}, "out_trade_no": {"BL-000005"}}); err != nil {
		t.Fatal(err)
	}
	if err := banksim.Admin(ctx, e.url, "bankpay", url.Values{"terminal_id": {"T0001"}, "out_trade_no": {"BL-000006"}, "total_fee": {"777"}, "pay_channel": {"ALIPAY"}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(24 * time.Hour)
	e.pay(t, "BL-000007", 1) // the next day

	b, err := e.client.DownloadBill(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if b.Provisional || b.Day != day {
		t.Errorf("bill of a past day: %+v", b)
	}
	type row struct {
		no, rno string
		st      string
		fee     money.Fen
		ch      order.Channel
	}
	var got []row
	for _, l := range b.Lines {
		if l.IsRefund() {
			got = append(got, row{l.OutTradeNo, l.OutRefundNo, l.RefundState.String(), l.RefundFee, l.Channel})
			if l.RefundID == "" || payclient.DayOf(l.Time) != day {
				t.Errorf("refund line %+v", l)
			}
		} else {
			got = append(got, row{l.OutTradeNo, "", l.TradeState.String(), l.TotalFee, l.Channel})
			if (l.TransactionID != "") != (l.Channel != order.ChannelNone) {
				t.Errorf("order line %+v", l)
			}
		}
	}
	want := []row{
		{"BL-000001", "", "SUCCESS", 1250, order.ChannelWeChat},
		{"BL-000002", "", "CLOSED", 1250, order.ChannelNone},
		{"BL-000004", "", "NOTPAY", 99, order.ChannelNone},
		{"BL-000001", "BL-R00001", "SUCCESS", 250, order.ChannelNone},
		{"BL-000005", "", "REVOKED", 300, order.ChannelWeChat},
		{"BL-000006", "", "SUCCESS", 777, order.ChannelAlipay},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bill lines\n got %v\nwant %v", got, want)
	}
	today, err := e.client.DownloadBill(ctx, payclient.DayOf(e.clock.Now()))
	if err != nil || len(today.Lines) != 1 || !today.Provisional {
		t.Errorf("today's bill: %+v %v", today, err)
	}
	empty, err := e.client.DownloadBill(ctx, payclient.Day{Year: 2026, Month: 1, Day: 1})
	if err != nil || len(empty.Lines) != 0 {
		t.Errorf("empty day: %+v %v", empty, err)
	}
	e.sim.InjectFault(payclient.EndpointBill, banksim.Fault{Kind: banksim.FaultForgedSuccess})
	if _, err := e.client.DownloadBill(ctx, day); !errors.Is(err, payclient.ErrBadSignature) {
		t.Errorf("forged bill: %v", err)
	}
	if _, err := e.client.DownloadBill(ctx, payclient.Day{Year: 2026, Month: 2, Day: 30}); !errors.Is(err, payclient.ErrInvalidRequest) {
		t.Errorf("30 February: %v", err)
	}
}
