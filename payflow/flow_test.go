package payflow

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func ord(s order.State) order.Order {
	o := order.Order{OutTradeNo: "SB1", AmountFen: 1250, State: s, CreatedAt: t0}
	if s != order.StatePending {
		o.SentAt, o.Deadline = t0, at(45)
	}
	return o
}

func sent(o order.Order) order.Order { o.SentAt, o.Deadline = t0, at(45); return o }

func ans(call payclient.Call, oc payclient.Outcome, code string, now int) Event {
	return Event{Kind: EvAnswer, Call: call, Outcome: oc, ErrCode: code, Now: at(now)}
}

func paid(call payclient.Call, now int) Event {
	return Event{Kind: EvAnswer, Call: call, Outcome: payclient.OutcomePaid, Now: at(now),
		Payment: &payclient.Payment{TradeState: payclient.TradeSuccess, TransactionID: "TX9", Channel: order.ChannelWeChat}}
}

func TestStepTable(t *testing.T) {
	const (
		mp = payclient.CallMicropay
		q  = payclient.CallQuery
		cl = payclient.CallClose
	)
	cases := []struct {
		name      string
		in        order.Order
		ev        Event
		wantState order.State
		wantEff   EffectKind
		wantUntil time.Time
	}{
		{"start sends micropay after journaling", ord(order.StatePending), Event{Kind: EvStart, Now: t0}, order.StatePending, EffMicropay, time.Time{}},
		{"start twice does nothing", sent(ord(order.StatePending)), Event{Kind: EvStart, Now: at(1)}, order.StatePending, EffNone, time.Time{}},
		{"micropay success", sent(ord(order.StatePending)), paid(mp, 1), order.StatePaid, EffNone, time.Time{}},
		{"USERPAYING waits and polls", sent(ord(order.StatePending)), ans(mp, payclient.OutcomePending, "USERPAYING", 1), order.StateWaiting, EffWait, at(4)},
		{"SYSTEMERROR polls, stays pending", sent(ord(order.StatePending)), ans(mp, payclient.OutcomePending, "SYSTEMERROR", 1), order.StatePending, EffWait, at(4)},
		{"comm failure re-sends micropay once", sent(ord(order.StatePending)), ans(mp, payclient.OutcomeUnknown, CodeComm, 1), order.StatePending, EffMicropay, time.Time{}},
		{"comm failure after resend polls", func() order.Order { o := sent(ord(order.StatePending)); o.Resends = 1; return o }(), ans(mp, payclient.OutcomeUnknown, CodeComm, 1), order.StatePending, EffWait, at(4)},
		{"definite failure", sent(ord(order.StatePending)), ans(mp, payclient.OutcomeFailed, "NOTENOUGH", 1), order.StateFailed, EffNone, time.Time{}},
		{"ORDERPAID is paid at once, details by query", sent(ord(order.StatePending)), ans(mp, payclient.OutcomePaid, "ORDERPAID", 1), order.StatePaid, EffQuery, time.Time{}},
		{"tick before deadline queries", ord(order.StateWaiting), Event{Kind: EvTick, Now: at(10)}, order.StateWaiting, EffQuery, time.Time{}},
		{"tick at deadline closes", ord(order.StateWaiting), Event{Kind: EvTick, Now: at(45)}, order.StateClosing, EffClose, time.Time{}},
		{"query paid", ord(order.StateWaiting), paid(q, 10), order.StatePaid, EffNone, time.Time{}},
		{"query userpaying polls again", ord(order.StateWaiting), ans(q, payclient.OutcomePending, "", 10), order.StateWaiting, EffWait, at(13)},
		{"poll never passes the deadline", ord(order.StateWaiting), ans(q, payclient.OutcomePending, "", 44), order.StateWaiting, EffWait, at(45)},
		{"query not exist keeps polling", sent(ord(order.StatePending)), ans(q, payclient.OutcomePending, "ORDERNOTEXIST", 5), order.StatePending, EffWait, at(8)},
		{"query unknown keeps polling", ord(order.StateWaiting), ans(q, payclient.OutcomeUnknown, CodeComm, 5), order.StateWaiting, EffWait, at(8)},
		{"query answer after deadline closes", ord(order.StateWaiting), ans(q, payclient.OutcomePending, "", 46), order.StateClosing, EffClose, time.Time{}},
		{"query PAYERROR fails", ord(order.StateWaiting), ans(q, payclient.OutcomeFailed, "PAYERROR", 5), order.StateFailed, EffNone, time.Time{}},
		{"query CLOSED", ord(order.StateWaiting), ans(q, payclient.OutcomeClosed, "", 5), order.StateClosed, EffNone, time.Time{}},
		{"query REVOKED", ord(order.StateWaiting), ans(q, payclient.OutcomeRevoked, "", 5), order.StateRevoked, EffNone, time.Time{}},
		{"cancel while waiting closes", ord(order.StateWaiting), Event{Kind: EvCancel, Now: at(5)}, order.StateClosing, EffClose, time.Time{}},
		{"cancel while pending closes", sent(ord(order.StatePending)), Event{Kind: EvCancel, Now: at(5)}, order.StateClosing, EffClose, time.Time{}},
		{"cancel of a paid order does nothing", ord(order.StatePaid), Event{Kind: EvCancel, Now: at(5)}, order.StatePaid, EffNone, time.Time{}},
		{"close closed", ord(order.StateClosing), ans(cl, payclient.OutcomeClosed, "", 46), order.StateClosed, EffNone, time.Time{}},
		{"close revoked (paid at the last moment)", ord(order.StateClosing), ans(cl, payclient.OutcomeRevoked, "", 46), order.StateRevoked, EffNone, time.Time{}},
		{"close unreachable leaves unknown", ord(order.StateClosing), ans(cl, payclient.OutcomeUnknown, CodeComm, 46), order.StateUnknown, EffNone, time.Time{}},
		{"close recall exhausted leaves unknown", ord(order.StateClosing), ans(cl, payclient.OutcomeUnknown, "RECALL", 46), order.StateUnknown, EffNone, time.Time{}},
		{"REVERSE_EXPIRE queries", ord(order.StateClosing), ans(cl, payclient.OutcomeCheck, "REVERSE_EXPIRE", 46), order.StateClosing, EffQuery, time.Time{}},
		{"check query paid keeps paid", ord(order.StateClosing), paid(q, 47), order.StatePaid, EffNone, time.Time{}},
		{"check query not definite leaves unknown", ord(order.StateClosing), ans(q, payclient.OutcomePending, "", 47), order.StateUnknown, EffNone, time.Time{}},
		{"resume pending queries", sent(ord(order.StatePending)), Event{Kind: EvResume, Now: at(100)}, order.StatePending, EffQuery, time.Time{}},
		{"resume never-sent pending queries", ord(order.StatePending), Event{Kind: EvResume, Now: at(100)}, order.StatePending, EffQuery, time.Time{}},
		{"resume waiting queries", ord(order.StateWaiting), Event{Kind: EvResume, Now: at(100)}, order.StateWaiting, EffQuery, time.Time{}},
		{"resume closing closes", ord(order.StateClosing), Event{Kind: EvResume, Now: at(100)}, order.StateClosing, EffClose, time.Time{}},
		{"resume unknown closes", ord(order.StateUnknown), Event{Kind: EvResume, Now: at(100)}, order.StateUnknown, EffClose, time.Time{}},
		{"resume paid lacking details queries", ord(order.StatePaid), Event{Kind: EvResume, Now: at(100)}, order.StatePaid, EffQuery, time.Time{}},
		{"resume paid with details does nothing", func() order.Order { o := ord(order.StatePaid); o.TransactionID = "TX1"; return o }(), Event{Kind: EvResume, Now: at(100)}, order.StatePaid, EffNone, time.Time{}},
		{"resumed details query failing later stops", ord(order.StatePaid), ans(q, payclient.OutcomeUnknown, CodeComm, 100), order.StatePaid, EffNone, time.Time{}},
		{"resumed details query CLOSED changes nothing", ord(order.StatePaid), ans(q, payclient.OutcomeClosed, "", 100), order.StatePaid, EffNone, time.Time{}},
		{"resumed query after deadline closes", ord(order.StatePending), ans(q, payclient.OutcomePending, "ORDERNOTEXIST", 100), order.StateClosing, EffClose, time.Time{}},
		{"unknown then closed", ord(order.StateUnknown), ans(cl, payclient.OutcomeClosed, "", 200), order.StateClosed, EffNone, time.Time{}},
		{"terminal orders ignore answers", ord(order.StateClosed), paid(q, 5), order.StateClosed, EffNone, time.Time{}},
		{"tick on unknown closes again", ord(order.StateUnknown), Event{Kind: EvTick, Now: at(300)}, order.StateUnknown, EffClose, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, eff := Step(c.in, c.ev, Config{})
			if got.State != c.wantState || eff.Kind != c.wantEff || !eff.Until.Equal(c.wantUntil) {
				t.Errorf("Step(%v, %v/%v/%q) = %v, %v until %v; want %v, %v until %v",
					c.in.State, c.ev.Kind, c.ev.Outcome, c.ev.ErrCode, got.State, eff.Kind, eff.Until.Format("15:04:05"),
					c.wantState, c.wantEff, c.wantUntil.Format("15:04:05"))
			}
			if c.wantState.Terminal() && !c.in.State.Terminal() && got.Message == "" {
				t.Errorf("terminal state %v without a message for the cashier", got.State)
			}
		})
	}
}

// The outcome of a paid answer must carry the bank's details into the order.
func TestStepRecordsPaymentDetails(t *testing.T) {
	o, _ := Step(ord(order.StateWaiting), paid(payclient.CallQuery, 3), Config{})
	if o.TransactionID != "TX9" || o.Channel != order.ChannelWeChat || o.ErrCode != "" {
		t.Errorf("details not recorded: %+v", o)
	}
}

// Step must never charge again: from any state and event, the only way to a
// micropay effect is EvStart on a never-sent order or a bounded re-send of
// the same number after a lost answer.
func TestStepNeverRecharges(t *testing.T) {
	states := []order.State{order.StatePending, order.StateWaiting, order.StateClosing, order.StateUnknown,
		order.StatePaid, order.StateFailed, order.StateClosed, order.StateRevoked}
	outcomes := []payclient.Outcome{payclient.OutcomeUnknown, payclient.OutcomePending, payclient.OutcomePaid,
		payclient.OutcomeFailed, payclient.OutcomeClosed, payclient.OutcomeRevoked, payclient.OutcomeCheck}
	calls := []payclient.Call{payclient.CallMicropay, payclient.CallQuery, payclient.CallClose, payclient.CallPrecreate}
	codes := []string{"", CodeComm, "USERPAYING", "SYSTEMERROR", "ORDERNOTEXIST", "RECALL"}
	for _, s := range states {
		for _, resends := range []int{0, MaxResends, MaxResends + MaxOutageResends} {
			for _, c := range calls {
				for _, oc := range outcomes {
					for _, code := range codes {
						for _, now := range []int{1, 100} {
							for _, prior := range []string{"", CodeComm, CodeNotReceived} {
								for _, kind := range []order.Kind{order.KindMicropay, order.KindPrecreate} {
									in := ord(s)
									in.SentAt, in.Deadline = t0, at(45)
									in.Resends = resends
									in.ErrCode = prior
									in.Kind = kind
									got, eff := Step(in, ans(c, oc, code, now), Config{})
									if eff.Kind == EffMicropay {
										// A lost answer: re-sent once at once.
										lost := c == payclient.CallMicropay && code == CodeComm && resends < MaxResends
										// The bank back after a connection failure
										// and without the number: re-sent, bounded.
										outage := c == payclient.CallQuery && code == CodeNotReceived && prior == CodeComm &&
											kind == order.KindMicropay && resends < MaxResends+MaxOutageResends
										if !(lost || outage) || s != order.StatePending || now >= 45 {
											t.Fatalf("micropay effect from %v (resends %d, prior %q, %v) after %v/%v/%q at %d",
												s, resends, prior, kind, c, oc, code, now)
										}
										if got.Resends != resends+1 || got.OutTradeNo != in.OutTradeNo {
											t.Fatalf("re-send not counted or number changed: %+v", got)
										}
									}
									if s.Terminal() && (got.State != s || eff.Kind != EffNone) {
										t.Fatalf("terminal %v changed to %v/%v", s, got.State, eff.Kind)
									}
									if !s.Terminal() && got.State == order.StatePaid && oc != payclient.OutcomePaid {
										t.Fatalf("paid without a paid answer: %v %v %q", c, oc, code)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

func TestNewOutTradeNo(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		n := NewOutTradeNo(t0)
		if len(n) < 6 || len(n) > 32 {
			t.Fatalf("length %d: %q", len(n), n)
		}
		for _, c := range n {
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-') {
				t.Fatalf("bad char in %q", n)
			}
		}
		if seen[n] {
			t.Fatalf("duplicate %q", n)
		}
		seen[n] = true
	}
}

func TestEnumsString(t *testing.T) {
	for k := EvStart; k <= EvCancel; k++ {
		if k.String() == "" {
			t.Error(fmt.Sprint(int(k)))
		}
	}
	for k := EffNone; k <= EffWait; k++ {
		if k.String() == "" {
			t.Error(fmt.Sprint(int(k)))
		}
	}
}

// After ORDERPAID the order is paid; queries only fetch its details, for a
// bounded time, and never change its state.
func TestStepOrderPaidDetails(t *testing.T) {
	o, eff := Step(sent(ord(order.StatePending)), ans(payclient.CallMicropay, payclient.OutcomePaid, "ORDERPAID", 1), Config{})
	if o.State != order.StatePaid || eff.Kind != EffQuery {
		t.Fatalf("ORDERPAID: %v %v", o.State, eff.Kind)
	}
	o2, eff := Step(o, ans(payclient.CallQuery, payclient.OutcomeUnknown, CodeComm, 2), Config{})
	if o2.State != order.StatePaid || eff.Kind != EffWait || !eff.Until.Equal(at(5)) {
		t.Fatalf("failed details query: %v %v %v", o2.State, eff.Kind, eff.Until)
	}
	if _, eff := Step(o2, Event{Kind: EvTick, Now: at(5)}, Config{}); eff.Kind != EffQuery {
		t.Fatalf("tick: %v", eff.Kind)
	}
	if _, eff := Step(o2, ans(payclient.CallQuery, payclient.OutcomeUnknown, CodeComm, 47), Config{}); eff.Kind != EffNone {
		t.Fatalf("details must stop being asked for after PollTimeout: %v", eff.Kind)
	}
	o3, eff := Step(o2, paid(payclient.CallQuery, 6), Config{})
	if o3.State != order.StatePaid || o3.TransactionID != "TX9" || eff.Kind != EffNone {
		t.Fatalf("details: %+v %v", o3, eff.Kind)
	}
}

// An order the bank never received (the last query said ORDERNOTEXIST) and
// that closed at its deadline says so, not "the payer did not confirm"; a
// cashier's Cancel stays a cancel. While pending, a connection failure is
// on the order at once and cleared by the bank's next answer.
func TestStepSaysWhyTheBankNeverHadIt(t *testing.T) {
	o := sent(ord(order.StatePending))
	o, _ = Step(o, ans(payclient.CallMicropay, payclient.OutcomeUnknown, CodeComm, 1), Config{})
	if o.ErrCode != CodeComm || o.State != order.StatePending {
		t.Fatalf("after a refused connection: %v %q; want pending COMM", o.State, o.ErrCode)
	}
	w, _ := Step(o, ans(payclient.CallQuery, payclient.OutcomePending, "USERPAYING", 2), Config{})
	if w.ErrCode == CodeComm {
		t.Fatalf("the bank answered, yet the order still says COMM: %+v", w)
	}
	o.Resends = MaxResends + MaxOutageResends // no re-send left
	o, eff := Step(o, ans(payclient.CallQuery, payclient.OutcomePending, CodeNotReceived, 3), Config{})
	if eff.Kind != EffWait || o.ErrCode != CodeNotReceived {
		t.Fatalf("no re-send left: %v %q; want a wait with ORDERNOTEXIST", eff.Kind, o.ErrCode)
	}
	pending := o
	o, eff = Step(o, Event{Kind: EvTick, Now: at(45)}, Config{})
	if eff.Kind != EffClose {
		t.Fatalf("deadline: %v", eff.Kind)
	}
	closed, _ := Step(o, ans(payclient.CallClose, payclient.OutcomeClosed, "", 46), Config{})
	if closed.State != order.StateClosed || closed.ErrCode != CodeNotReceived || !strings.Contains(closed.Message, "never received") {
		t.Fatalf("closed: %v %q %q", closed.State, closed.ErrCode, closed.Message)
	}
	c, _ := Step(pending, Event{Kind: EvCancel, Now: at(44)}, Config{})
	c, _ = Step(c, ans(payclient.CallClose, payclient.OutcomeClosed, "", 45), Config{})
	if c.State != order.StateClosed || c.ErrCode != "" || !c.Cancelled {
		t.Fatalf("cancelled: %v %q cancelled=%v", c.State, c.ErrCode, c.Cancelled)
	}
}
