package store

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// day2 is 2026-12-02 in China; its first instant is 2026-12-01 16:00 UTC.
var day2 = time.Date(2026, 12, 2, 0, 0, 0, 0, China)

func at(o order.Order, t time.Time, fen money.Fen, ch order.Channel) order.Order {
	o.CreatedAt, o.UpdatedAt, o.AmountFen = t, t, fen
	if o.State == order.StatePaid {
		o.Channel = ch
	} else {
		o.Guess = ch
	}
	return o
}

func fillDay(t *testing.T, s *Store) {
	t.Helper()
	for _, o := range []order.Order{
		at(mk("before", order.StatePaid, 0), day2.Add(-time.Nanosecond), 9999, order.ChannelWeChat), // the 1st
		at(mk("w1", order.StatePaid, 0), day2, 1000, order.ChannelWeChat),                           // 00:00
		at(mk("w2", order.StatePaid, 0), day2.Add(9*time.Hour+30*time.Minute), 2500, order.ChannelWeChat),
		at(mk("a1", order.StatePaid, 0), day2.Add(9*time.Hour), 700, order.ChannelAlipay),
		at(mk("a2", order.StateFailed, 0), day2.Add(10*time.Hour), 800, order.ChannelAlipay),
		at(mk("a3", order.StateUnknown, 0), day2.Add(11*time.Hour), 900, order.ChannelAlipay),
		at(mk("u1", order.StatePaid, 0), day2.Add(23*time.Hour+59*time.Minute), 300, order.ChannelUnionPay),
		at(mk("after", order.StatePaid, 0), day2.Add(24*time.Hour), 8888, order.ChannelWeChat), // the 3rd
	} {
		mustAppend(t, s, o)
	}
	refund := func(no, trade string, fen money.Fen, st RefundState, when time.Time) {
		t.Helper()
		r := Refund{OutRefundNo: no, OutTradeNo: trade, RefundFen: fen, State: RefundPending, CreatedAt: when, UpdatedAt: when}
		if err := s.AppendRefund(r); err != nil {
			t.Fatal(err)
		}
		if st != RefundPending {
			r.State = st
			if err := s.AppendRefund(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	refund("r1", "w2", 500, RefundRefunded, day2.Add(12*time.Hour))
	refund("r2", "w2", 100, RefundFailed, day2.Add(12*time.Hour))
	refund("r3", "a1", 200, RefundProcessing, day2.Add(13*time.Hour))
	refund("r4", "u1", 300, RefundChange, day2.Add(23*time.Hour+59*time.Minute+30*time.Second))
	refund("r5", "before", 999, RefundRefunded, day2.Add(time.Hour)) // yesterday's order, today's refund
	refund("r6", "w1", 100, RefundRefunded, day2.Add(25*time.Hour))  // tomorrow's refund
}

func TestSummaryOfADay(t *testing.T) {
	s := mustOpen(t, testDir(t))
	defer s.Close()
	fillDay(t, s)
	sum, err := s.SummaryOn(day2.Add(15 * time.Hour).UTC())
	if err != nil {
		t.Fatal(err)
	}
	if !sum.From.Equal(day2) || !sum.To.Equal(day2.AddDate(0, 0, 1)) {
		t.Fatalf("period %v .. %v", sum.From, sum.To)
	}
	want := map[string]Totals{
		"WECHAT":   {PaidCount: 2, PaidFen: 3500, RefundCount: 2, RefundedFen: 1499, NetFen: 2001},
		"ALIPAY":   {PaidCount: 1, PaidFen: 700, NetFen: 700, Unresolved: 2},
		"UNIONPAY": {PaidCount: 1, PaidFen: 300, NetFen: 300, ChangeCount: 1, ChangeFen: 300},
	}
	if len(sum.Channels) != len(want) {
		t.Fatalf("channels %+v", sum.Channels)
	}
	for i, name := range []string{"ALIPAY", "UNIONPAY", "WECHAT"} {
		c := sum.Channels[i]
		if c.Channel != name || c.Totals != want[name] {
			t.Errorf("channel %d = %+v, want %s %+v", i, c, name, want[name])
		}
	}
	total := Totals{PaidCount: 4, PaidFen: 4500, RefundCount: 2, RefundedFen: 1499, NetFen: 3001, Unresolved: 2,
		ChangeCount: 1, ChangeFen: 300}
	if sum.Total != total {
		t.Errorf("total = %+v, want %+v", sum.Total, total)
	}
	var hourly [24]money.Fen
	hourly[0], hourly[9], hourly[23] = 1000, 3200, 300
	if sum.HourlyPaidFen != hourly {
		t.Errorf("hourly = %v", sum.HourlyPaidFen)
	}
	js, _ := json.Marshal(sum)
	var keys map[string]any
	json.Unmarshal(js, &keys)
	tot := keys["total"].(map[string]any)
	for _, k := range []string{"paid_fen", "refunded_fen", "net_fen", "paid_count", "refund_count", "unresolved"} {
		if _, ok := tot[k]; !ok {
			t.Errorf("summary JSON lacks %q: %s", k, js)
		}
	}
	// An empty day.
	sum, err = s.SummaryOn(day2.AddDate(0, 0, 5))
	if err != nil || sum.Total != (Totals{}) || len(sum.Channels) != 0 {
		t.Fatalf("empty day = %+v %v", sum, err)
	}
}

func TestShifts(t *testing.T) {
	now := day2.Add(8 * time.Hour)
	s := mustOpen(t, testDir(t), WithClock(func() time.Time { return now }))
	defer s.Close()
	if _, ok, err := s.CurrentShift(); ok || err != nil {
		t.Fatalf("a shift is open in a new store: %v", err)
	}
	if _, err := s.CloseShift(); !errors.Is(err, ErrNoShift) {
		t.Fatalf("CloseShift with none open = %v", err)
	}
	if _, err := s.OpenShift("  "); !errors.Is(err, ErrInvalid) {
		t.Fatalf("OpenShift without a name = %v", err)
	}
	sh, err := s.OpenShift(" 张三 ")
	if err != nil || sh.Cashier != "张三" || !sh.OpenedAt.Equal(now) || !sh.Open() {
		t.Fatalf("OpenShift = %+v %v", sh, err)
	}
	if _, err := s.OpenShift("李四"); !errors.Is(err, ErrShiftOpen) {
		t.Fatalf("second OpenShift = %v", err)
	}
	fillDay(t, s) // 09:00 .. 23:59 orders fall in the shift, w1 at 00:00 does not
	now = day2.Add(20 * time.Hour)
	cur, ok, err := s.CurrentShift()
	if err != nil || !ok || cur.ID != sh.ID {
		t.Fatalf("CurrentShift = %+v %v %v", cur, ok, err)
	}
	live, err := s.SummaryForShift(sh.ID)
	if err != nil || live.Total.PaidCount != 2 || live.Total.PaidFen != 3200 || live.Total.RefundedFen != 500 ||
		live.Total.Unresolved != 2 {
		t.Fatalf("open shift's summary = %+v %v", live.Total, err)
	}
	closed, err := s.CloseShift()
	if err != nil || closed.Open() || !closed.ClosedAt.Equal(now) || closed.Summary == nil ||
		closed.Summary.Total != live.Total {
		t.Fatalf("CloseShift = %+v %v", closed, err)
	}
	// The kept summary stays as printed; SummaryForShift sees later states.
	a3, _ := s.Get("a3")
	a3.State, a3.Channel = order.StatePaid, order.ChannelAlipay
	mustAppend(t, s, a3)
	again, err := s.SummaryForShift(sh.ID)
	if err != nil || again.Total.PaidCount != 3 {
		t.Fatalf("recomputed = %+v %v", again.Total, err)
	}
	now = now.Add(time.Hour)
	sh2, err := s.OpenShift("李四")
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.Shifts(0)
	if err != nil || len(list) != 2 || list[0].ID != sh2.ID || list[1].ID != sh.ID ||
		list[1].Summary == nil || list[1].Summary.Total.PaidCount != 2 {
		t.Fatalf("Shifts = %+v %v", list, err)
	}
	if _, err := s.SummaryForShift(999); !errors.Is(err, ErrNoShift) {
		t.Fatalf("SummaryForShift(999) = %v", err)
	}
}

func TestPruneKeepsWhatIsNeeded(t *testing.T) {
	dir := testDir(t)
	now := t0
	clock := func() time.Time { return now }
	s := mustOpen(t, dir, WithClock(clock), WithRetention(time.Hour)) // raised to MinRetention
	if s.opts.retention != MinRetention {
		t.Fatalf("retention %v, want the floor %v", s.opts.retention, MinRetention)
	}
	s.Close()
	// A shift closed 440 days ago.
	const d = 24 * time.Hour
	now = t0.Add(-440 * d)
	s = mustOpen(t, dir, WithClock(clock))
	sh, _ := s.OpenShift("old")
	if _, err := s.CloseShift(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	now = t0
	s = mustOpen(t, dir, WithClock(clock))
	old := func(no string, st order.State, age time.Duration) {
		o := mk(no, st, 0)
		o.CreatedAt, o.UpdatedAt = now.Add(-age), now.Add(-age)
		mustAppend(t, s, o)
	}
	old("gone", order.StatePaid, 440*d)
	old("unresolved", order.StateUnknown, 500*d)
	old("kept400", order.StatePaid, 400*d)
	old("refundedLater", order.StatePaid, 440*d)
	old("refundOld", order.StatePaid, 440*d)
	old("refundOpen", order.StatePaid, 440*d)
	refund := func(no, trade string, st RefundState, age time.Duration) {
		r := Refund{OutRefundNo: no, OutTradeNo: trade, RefundFen: 1, State: st, CreatedAt: now.Add(-age), UpdatedAt: now.Add(-age)}
		if err := s.AppendRefund(r); err != nil {
			t.Fatal(err)
		}
	}
	refund("rLater", "refundedLater", RefundRefunded, 300*d) // recent refund keeps its order
	refund("rOld", "refundOld", RefundRefunded, 439*d)       // old and resolved: goes with the order
	refund("rOpen", "refundOpen", RefundProcessing, 439*d)   // unresolved: kept, and its order
	s.Close()
	s = mustOpen(t, dir, WithClock(clock)) // prunes
	defer s.Close()
	res, err := s.Prune() // nothing left to prune
	if err != nil || res != (PruneResult{}) {
		t.Fatalf("second prune = %+v %v", res, err)
	}
	for no, want := range map[string]bool{"gone": false, "refundOld": false, "unresolved": true, "kept400": true,
		"refundedLater": true, "refundOpen": true} {
		if _, ok := s.Get(no); ok != want {
			t.Errorf("order %s kept = %v, want %v", no, ok, want)
		}
	}
	for no, want := range map[string]bool{"rLater": true, "rOld": false, "rOpen": true} {
		if _, ok, _ := s.GetRefund(no); ok != want {
			t.Errorf("refund %s kept = %v, want %v", no, ok, want)
		}
	}
	if list, _ := s.Shifts(0); len(list) != 0 {
		t.Errorf("shift %d of 440 days ago kept", sh.ID)
	}
}
