package payclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/deviceid"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

// clock is a fake clock shared by the client and the simulator, so that
// password delays and reverse windows pass without real waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	sim    *banksim.Sim
	url    string
	clock  *clock
	client *payclient.Client
	cfg    payclient.Config
}

// newEnv starts a simulator on loopback and activates T0001 through the
// real /merchant/info exchange.
func newEnv(t *testing.T, opts banksim.Options) *env {
	t.Helper()
	clk := newClock()
	opts.Now = clk.Now
	sim, url := simtest.NewServer(t, opts)
	mi, err := payclient.Activate(context.Background(), payclient.ActivateRequest{
		BaseURL: url, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID, ActivationCode: banksim.DefaultActivationCode,
	}, payclient.ActivateWithClock(clk.Now), payclient.ActivateWithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{sim: sim, url: url, clock: clk}
	e.cfg = payclient.Config{
		BaseURL: url, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID, Key: mi.Key, TerminalSN: mi.TerminalSN,
		Now: clk.Now, Logger: slog.New(slog.DiscardHandler), RecallWait: time.Millisecond, HTTPTimeout: 5 * time.Second,
	}
	e.client, err = payclient.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var ctx = context.Background()

// Codes by wallet shape; the last digit picks the simulated payer.
func wechat(last int) string { return fmt.Sprintf("13456789012345678%d", last) }

func req(no, code string) payclient.MicropayRequest {
	return payclient.MicropayRequest{OutTradeNo: no, AuthCode: code, TotalFee: 1250, Body: "测试商品"}
}

func errCode(err error) string {
	var ae *payclient.APIError
	if errors.As(err, &ae) {
		if ae.ReturnCode == "FAIL" {
			return "FAIL:" + ae.ReturnMsg
		}
		return ae.ErrCode
	}
	return ""
}

func (e *env) ledger(t *testing.T, no string) banksim.LedgerEntry {
	t.Helper()
	for _, l := range e.sim.Ledger() {
		if l.OutTradeNo == no {
			return l
		}
	}
	t.Fatalf("%s not in the ledger", no)
	return banksim.LedgerEntry{}
}

func (e *env) wantQuery(t *testing.T, no string, want payclient.TradeState) *payclient.Payment {
	t.Helper()
	p, err := e.client.Query(ctx, no)
	if err != nil {
		t.Fatalf("query %s: %v", no, err)
	}
	if p.TradeState != want {
		t.Fatalf("query %s: %v, want %v", no, p.TradeState, want)
	}
	return p
}

func (e *env) wantNotExist(t *testing.T, no string) {
	t.Helper()
	_, err := e.client.Query(ctx, no)
	if errCode(err) != "ORDERNOTEXIST" || payclient.Classify(payclient.CallQuery, nil, err) != payclient.OutcomePending {
		t.Fatalf("query %s: %v, want ORDERNOTEXIST", no, err)
	}
}

func TestActivation(t *testing.T) {
	e := newEnv(t, banksim.Options{SingleUse: true, Terminals: []string{"T0001", "T0002", "T0003"}})
	// The key from newEnv works.
	if _, err := e.client.Micropay(ctx, req("A-000001", wechat(0))); err != nil {
		t.Fatal(err)
	}
	ar := payclient.ActivateRequest{BaseURL: e.url, MchID: banksim.DefaultMchID, TerminalID: "T0002", ActivationCode: banksim.DefaultActivationCode}
	opt := payclient.ActivateWithClock(e.clock.Now)
	quiet := payclient.ActivateWithLogger(slog.New(slog.DiscardHandler))
	// Single use: the demo code is spent.
	_, err := payclient.Activate(ctx, ar, opt, quiet)
	if errCode(err) != "FAIL:ACTIVATION_INVALID" {
		t.Fatalf("reused code: %v", err)
	}
	ar.ActivationCode = "WRONG"
	if _, err := payclient.Activate(ctx, ar, opt, quiet); errCode(err) != "FAIL:ACTIVATION_INVALID" {
		t.Fatalf("wrong code: %v", err)
	}
	if payclient.Classify(payclient.CallQuery, nil, err) != payclient.OutcomeUnknown {
		t.Error("activation refusal classified")
	}

	e2 := newEnv(t, banksim.Options{ActivationCodes: []string{banksim.DefaultActivationCode, "C2"}, Terminals: []string{"T0001", "T0002"}})
	ar = payclient.ActivateRequest{BaseURL: e2.url, MchID: banksim.DefaultMchID, TerminalID: "T0002", ActivationCode: "C2"}
	opt = payclient.ActivateWithClock(e2.clock.Now)
	mi, err := payclient.Activate(ctx, ar, opt, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if mi.MerchantName != "演示商户" || mi.StoreName != "一号店" || mi.StaticQR != "https://pay.bank.example/qr/static/100000001" || len(mi.Key) < 16 {
		t.Errorf("merchant info %+v", mi)
	}
	// Reusable code: a second activation rotates the key; the old one stops working.
	mi2, err := payclient.Activate(ctx, ar, opt, quiet)
	if err != nil || bytes.Equal(mi.Key, mi2.Key) {
		t.Fatalf("second activation: %v (same key: %v)", err, mi2 != nil && bytes.Equal(mi.Key, mi2.Key))
	}
	cfg := e2.cfg
	cfg.TerminalID, cfg.Key = "T0002", mi.Key
	old, _ := payclient.New(cfg)
	if _, err := old.Query(ctx, "A-000001"); errCode(err) != "FAIL:SIGNERROR" {
		t.Errorf("old key: %v", err)
	}
	cfg.Key = mi2.Key
	cur, _ := payclient.New(cfg)
	if _, err := cur.Query(ctx, "A-000001"); errCode(err) != "ORDERNOTEXIST" {
		t.Errorf("new key: %v", err)
	}
	// A terminal the bank has disabled, or does not know.
	e2.sim.DisableTerminal("T0002")
	if _, err := payclient.Activate(ctx, ar, opt, quiet); errCode(err) != "TERMINAL_DISABLED" {
		t.Errorf("disabled terminal: %v", err)
	}
	ar.TerminalID = "T0009"
	if _, err := payclient.Activate(ctx, ar, opt, quiet); errCode(err) != "TERMINAL_DISABLED" {
		t.Errorf("unknown terminal: %v", err)
	}
	// A terminal never activated gets an unsigned refusal.
	cfg.TerminalID = "T0009"
	never, _ := payclient.New(cfg)
	if _, err := never.Query(ctx, "A-000001"); errCode(err) != "FAIL:TERMINAL_NOT_ACTIVATED" {
		t.Errorf("not activated: %v", err)
	}
	// A forged activation answer is refused.
	ar.TerminalID = "T0001"
	e2.sim.InjectFault(payclient.EndpointActivate, banksim.Fault{Kind: banksim.FaultForgedSuccess})
	if _, err := payclient.Activate(ctx, ar, opt, quiet); !errors.Is(err, payclient.ErrBadSignature) {
		t.Errorf("forged activation: %v", err)
	}
}

func TestBehaviours(t *testing.T) {
	e := newEnv(t, banksim.Options{PasswordDelay: 8 * time.Second})
	cases := []struct {
		name     string
		code     string
		first    string // err_code of the first micropay, "" for success
		firstOut payclient.Outcome
		then     func(t *testing.T, no, code string)
		final    payclient.TradeState
		paid     int
	}{
		{"pay at once", wechat(3), "", payclient.OutcomePaid, func(t *testing.T, no, code string) {
			p := e.wantQuery(t, no, payclient.TradeSuccess)
			if p.TotalFee != 1250 || p.Channel != order.ChannelWeChat || p.TransactionID == "" || p.TimeEnd == "" {
				t.Errorf("query %+v", p)
			}
			// Idempotent resend: ORDERPAID, not a second charge.
			_, err := e.client.Micropay(ctx, req(no, code))
			if errCode(err) != "ORDERPAID" || payclient.Classify(payclient.CallMicropay, nil, err) != payclient.OutcomePaid {
				t.Errorf("resend: %v", err)
			}
		}, payclient.TradeSuccess, 1},
		{"password then pays", wechat(4), "USERPAYING", payclient.OutcomePending, func(t *testing.T, no, code string) {
			e.wantQuery(t, no, payclient.TradeUserPaying)
			e.clock.Advance(7 * time.Second)
			e.wantQuery(t, no, payclient.TradeUserPaying)
			e.clock.Advance(time.Second)
			p := e.wantQuery(t, no, payclient.TradeSuccess)
			if payclient.Classify(payclient.CallQuery, p, nil) != payclient.OutcomePaid {
				t.Error("not paid")
			}
		}, payclient.TradeSuccess, 1},
		{"never confirms", wechat(6), "USERPAYING", payclient.OutcomePending, func(t *testing.T, no, code string) {
			e.clock.Advance(time.Minute)
			e.wantQuery(t, no, payclient.TradeUserPaying)
			p, err := e.client.Close(ctx, no)
			if err != nil || p.TradeState != payclient.TradeClosed || payclient.Classify(payclient.CallClose, p, nil) != payclient.OutcomeClosed {
				t.Fatalf("close: %+v %v", p, err)
			}
			e.wantQuery(t, no, payclient.TradeClosed)
			// Closing again: same outcome.
			if p, err := e.client.Close(ctx, no); err != nil || p.TradeState != payclient.TradeClosed {
				t.Errorf("second close: %+v %v", p, err)
			}
			if _, err := e.client.Micropay(ctx, req(no, code)); errCode(err) != "ORDERCLOSED" {
				t.Errorf("micropay after close: %v", err)
			}
		}, payclient.TradeClosed, 0},
		{"confirms at close", wechat(7), "USERPAYING", payclient.OutcomePending, func(t *testing.T, no, code string) {
			p, err := e.client.Close(ctx, no)
			if err != nil || p.TradeState != payclient.TradeRevoked || payclient.Classify(payclient.CallClose, p, nil) != payclient.OutcomeRevoked {
				t.Fatalf("close: %+v %v", p, err)
			}
			e.wantQuery(t, no, payclient.TradeRevoked)
			if _, err := e.client.Micropay(ctx, req(no, code)); errCode(err) != "ORDERREVERSED" {
				t.Errorf("micropay after reversal: %v", err)
			}
		}, payclient.TradeRevoked, 1},
		{"insufficient balance", wechat(8), "NOTENOUGH", payclient.OutcomeFailed, func(t *testing.T, no, code string) {
			e.wantQuery(t, no, payclient.TradePayError)
			if _, err := e.client.Micropay(ctx, req(no, code)); errCode(err) != "NOTENOUGH" {
				t.Errorf("resend: %v", err)
			}
		}, payclient.TradePayError, 0},
		{"code expired", wechat(9), "AUTHCODEEXPIRE", payclient.OutcomeFailed, func(t *testing.T, no, code string) {
			p, err := e.client.Close(ctx, no)
			if err != nil || p.TradeState != payclient.TradeClosed {
				t.Errorf("close of a failed order: %+v %v", p, err)
			}
		}, payclient.TradeClosed, 0},
		{"not a payment code", "990000000000000001", "AUTH_CODE_INVALID", payclient.OutcomeFailed, nil, payclient.TradePayError, 0},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			no := fmt.Sprintf("B-%06d", i)
			p, err := e.client.Micropay(ctx, req(no, tc.code))
			if errCode(err) != tc.first || payclient.Classify(payclient.CallMicropay, p, err) != tc.firstOut {
				t.Fatalf("micropay: %+v %v, want %q/%v", p, err, tc.first, tc.firstOut)
			}
			if tc.first == "" && (p.TradeState != payclient.TradeSuccess || p.TotalFee != 1250 || p.OutTradeNo != no) {
				t.Errorf("payment %+v", p)
			}
			if tc.then != nil {
				tc.then(t, no, tc.code)
			}
			l := e.ledger(t, no)
			if l.State != tc.final || l.AuthCode != tc.code || l.TotalFee != 1250 || l.TerminalID != "T0001" {
				t.Errorf("ledger %+v, want %v", l, tc.final)
			}
			if got := e.sim.PaidCountByCode()[tc.code]; got != tc.paid {
				t.Errorf("paid %d times, want %d", got, tc.paid)
			}
		})
	}
	bc := e.sim.BehaviourCounts()
	for _, b := range []banksim.Behaviour{banksim.PayAtOnce, banksim.PasswordThenPay, banksim.NeverConfirm, banksim.ConfirmAtClose, banksim.InsufficientBalance, banksim.CodeExpired} {
		if bc[b] != 1 {
			t.Errorf("behaviour %v met %d times, want 1", b, bc[b])
		}
	}
}

func TestSetBehaviourAndChannels(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	code := wechat(0) // would pay at once
	e.sim.SetBehaviour(code, banksim.InsufficientBalance)
	if _, err := e.client.Micropay(ctx, req("S-000001", code)); errCode(err) != "NOTENOUGH" {
		t.Errorf("SetBehaviour ignored: %v", err)
	}
	for i, tc := range []struct {
		code string
		ch   order.Channel
	}{
		{"101234567890123450", order.ChannelWeChat},
		{"151234567890123450", order.ChannelWeChat},
		{"2512345678901230", order.ChannelAlipay},
		{"301234567890123456789010", order.ChannelAlipay},
		{"6212345678901234560", order.ChannelUnionPay},
		{"0112345678901234560", order.ChannelECNY},
	} {
		p, err := e.client.Micropay(ctx, req(fmt.Sprintf("CH-%06d", i), tc.code))
		if err != nil || p.Channel != tc.ch {
			t.Errorf("%s: %+v %v, want %v", tc.code, p, err, tc.ch)
		}
	}
	for i, code := range []string{"161234567890123450", "1012345678901234500", "2412345678901230", "6312345678901234560"} {
		if _, err := e.client.Micropay(ctx, req(fmt.Sprintf("CX-%06d", i), code)); errCode(err) != "AUTH_CODE_INVALID" {
			t.Errorf("%s: %v, want AUTH_CODE_INVALID", code, err)
		}
	}
}

func TestFaults(t *testing.T) {
	applied := func(t *testing.T, e *env, no, code string) {
		t.Helper()
		e.wantQuery(t, no, payclient.TradeSuccess)
		// The safe follow-up: resend the same request; never a second charge.
		_, err := e.client.Micropay(ctx, req(no, code))
		if errCode(err) != "ORDERPAID" {
			t.Errorf("resend: %v", err)
		}
		if n := e.sim.PaidCountByCode()[code]; n != 1 {
			t.Errorf("paid %d times", n)
		}
	}
	notApplied := func(t *testing.T, e *env, no, code string) {
		t.Helper()
		e.wantNotExist(t, no)
		if n := e.sim.PaidCountByCode()[code]; n != 0 {
			t.Errorf("paid %d times", n)
		}
		// The resend of the same request charges once.
		if _, err := e.client.Micropay(ctx, req(no, code)); err != nil {
			t.Errorf("resend: %v", err)
		}
		if n := e.sim.PaidCountByCode()[code]; n != 1 {
			t.Errorf("paid %d times after resend", n)
		}
	}
	cases := []struct {
		fault   banksim.FaultKind
		badSig  bool
		applied bool
	}{
		{banksim.FaultRequestLost, false, false},
		{banksim.FaultResponseLost, false, true},
		{banksim.FaultHTTP5xx, false, false},
		{banksim.FaultNotJSON, false, true},
		{banksim.FaultBadSignature, true, true},
		{banksim.FaultForgedSuccess, true, false},
	}
	for i, tc := range cases {
		t.Run(tc.fault.String(), func(t *testing.T) {
			e := newEnv(t, banksim.Options{})
			no, code := fmt.Sprintf("F-%06d", i), wechat(i%4)
			e.sim.InjectFault(payclient.EndpointMicropay, banksim.Fault{Kind: tc.fault})
			p, err := e.client.Micropay(ctx, req(no, code))
			if p != nil || !errors.Is(err, payclient.ErrCommunication) || errors.Is(err, payclient.ErrBadSignature) != tc.badSig {
				t.Fatalf("micropay: %+v %v", p, err)
			}
			if payclient.Classify(payclient.CallMicropay, p, err) != payclient.OutcomeUnknown {
				t.Error("not classified unknown")
			}
			if got := e.sim.FaultCounts()[tc.fault]; got != 1 {
				t.Errorf("fault counted %d times", got)
			}
			ev := e.sim.Events() // activation, then our micropay
			if last := ev[len(ev)-1]; len(ev) != 2 || last.Fault != tc.fault || last.OutTradeNo != no ||
				last.Endpoint != payclient.EndpointMicropay || (last.Answer == "SUCCESS") != tc.applied {
				t.Errorf("events %+v", ev)
			}
			if tc.applied {
				applied(t, e, no, code)
			} else {
				notApplied(t, e, no, code)
			}
		})
	}
}

func TestForgedQueryNeverPaid(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	no, code := "FQ-000001", wechat(6) // never confirms
	if _, err := e.client.Micropay(ctx, req(no, code)); errCode(err) != "USERPAYING" {
		t.Fatal(err)
	}
	e.sim.InjectFault(payclient.EndpointQuery, banksim.Fault{Kind: banksim.FaultForgedSuccess})
	p, err := e.client.Query(ctx, no)
	if p != nil || !errors.Is(err, payclient.ErrBadSignature) {
		t.Fatalf("forged query: %+v %v", p, err)
	}
	e.wantQuery(t, no, payclient.TradeUserPaying)
	if e.sim.PaidCountByCode()[code] != 0 {
		t.Error("paid")
	}
}

func TestSlowAnswer(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	e.sim.InjectFault(payclient.EndpointMicropay, banksim.Fault{Kind: banksim.FaultSlow, Delay: 30 * time.Millisecond})
	if _, err := e.client.Micropay(ctx, req("SL-000001", wechat(1))); err != nil {
		t.Fatalf("slow but in time: %v", err)
	}

	// Slower than the client waits: the request arrives after the client
	// has given up, queried (not there yet) and closed the number. The
	// tombstone makes the late micropay fail instead of charging.
	cfg := e.cfg
	cfg.HTTPTimeout = 50 * time.Millisecond
	impatient, _ := payclient.New(cfg)
	hold := make(chan struct{})
	e.sim.InjectFault(payclient.EndpointMicropay, banksim.Fault{Kind: banksim.FaultSlow, Hold: hold})
	no, code := "SL-000002", wechat(2)
	_, err := impatient.Micropay(ctx, req(no, code))
	if !errors.Is(err, payclient.ErrCommunication) || !errors.Is(err, context.DeadlineExceeded) {
		close(hold)
		t.Fatalf("micropay: %v", err)
	}
	e.wantNotExist(t, no)
	p, err := e.client.Close(ctx, no)
	close(hold)
	if err != nil || p.TradeState != payclient.TradeClosed {
		t.Fatalf("close: %+v %v", p, err)
	}
	e.sim.WaitIdle() // the late micropay has now been handled
	e.wantQuery(t, no, payclient.TradeClosed)
	if n := e.sim.PaidCountByCode()[code]; n != 0 {
		t.Errorf("late micropay charged %d times", n)
	}
	if e.sim.FaultCounts()[banksim.FaultSlow] != 2 {
		t.Errorf("fault counts %v", e.sim.FaultCounts())
	}
}

func TestCloseRecall(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	no := "RC-000001"
	if _, err := e.client.Micropay(ctx, req(no, wechat(6))); errCode(err) != "USERPAYING" {
		t.Fatal(err)
	}
	e.sim.InjectFault(payclient.EndpointClose, banksim.Fault{Kind: banksim.FaultRecall, Recalls: 2})
	p, err := e.client.Close(ctx, no)
	if err != nil || p.Recall || p.TradeState != payclient.TradeClosed {
		t.Fatalf("close: %+v %v", p, err)
	}

	// More recalls than the client's budget: it returns Recall=true, unknown.
	no = "RC-000002"
	e.client.Micropay(ctx, req(no, wechat(6)))
	e.sim.InjectFault(payclient.EndpointClose, banksim.Fault{Kind: banksim.FaultRecall, Recalls: 7})
	p, err = e.client.Close(ctx, no)
	if err != nil || !p.Recall || payclient.Classify(payclient.CallClose, p, nil) != payclient.OutcomeUnknown {
		t.Fatalf("close: %+v %v", p, err)
	}
	e.wantQuery(t, no, payclient.TradeUserPaying) // recall=Y had no effect
	p, err = e.client.Close(ctx, no)              // 2 recalls left, within budget
	if err != nil || p.Recall || p.TradeState != payclient.TradeClosed {
		t.Fatalf("close again: %+v %v", p, err)
	}
	if e.sim.FaultCounts()[banksim.FaultRecall] != 2 {
		t.Errorf("fault counts %v", e.sim.FaultCounts())
	}
}

func TestSystemError(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	no, code := "SE-000001", wechat(0)
	e.sim.InjectFault(payclient.EndpointMicropay, banksim.Fault{Kind: banksim.FaultSystemError})
	_, err := e.client.Micropay(ctx, req(no, code))
	if errCode(err) != "SYSTEMERROR" || payclient.Classify(payclient.CallMicropay, nil, err) == payclient.OutcomeFailed {
		t.Fatalf("micropay: %v", err)
	}
	e.wantQuery(t, no, payclient.TradeSuccess) // it went through
}

// replayTransport re-sends the first request body it saw in place of the
// next one: a network replay of a signed request.
type replayTransport struct {
	mu    sync.Mutex
	saved []byte
}

func (rt *replayTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	rt.mu.Lock()
	if rt.saved == nil {
		rt.saved = body
	} else {
		body = rt.saved
	}
	rt.mu.Unlock()
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	return http.DefaultTransport.RoundTrip(r2)
}

func TestReplayedNonceRefused(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	cfg := e.cfg
	cfg.HTTPClient = &http.Client{Transport: &replayTransport{}}
	c, _ := payclient.New(cfg)
	if _, err := c.Micropay(ctx, req("RP-000001", wechat(0))); err != nil {
		t.Fatal(err)
	}
	_, err := c.Micropay(ctx, req("RP-000001", wechat(0)))
	var ae *payclient.APIError
	if !errors.As(err, &ae) || ae.ReturnCode != "FAIL" || len(ae.ReturnMsg) < 6 || ae.ReturnMsg[:6] != "REPLAY" {
		t.Fatalf("replay: %v", err)
	}
	if n := e.sim.PaidCountByCode()[wechat(0)]; n != 1 {
		t.Errorf("paid %d times", n)
	}
}

func TestWrongKey(t *testing.T) {
	e := newEnv(t, banksim.Options{})
	cfg := e.cfg
	cfg.Key = []byte("not-the-key-not-the-key-not-the")
	c, _ := payclient.New(cfg)
	_, err := c.Micropay(ctx, req("WK-000001", wechat(0)))
	if errCode(err) != "FAIL:SIGNERROR" {
		t.Fatalf("wrong key: %v", err)
	}
	e.wantNotExist(t, "WK-000001")
}

func TestOrderRules(t *testing.T) {
	e := newEnv(t, banksim.Options{ReverseWindow: time.Hour, AmountLimit: 500000})
	// Same number, different business fields: OUT_TRADE_NO_USED.
	if _, err := e.client.Micropay(ctx, req("OR-000001", wechat(0))); err != nil {
		t.Fatal(err)
	}
	other := req("OR-000001", wechat(0))
	other.TotalFee = 1
	if _, err := e.client.Micropay(ctx, other); errCode(err) != "OUT_TRADE_NO_USED" {
		t.Errorf("different fee: %v", err)
	}
	if _, err := e.client.Micropay(ctx, req("OR-000001", wechat(1))); errCode(err) != "OUT_TRADE_NO_USED" {
		t.Errorf("different code: %v", err)
	}
	// Closing a number the bank never saw records it: a late micropay fails.
	p, err := e.client.Close(ctx, "OR-000002")
	if err != nil || p.TradeState != payclient.TradeClosed {
		t.Fatalf("close unknown: %+v %v", p, err)
	}
	if _, err := e.client.Micropay(ctx, req("OR-000002", wechat(0))); errCode(err) != "ORDERCLOSED" {
		t.Errorf("micropay after tombstone: %v", err)
	}
	// Paid, then closed within the window: reversed.
	p, err = e.client.Close(ctx, "OR-000001")
	if err != nil || p.TradeState != payclient.TradeRevoked || p.TotalFee != 1250 {
		t.Fatalf("close paid: %+v %v", p, err)
	}
	// Paid, then closed after the window: REVERSE_EXPIRE, and the order stands.
	if _, err := e.client.Micropay(ctx, req("OR-000003", wechat(2))); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour + time.Second)
	_, err = e.client.Close(ctx, "OR-000003")
	if errCode(err) != "REVERSE_EXPIRE" || payclient.Classify(payclient.CallClose, nil, err) != payclient.OutcomeCheck {
		t.Errorf("late close: %v", err)
	}
	e.wantQuery(t, "OR-000003", payclient.TradeSuccess)
	// Amount limit of the merchant.
	big := req("OR-000004", wechat(0))
	big.TotalFee = 500001
	if _, err := e.client.Micropay(ctx, big); errCode(err) != "AMOUNT_LIMIT" {
		t.Errorf("limit: %v", err)
	}
	// Query of a number never seen.
	e.wantNotExist(t, "OR-000005")
}

func TestPrecreate(t *testing.T) {
	e := newEnv(t, banksim.Options{AutoPayAfter: 20 * time.Second})
	pr := payclient.PrecreateRequest{OutTradeNo: "PC-000001", TotalFee: 880, Body: "扫码"}
	q, err := e.client.Precreate(ctx, pr)
	if err != nil || q.CodeURL == "" || len(q.ExpireTime) != 14 {
		t.Fatalf("precreate: %+v %v", q, err)
	}
	again, err := e.client.Precreate(ctx, pr)
	if err != nil || again.CodeURL != q.CodeURL {
		t.Errorf("precreate again: %+v %v", again, err)
	}
	pr2 := pr
	pr2.TotalFee = 1
	if _, err := e.client.Precreate(ctx, pr2); errCode(err) != "OUT_TRADE_NO_USED" {
		t.Errorf("other amount: %v", err)
	}
	e.wantQuery(t, "PC-000001", payclient.TradeNotPay)
	if err := e.sim.PayPrecreated("PC-000001"); err != nil {
		t.Fatal(err)
	}
	p := e.wantQuery(t, "PC-000001", payclient.TradeSuccess)
	if p.TotalFee != 880 || p.TransactionID == "" {
		t.Errorf("paid %+v", p)
	}
	if err := e.sim.PayPrecreated("PC-000001"); err == nil {
		t.Error("paid twice")
	}
	if err := e.sim.PayPrecreated("PC-999999"); err == nil {
		t.Error("paid an unknown order")
	}

	// Over HTTP, as the demo's "customer" does it from another process.
	e.client.Precreate(ctx, payclient.PrecreateRequest{OutTradeNo: "PC-000002", TotalFee: 5})
	root := e.url[:len(e.url)-len(banksim.DefaultBasePath)]
	resp, err := http.Post(root+"/_sim/pay?out_trade_no=PC-000002", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/_sim/pay: %v %v", resp, err)
	}
	resp.Body.Close()
	e.wantQuery(t, "PC-000002", payclient.TradeSuccess)

	// Auto-pay after the configured delay; close before it: closed.
	e.client.Precreate(ctx, payclient.PrecreateRequest{OutTradeNo: "PC-000003", TotalFee: 5})
	e.client.Precreate(ctx, payclient.PrecreateRequest{OutTradeNo: "PC-000004", TotalFee: 5})
	if p, err := e.client.Close(ctx, "PC-000004"); err != nil || p.TradeState != payclient.TradeClosed {
		t.Errorf("close precreated: %+v %v", p, err)
	}
	e.wantQuery(t, "PC-000003", payclient.TradeNotPay)
	e.clock.Advance(20 * time.Second)
	e.wantQuery(t, "PC-000003", payclient.TradeSuccess)
	e.wantQuery(t, "PC-000004", payclient.TradeClosed)
	// A micropay may not reuse a precreated number.
	if _, err := e.client.Micropay(ctx, req("PC-000003", wechat(0))); errCode(err) != "OUT_TRADE_NO_USED" {
		t.Errorf("micropay on a precreated number: %v", err)
	}

	rep, err := banksim.FetchLedger(ctx, e.url)
	if err != nil {
		t.Fatal(err)
	}
	paid := 0
	for _, l := range rep.Entries {
		if l.State == payclient.TradeSuccess {
			paid++
		}
	}
	if paid != 3 || len(rep.Entries) != 4 {
		t.Errorf("ledger over HTTP: %+v", rep.Entries)
	}
}

// TestFaultySoak follows bank-api.md's recommended procedure for many orders
// against random faults and checks the properties that matter: no code is
// charged twice, and whatever the client settles on is what the bank holds.
func TestFaultySoak(t *testing.T) {
	for _, seed := range soakSeeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { soak(t, seed) })
	}
}

var soakSeeds = []int64{42, 7, 2026}

func soak(t *testing.T, seed int64) {
	e := newEnv(t, banksim.Options{FaultRate: 0.3, Seed: seed, SlowDelay: 5 * time.Millisecond, PasswordDelay: 6 * time.Second})
	const orders = 60
	for i := range orders {
		no := fmt.Sprintf("SOAK-%06d", i)
		code := fmt.Sprintf("1345678901%07d%d", i, i%10)
		got := settle(t, e, no, code)
		l, inLedger := payclient.TradeStateNone, false
		for _, le := range e.sim.Ledger() {
			if le.OutTradeNo == no {
				l, inLedger = le.State, true
			}
		}
		switch got {
		case payclient.OutcomePaid:
			if l != payclient.TradeSuccess {
				t.Errorf("%s: client says paid, bank holds %v", no, l)
			}
		case payclient.OutcomeFailed, payclient.OutcomeClosed, payclient.OutcomeRevoked:
			if inLedger && l == payclient.TradeSuccess {
				t.Errorf("%s: client says %v, bank holds it paid", no, got)
			}
		default:
			t.Errorf("%s: unresolved (%v)", no, got)
		}
		if n := e.sim.PaidCountByCode()[code]; n > 1 {
			t.Errorf("%s: code charged %d times", no, n)
		}
	}
	fc := e.sim.FaultCounts()
	if len(fc) < 6 {
		t.Errorf("few fault kinds drawn: %v", fc)
	}
	t.Logf("fault counts: %v", fc)
}

// settle is the recommended client procedure, compressed: micropay, poll
// with query, then close until definite. Only query and close are retried;
// a lost micropay is re-sent with the same number and fields.
func settle(t *testing.T, e *env, no, code string) payclient.Outcome {
	r := req(no, code)
	p, err := e.client.Micropay(ctx, r)
	out := payclient.Classify(payclient.CallMicropay, p, err)
	for range 3 {
		if out != payclient.OutcomeUnknown {
			break
		}
		p, err = e.client.Micropay(ctx, r)
		out = payclient.Classify(payclient.CallMicropay, p, err)
	}
	for poll := 0; poll < 5 && (out == payclient.OutcomePending || out == payclient.OutcomeUnknown); poll++ {
		e.clock.Advance(3 * time.Second)
		p, err = e.client.Query(ctx, no)
		out = payclient.Classify(payclient.CallQuery, p, err)
	}
	if out == payclient.OutcomePaid || out == payclient.OutcomeFailed {
		return out
	}
	for range 30 {
		p, err = e.client.Close(ctx, no)
		out = payclient.Classify(payclient.CallClose, p, err)
		if out == payclient.OutcomeCheck {
			p, err = e.client.Query(ctx, no)
			out = payclient.Classify(payclient.CallQuery, p, err)
		}
		if out != payclient.OutcomeUnknown && out != payclient.OutcomePending {
			return out
		}
	}
	return out
}

func BenchmarkMicropayRoundTrip(b *testing.B) {
	sim, url := simtest.NewServer(b, banksim.Options{TerminalKeys: map[string]string{"T0001": "bench-key-0123456789abcdefghijkl"}})
	_ = sim
	c, err := payclient.New(payclient.Config{BaseURL: url, MchID: banksim.DefaultMchID, TerminalID: "T0001",
		Key: []byte("bench-key-0123456789abcdefghijkl"), TerminalSN: banksim.TerminalSN(banksim.DefaultMchID, "T0001"),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		p, err := c.Micropay(ctx, payclient.MicropayRequest{OutTradeNo: fmt.Sprintf("BM-%08d", i), AuthCode: "134567890123456780", TotalFee: money.Fen(100 + i%100)})
		if err != nil || p.TradeState != payclient.TradeSuccess {
			b.Fatal(p, err)
		}
	}
}

func TestActivationLogsNoSecrets(t *testing.T) {
	clk := newClock()
	_, url := simtest.NewServer(t, banksim.Options{Now: clk.Now, ActivationCodes: []string{"SECRET-CODE-42"}})
	var logs bytes.Buffer
	l := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ar := payclient.ActivateRequest{BaseURL: url, MchID: banksim.DefaultMchID, TerminalID: "T0001", ActivationCode: "SECRET-CODE-42"}
	mi, err := payclient.Activate(ctx, ar, payclient.ActivateWithClock(clk.Now), payclient.ActivateWithLogger(l))
	if err != nil {
		t.Fatal(err)
	}
	ar.ActivationCode = "SECRET-CODE-43"
	_, err = payclient.Activate(ctx, ar, payclient.ActivateWithClock(clk.Now), payclient.ActivateWithLogger(l))
	if errCode(err) != "FAIL:ACTIVATION_INVALID" {
		t.Fatal(err)
	}
	for _, secret := range []string{"SECRET-CODE-4", string(mi.Key)} {
		if strings.Contains(logs.String(), secret) || strings.Contains(err.Error(), secret) {
			t.Errorf("secret %q logged:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "endpoint=/merchant/info") {
		t.Errorf("activation not logged:\n%s", logs.String())
	}
}

func newSimURL(t *testing.T, opts banksim.Options) (*banksim.Sim, string) {
	t.Helper()
	return simtest.NewServer(t, opts)
}

// deviceOf is the device_id of terminal T0001 on the PC named pc.
func deviceOf(t *testing.T, pc string) string {
	t.Helper()
	id, err := deviceid.Derive(pc, banksim.DefaultMchID, banksim.DefaultTerminalID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
