package payclient_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
)

func near(got, want time.Duration) bool {
	d := got - want
	return d >= -time.Second && d <= time.Second
}

// TestClockRule (issue 8 defect 6): a PC whose clock is minutes or hours
// off keeps working. The bank refuses the first request (TIMESTAMP_SKEW, no
// effect), the client re-sends it once with the bank's time, and from then
// on stamps every request right; the skewed micropay is charged once.
func TestClockRule(t *testing.T) {
	for i, off := range []time.Duration{-301 * time.Second, 301 * time.Second, -10 * time.Minute, 2 * time.Hour, -3 * time.Hour, 26 * time.Hour} {
		t.Run(off.String(), func(t *testing.T) {
			e := newEnv(t, banksim.Options{})
			cfg := e.cfg
			cfg.Now = func() time.Time { return e.clock.Now().Add(off) }
			c, err := payclient.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if c.ClockOffset() != 0 {
				t.Fatalf("offset %v before any answer", c.ClockOffset())
			}
			no, code := fmt.Sprintf("CK-%06d", i), wechat(0)
			p, err := c.Micropay(ctx, req(no, code))
			if err != nil || p.TradeState != payclient.TradeSuccess {
				t.Fatalf("micropay with the clock %v off: %+v %v", off, p, err)
			}
			if !near(c.ClockOffset(), -off) {
				t.Errorf("ClockOffset %v, want about %v", c.ClockOffset(), -off)
			}
			if got := c.BankNow().Sub(e.clock.Now()); got < -time.Second || got > time.Second {
				t.Errorf("BankNow is %v from the bank's clock", got)
			}
			ev := e.sim.Events() // activation, skew refusal, the re-sent micropay
			if len(ev) != 3 || ev[1].Answer != "FAIL:TIMESTAMP_SKEW" || ev[1].OutTradeNo != no || ev[2].Answer != "SUCCESS" || ev[2].OutTradeNo != no {
				t.Fatalf("events %+v", ev)
			}
			if n := e.sim.PaidCountByCode()[code]; n != 1 {
				t.Errorf("charged %d times", n)
			}
			// From now on no refusal: the offset is applied up front.
			e.wantQuery(t, no, payclient.TradeSuccess)
			if _, err := c.Query(ctx, no); err != nil {
				t.Fatal(err)
			}
			if ev := e.sim.Events(); len(ev) != 5 || ev[4].Answer != "SUCCESS" {
				t.Errorf("second request refused again: %+v", ev[3:])
			}
		})
	}
}

// TestClockCorrectedMidway: the shop fixes the PC clock (or the bank's
// jumps) after the offset was learnt; the next request is refused once,
// re-sent with the new offset, and goes through.
func TestClockCorrectedMidway(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	off := -2 * time.Hour
	cfg := e.cfg
	cfg.Now = func() time.Time { return e.clock.Now().Add(off) }
	c, _ := payclient.New(cfg)
	if _, err := c.Micropay(ctx, req("CM-000001", wechat(1))); err != nil {
		t.Fatal(err)
	}
	off = 0 // someone set the clock right
	p, err := c.Micropay(ctx, req("CM-000002", wechat(2)))
	if err != nil || p.TradeState != payclient.TradeSuccess {
		t.Fatalf("after the correction: %+v %v", p, err)
	}
	if c.ClockOffset() != 0 {
		t.Errorf("ClockOffset %v after the correction, want 0", c.ClockOffset())
	}
	skews := 0
	for _, ev := range e.sim.Events() {
		if ev.Answer == "FAIL:TIMESTAMP_SKEW" {
			skews++
		}
	}
	if skews != 2 {
		t.Errorf("%d skew refusals, want one per clock change", skews)
	}
}

// TestBankClockOffset: the simulator's own clock ahead or behind (as
// `scanbox banksim --clock-offset` runs it); the client at the true time
// pays, queries, closes and refunds.
func TestBankClockOffset(t *testing.T) {
	for _, off := range []time.Duration{2 * time.Hour, -3 * time.Hour} {
		t.Run(off.String(), func(t *testing.T) {
			e := newEnv(t, banksim.Options{ClockOffset: off})
			p, err := e.client.Micropay(ctx, req("BO-000001", wechat(0)))
			if err != nil || p.TradeState != payclient.TradeSuccess {
				t.Fatalf("micropay: %+v %v", p, err)
			}
			if !near(e.client.ClockOffset(), off) {
				t.Errorf("ClockOffset %v, want about %v", e.client.ClockOffset(), off)
			}
			e.wantQuery(t, "BO-000001", payclient.TradeSuccess)
			// time_end is the bank's clock, in China time.
			if want := e.sim.Now().In(payclient.ChinaTime).Format("20060102150405"); p.TimeEnd != want {
				t.Errorf("time_end %s, want the bank's %s", p.TimeEnd, want)
			}
			rf, err := e.client.Refund(ctx, payclient.RefundRequest{OutTradeNo: "BO-000001", OutRefundNo: "BO-R00001", TotalFee: 1250, RefundFee: 250})
			if err != nil || rf.State != payclient.RefundSuccess {
				t.Fatalf("refund: %+v %v", rf, err)
			}
			b, err := e.client.DownloadBill(ctx, payclient.DayOf(e.sim.Now()))
			if err != nil || len(b.Lines) != 2 || !b.Provisional {
				t.Fatalf("bill of the bank's day: %+v %v", b, err)
			}
		})
	}
}

// TestActivationWithWrongClock: bank staff activate on a PC whose clock is
// hours off; the refusal is re-sent with the bank's time and succeeds.
func TestActivationWithWrongClock(t *testing.T) {
	clk := newClock()
	sim, url := newSimURL(t, banksim.Options{Now: clk.Now, SingleUse: true})
	skewed := func() time.Time { return clk.Now().Add(-3 * time.Hour) }
	mi, err := payclient.Activate(ctx, payclient.ActivateRequest{BaseURL: url, MchID: banksim.DefaultMchID,
		TerminalID: banksim.DefaultTerminalID, ActivationCode: banksim.DefaultActivationCode, DeviceID: deviceOf(t, "pc-a")},
		payclient.ActivateWithClock(skewed), payclient.ActivateWithLogger(slog.New(slog.DiscardHandler)))
	if err != nil || len(mi.Key) == 0 || mi.TerminalSN == "" {
		t.Fatalf("activation 3 h off: %+v %v", mi, err)
	}
	if ev := sim.Events(); len(ev) != 2 || ev[0].Answer != "FAIL:TIMESTAMP_SKEW" || ev[1].Answer != "SUCCESS" {
		t.Errorf("events %+v", ev)
	}
}

// TestLedgerOverHTTPWithRefunds: GET /_sim/ledger carries the refunds and
// their executions, for tests and tools in other processes.
func TestLedgerOverHTTPWithRefunds(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	e.pay(t, "LH-000001", 1000)
	e.refund(t, rreq("LH-000001", "LH-R00001", 1000, 300), "", payclient.RefundOutcomeRefunded)
	e.refund(t, rreq("LH-000001", "LH-R00008", 1000, 100), "", payclient.RefundOutcomeProcessing)
	rep, err := banksim.FetchLedger(ctx, e.url)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Refunds) != 2 || rep.Refunds[0].State != payclient.RefundSuccess || rep.Refunds[1].State != payclient.RefundProcessing ||
		rep.Refunds[1].Behaviour != banksim.RefundProcessingThenChange || rep.Refunds[0].RefundFee != 300 ||
		rep.RefundExecutions["T0001/LH-R00001"] != 1 || len(rep.Entries) != 1 || rep.Entries[0].Refunded != 400 {
		t.Errorf("ledger over HTTP %+v", rep)
	}
}
