package payclient

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// handSign is an independent implementation of bank-api.md's Signing for
// the hand-written server below, so that these tests do not check the
// client's signer against itself.
func handSign(fields map[string]any, key string) string {
	var names []string
	for k, v := range fields {
		if k == "sign" || v == "" {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s=%v", k, fields[k]))
	}
	m := hmac.New(sha256.New, []byte(key))
	io.WriteString(m, strings.Join(parts, "&")+"&key="+key)
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
}

// handJSON writes fields in reverse byte order with 2-space indentation,
// unlike both Go's encoder and the simulator.
func handJSON(fields map[string]any) []byte {
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, k := range names {
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(fields[k])
		fmt.Fprintf(&b, "  %s : %s", kj, vj)
		if i < len(names)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return b.Bytes()
}

const testKey = "hand-written-server-key-0123456"

// The hand server's terminal information: a serial as activation would hand
// it out, and a device_id of "another PC" (the override tests may set).
const (
	handSN     = "SNHAND00000001"
	handDevice = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
)

// handServer is a tiny bank: it checks the request's form and signature and
// answers what the test's function returns, signed (unless "sign" is set).
type handServer struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []map[string]any
	respond func(path string, req map[string]any) (status int, body []byte)
}

func (h *handServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var req map[string]any
	if err := dec.Decode(&req); err != nil {
		h.t.Errorf("request is not JSON: %s", data)
		w.WriteHeader(400)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		h.t.Errorf("Content-Type %q", ct)
	}
	if r.Method != http.MethodPost {
		h.t.Errorf("method %s", r.Method)
	}
	if got := req["sign"]; got != handSign(req, testKey) {
		h.t.Errorf("request sign %v does not verify", got)
	}
	h.mu.Lock()
	h.reqs = append(h.reqs, req)
	h.mu.Unlock()
	status, body := h.respond(strings.TrimPrefix(r.URL.Path, "/device/v1"), req)
	w.WriteHeader(status)
	w.Write(body)
}

// signed builds a signed JSON answer in the hand server's own style.
func signed(fields map[string]any) []byte {
	if _, ok := fields["sign"]; !ok {
		fields["sign"] = handSign(fields, testKey)
	}
	return handJSON(fields)
}

func newHandClient(t *testing.T, respond func(path string, req map[string]any) (int, []byte)) (*Client, *handServer, *bytes.Buffer) {
	t.Helper()
	hs := &handServer{t: t, respond: respond}
	srv := httptest.NewServer(hs)
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	c, err := New(Config{
		BaseURL: srv.URL + "/device/v1", MchID: "100000001", TerminalID: "T0001", Key: []byte(testKey),
		TerminalSN: handSN, DeviceID: handDevice, AppVersion: "1.1.0",
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), RecallWait: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, hs, &logs
}

func paidAnswer(no string, fee int64) map[string]any {
	return map[string]any{
		"return_code": "SUCCESS", "result_code": "SUCCESS", "nonce_str": "abcdefghijklmnop1234",
		"out_trade_no": no, "transaction_id": "4200000001", "pay_channel": "ALIPAY",
		"total_fee": fee, "time_end": "20261126150405",
		"brand_new_field": "servers may add fields", "another_int": 42,
	}
}

var mp = MicropayRequest{OutTradeNo: "T0001-000001", AuthCode: "280000000000000001", TotalFee: 1250, Body: "收银 <&>"}

// TestHandServerMicropay proves the client depends on neither the
// simulator's field order nor its quirks, and that its request has the
// fields, types and signature bank-api.md prescribes.
func TestHandServerMicropay(t *testing.T) {
	fixed := time.Unix(1764140000, 0)
	c, hs, logs := newHandClient(t, func(path string, req map[string]any) (int, []byte) {
		if path != EndpointMicropay {
			t.Errorf("path %s", path)
		}
		return 200, signed(paidAnswer("T0001-000001", 1250))
	})
	c.t.now = func() time.Time { return fixed }
	p, err := c.Micropay(context.Background(), mp)
	if err != nil {
		t.Fatal(err)
	}
	want := Payment{OutTradeNo: "T0001-000001", TradeState: TradeSuccess, TransactionID: "4200000001",
		Channel: order.ChannelAlipay, TotalFee: 1250, TimeEnd: "20261126150405"}
	if *p != want {
		t.Errorf("got %+v\nwant %+v", *p, want)
	}
	if Classify(CallMicropay, p, nil) != OutcomePaid {
		t.Error("not classified paid")
	}
	if _, err := c.Micropay(context.Background(), mp); err != nil {
		t.Fatal(err)
	}
	req := hs.reqs[0]
	wantStr := map[string]string{
		"mch_id": "100000001", "terminal_id": "T0001", "sign_type": "HMAC-SHA256",
		"out_trade_no": "T0001-000001", "auth_code": "280000000000000001", "body": "收银 <&>", "device_ip": "127.0.0.1",
		// bank-api 1.1 terminal information.
		"device_type": "11", "device_sn": handSN, "device_id": handDevice, "app_version": "1.1.0",
	}
	for k, v := range wantStr {
		if req[k] != v {
			t.Errorf("request %s = %#v, want %q", k, req[k], v)
		}
	}
	if req["total_fee"] != json.Number("1250") {
		t.Errorf("total_fee = %#v, want the integer 1250", req["total_fee"])
	}
	if req["timestamp"] != json.Number(strconv.FormatInt(fixed.Unix(), 10)) {
		t.Errorf("timestamp = %#v", req["timestamp"])
	}
	n1, _ := hs.reqs[0]["nonce_str"].(string)
	n2, _ := hs.reqs[1]["nonce_str"].(string)
	if len(n1) < 16 || len(n1) > 32 || n1 == n2 {
		t.Errorf("nonces %q %q: want fresh 16-32 chars", n1, n2)
	}
	// Logging: the code masked, never the key, the sign or the full code.
	l := logs.String()
	for _, secret := range []string{testKey, "280000000000000001", hs.reqs[0]["sign"].(string)} {
		if strings.Contains(l, secret) {
			t.Errorf("log contains a secret %q:\n%s", secret, l)
		}
	}
	for _, want := range []string{`"auth_code":"2800**********0001"`, `"endpoint":"/pay/micropay"`, `"out_trade_no":"T0001-000001"`, `"elapsed_ms"`, `"result":"SUCCESS"`} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %s:\n%s", want, l)
		}
	}
}

func TestHandServerQueryCloseActivate(t *testing.T) {
	closes := 0
	c, _, _ := newHandClient(t, func(path string, req map[string]any) (int, []byte) {
		switch path {
		case EndpointQuery:
			return 200, signed(map[string]any{"return_code": "SUCCESS", "result_code": "SUCCESS", "trade_state": "USERPAYING", "x": "y"})
		case EndpointClose:
			closes++
			if closes < 3 {
				return 200, signed(map[string]any{"return_code": "SUCCESS", "result_code": "SUCCESS", "trade_state": "USERPAYING", "recall": "Y"})
			}
			return 200, signed(map[string]any{"recall": "N", "trade_state": "CLOSED", "result_code": "SUCCESS", "return_code": "SUCCESS"})
		case EndpointPrecreate:
			return 200, signed(map[string]any{"return_code": "SUCCESS", "result_code": "SUCCESS", "code_url": "https://q.example/1", "expire_time": "20261126170000", "total_fee": req["total_fee"]})
		}
		return 404, nil
	})
	ctx := context.Background()
	p, err := c.Query(ctx, "T0001-000001")
	if err != nil || p.TradeState != TradeUserPaying || Classify(CallQuery, p, nil) != OutcomePending {
		t.Fatalf("query: %+v %v", p, err)
	}
	p, err = c.Close(ctx, "T0001-000001")
	if err != nil || p.TradeState != TradeClosed || p.Recall || closes != 3 {
		t.Fatalf("close: %+v %v after %d calls", p, err, closes)
	}
	q, err := c.Precreate(ctx, PrecreateRequest{OutTradeNo: "T0001-000002", TotalFee: 99, Body: "x"})
	if err != nil || q.CodeURL != "https://q.example/1" || q.ExpireTime != "20261126170000" {
		t.Fatalf("precreate: %+v %v", q, err)
	}
}

func TestCloseRecallBound(t *testing.T) {
	var calls atomic.Int32
	called := make(chan struct{}, 100)
	c, _, _ := newHandClient(t, func(path string, req map[string]any) (int, []byte) {
		calls.Add(1)
		called <- struct{}{}
		return 200, signed(map[string]any{"return_code": "SUCCESS", "result_code": "SUCCESS", "trade_state": "USERPAYING", "recall": "Y"})
	})
	c.closeRecalls = 3
	p, err := c.Close(context.Background(), "T0001-000001")
	if err != nil || !p.Recall || calls.Load() != 3 {
		t.Fatalf("got %+v %v after %d calls, want Recall after 3", p, err, calls.Load())
	}
	if Classify(CallClose, p, nil) != OutcomeUnknown {
		t.Error("unfinished close not unknown")
	}
	// Context cancelled while waiting between calls: Close returns at
	// once instead of sleeping out RecallWait.
	for len(called) > 0 {
		<-called
	}
	c.recallWait = time.Hour
	c.t.log = slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-called
		cancel()
	}()
	_, err = c.Close(ctx, "T0001-000001")
	if !errors.Is(err, ErrCommunication) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled close: %v", err)
	}
}

// TestResponseRules runs every rule of bank-api.md's response handling
// against the hand-written server.
func TestResponseRules(t *testing.T) {
	ok := paidAnswer("T0001-000001", 1250)
	with := func(mut func(m map[string]any)) map[string]any {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		mut(m)
		return m
	}
	type want int
	const (
		wantComm want = iota
		wantBadSig
		wantGarbled
		wantAPIFail
		wantAPIResult
	)
	cases := []struct {
		name   string
		status int
		body   []byte
		want   want
		code   string
	}{
		{"HTTP 500", 500, signed(with(func(map[string]any) {})), wantComm, ""},
		{"HTTP 302", 302, nil, wantComm, ""},
		{"not JSON", 200, []byte("<html>busy</html>"), wantComm, ""},
		{"empty body", 200, nil, wantComm, ""},
		{"array", 200, []byte(`[{"return_code":"SUCCESS"}]`), wantComm, ""},
		{"nested", 200, signed(with(func(m map[string]any) { m["detail"] = map[string]any{"a": "b"} })), wantComm, ""},
		{"float", 200, signed(with(func(m map[string]any) { m["total_fee"] = 12.5 })), wantComm, ""},
		{"bool", 200, signed(with(func(m map[string]any) { m["flag"] = true })), wantComm, ""},
		{"duplicate", 200, []byte(`{"return_code":"FAIL","return_code":"SUCCESS"}`), wantComm, ""},
		{"no return_code", 200, signed(with(func(m map[string]any) { delete(m, "return_code") })), wantComm, ""},
		{"odd return_code", 200, signed(with(func(m map[string]any) { m["return_code"] = "OK" })), wantComm, ""},
		{"success unsigned", 200, handJSON(ok), wantBadSig, ""},
		{"success bad sign", 200, signed(with(func(m map[string]any) { m["sign"] = strings.Repeat("A", 64) })), wantBadSig, ""},
		{"success signed by another key", 200, handJSON(with(func(m map[string]any) { m["sign"] = handSign(m, "other-key") })), wantBadSig, ""},
		{"success tampered after signing", 200, handJSON(with(func(m map[string]any) { m["sign"] = handSign(m, testKey); m["total_fee"] = 1 })), wantBadSig, ""},
		{"fail unsigned", 200, handJSON(map[string]any{"return_code": "FAIL", "return_msg": "SIGNERROR"}), wantAPIFail, "SIGNERROR"},
		{"fail signed", 200, signed(map[string]any{"return_code": "FAIL", "return_msg": "TIMESTAMP_SKEW"}), wantAPIFail, "TIMESTAMP_SKEW"},
		{"fail bad sign", 200, handJSON(map[string]any{"return_code": "FAIL", "return_msg": "X", "sign": "00"}), wantBadSig, ""},
		{"fail empty sign", 200, handJSON(map[string]any{"return_code": "FAIL", "return_msg": "X", "sign": ""}), wantAPIFail, "X"},
		{"result fail", 200, signed(map[string]any{"return_code": "SUCCESS", "result_code": "FAIL", "err_code": "NOTENOUGH", "err_code_des": "余额不足"}), wantAPIResult, "NOTENOUGH"},
		{"result fail unsigned", 200, handJSON(map[string]any{"return_code": "SUCCESS", "result_code": "FAIL", "err_code": "NOTENOUGH"}), wantBadSig, ""},
		{"result fail no err_code", 200, signed(map[string]any{"return_code": "SUCCESS", "result_code": "FAIL"}), wantGarbled, ""},
		{"no result_code", 200, signed(with(func(m map[string]any) { delete(m, "result_code") })), wantGarbled, ""},
		{"no transaction_id", 200, signed(with(func(m map[string]any) { delete(m, "transaction_id") })), wantGarbled, ""},
		{"no time_end", 200, signed(with(func(m map[string]any) { delete(m, "time_end") })), wantGarbled, ""},
		{"bad time_end", 200, signed(with(func(m map[string]any) { m["time_end"] = "2026-11-26" })), wantGarbled, ""},
		{"no total_fee", 200, signed(with(func(m map[string]any) { delete(m, "total_fee") })), wantGarbled, ""},
		{"total_fee as string", 200, signed(with(func(m map[string]any) { m["total_fee"] = "1250" })), wantGarbled, ""},
		{"other total_fee", 200, signed(with(func(m map[string]any) { m["total_fee"] = 1 })), wantGarbled, ""},
		{"other out_trade_no", 200, signed(with(func(m map[string]any) { m["out_trade_no"] = "T0001-999999" })), wantGarbled, ""},
		{"unknown pay_channel", 200, signed(with(func(m map[string]any) { m["pay_channel"] = "PAYPAL" })), wantGarbled, ""},
		{"no pay_channel", 200, signed(with(func(m map[string]any) { delete(m, "pay_channel") })), wantGarbled, ""},
		{"oversized", 200, signed(with(func(m map[string]any) { m["pad"] = strings.Repeat("x", maxBody) })), wantComm, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, logs := newHandClient(t, func(string, map[string]any) (int, []byte) { return tc.status, tc.body })
			p, err := c.Micropay(context.Background(), mp)
			if p != nil {
				t.Fatalf("a result came back: %+v", p)
			}
			var ae *APIError
			var g *errGarbled
			switch tc.want {
			case wantComm, wantBadSig, wantGarbled:
				if !errors.Is(err, ErrCommunication) || errors.As(err, &ae) {
					t.Fatalf("err %v, want a communication failure", err)
				}
				if Classify(CallMicropay, nil, err) != OutcomeUnknown {
					t.Error("not classified unknown")
				}
				if (tc.want == wantBadSig) != errors.Is(err, ErrBadSignature) {
					t.Errorf("err %v: ErrBadSignature is %v", err, errors.Is(err, ErrBadSignature))
				}
				if (tc.want == wantGarbled) != errors.As(err, &g) {
					t.Errorf("err %v: garbled is %v", err, errors.As(err, &g))
				}
				if tc.want == wantGarbled && !strings.Contains(logs.String(), `"level":"ERROR"`) {
					t.Errorf("garbled answer not logged as an error:\n%s", logs)
				}
			case wantAPIFail:
				if !errors.As(err, &ae) || ae.ReturnCode != "FAIL" || ae.ReturnMsg != tc.code || ae.Endpoint != EndpointMicropay {
					t.Fatalf("err %v (%+v), want APIError FAIL %s", err, ae, tc.code)
				}
			case wantAPIResult:
				if !errors.As(err, &ae) || ae.ReturnCode != "SUCCESS" || ae.ErrCode != tc.code || ae.ErrCodeDes == "" {
					t.Fatalf("err %v (%+v), want APIError %s", err, ae, tc.code)
				}
			}
			if !strings.HasPrefix(err.Error(), "payclient: micropay T0001-000001: ") {
				t.Errorf("error text %q", err)
			}
		})
	}
}

func TestQueryCloseRules(t *testing.T) {
	cases := []struct {
		name    string
		path    string
		answer  map[string]any
		wantErr bool
	}{
		{"query unknown state", EndpointQuery, map[string]any{"trade_state": "PENDING"}, true},
		{"query no state", EndpointQuery, map[string]any{}, true},
		{"query paid without details", EndpointQuery, map[string]any{"trade_state": "SUCCESS"}, true},
		{"query paid", EndpointQuery, map[string]any{"trade_state": "SUCCESS", "transaction_id": "1", "pay_channel": "WECHAT", "total_fee": 5, "time_end": "20261126150405"}, false},
		{"query revoked with details", EndpointQuery, map[string]any{"trade_state": "REVOKED", "transaction_id": "1", "pay_channel": "UNIONPAY", "total_fee": 5, "time_end": "20261126150405"}, false},
		{"query closed", EndpointQuery, map[string]any{"trade_state": "CLOSED"}, false},
		{"query other order", EndpointQuery, map[string]any{"trade_state": "CLOSED", "out_trade_no": "T0001-000002"}, true},
		{"query bad channel on revoked", EndpointQuery, map[string]any{"trade_state": "REVOKED", "pay_channel": "X"}, true},
		{"query closed with empty and zero fields", EndpointQuery, map[string]any{"trade_state": "CLOSED", "transaction_id": "", "pay_channel": "", "total_fee": 0, "time_end": ""}, false},
		{"query paid with empty transaction_id", EndpointQuery, map[string]any{"trade_state": "SUCCESS", "transaction_id": "", "pay_channel": "WECHAT", "total_fee": 5, "time_end": "20261126150405"}, true},
		{"query paid with zero fee", EndpointQuery, map[string]any{"trade_state": "SUCCESS", "transaction_id": "1", "pay_channel": "WECHAT", "total_fee": 0, "time_end": "20261126150405"}, true},
		{"close no recall", EndpointClose, map[string]any{"trade_state": "CLOSED"}, true},
		{"close bad recall", EndpointClose, map[string]any{"trade_state": "CLOSED", "recall": "maybe"}, true},
		{"close finished but paid", EndpointClose, map[string]any{"trade_state": "SUCCESS", "recall": "N"}, true},
		{"close revoked", EndpointClose, map[string]any{"trade_state": "REVOKED", "recall": "N"}, false},
		{"precreate no code_url", EndpointPrecreate, map[string]any{"expire_time": "20261126150405"}, true},
		{"precreate bad expire", EndpointPrecreate, map[string]any{"code_url": "u", "expire_time": "soon"}, true},
		{"precreate other fee", EndpointPrecreate, map[string]any{"code_url": "u", "expire_time": "20261126150405", "total_fee": 6}, true},
		{"precreate ok", EndpointPrecreate, map[string]any{"code_url": "u", "expire_time": "20261126150405", "total_fee": 5}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := newHandClient(t, func(string, map[string]any) (int, []byte) {
				m := map[string]any{"return_code": "SUCCESS", "result_code": "SUCCESS"}
				for k, v := range tc.answer {
					m[k] = v
				}
				return 200, signed(m)
			})
			var err error
			ctx := context.Background()
			switch tc.path {
			case EndpointQuery:
				_, err = c.Query(ctx, "T0001-000001")
			case EndpointClose:
				_, err = c.Close(ctx, "T0001-000001")
			case EndpointPrecreate:
				_, err = c.Precreate(ctx, PrecreateRequest{OutTradeNo: "T0001-000001", TotalFee: 5})
			}
			var g *errGarbled
			if tc.wantErr != (err != nil) || (err != nil && (!errors.As(err, &g) || !errors.Is(err, ErrCommunication))) {
				t.Fatalf("err = %v, want garbled: %v", err, tc.wantErr)
			}
		})
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("redirect followed")
	}))
	defer target.Close()
	c, _, _ := newHandClient(t, func(string, map[string]any) (int, []byte) { return 200, nil })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/device/v1/pay/query", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c.t.base = srv.URL + "/device/v1"
	if _, err := c.Query(context.Background(), "T0001-000001"); !errors.Is(err, ErrCommunication) {
		t.Fatalf("err %v", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	c, err := New(Config{BaseURL: srv.URL, MchID: "m", TerminalID: "t", Key: []byte("k"), HTTPTimeout: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Query(context.Background(), "T0001-000001")
	if !errors.Is(err, ErrCommunication) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if Classify(CallQuery, nil, err) != OutcomeUnknown {
		t.Error("timeout not unknown")
	}
}

func TestCheckBaseURL(t *testing.T) {
	cases := []struct {
		url      string
		ok       bool
		insecure bool
	}{
		{"https://pay.bank.example/device/v1", true, false},
		{"HTTPS://pay.bank.example", true, false},
		{"http://127.0.0.1:8080/device/v1", true, false},
		{"http://127.9.9.9/device/v1", true, false},
		{"http://[::1]:8080/device/v1", true, false},
		{"http://localhost:8080/device/v1", true, false},
		{"http://LocalHost/x", true, false},
		{"http://pay.bank.example/device/v1", false, true},
		{"http://192.168.1.10/device/v1", false, true},
		{"http://10.0.0.1/", false, true},
		{"http://[::2]/", false, true},
		{"http://localhost.evil.example/", false, true},
		{"http://127.0.0.1.evil.example/", false, true},
		{"ftp://127.0.0.1/", false, true},
		{"pay.bank.example/device/v1", false, false},
		{"https://user:pw@pay.bank.example/", false, false},
		{"https://pay.bank.example/?x=1", false, false},
		{"", false, false},
	}
	for _, tc := range cases {
		err := CheckBaseURL(tc.url)
		if (err == nil) != tc.ok || errors.Is(err, ErrInsecureURL) != tc.insecure {
			t.Errorf("%q: err %v, want ok=%v insecure=%v", tc.url, err, tc.ok, tc.insecure)
		}
	}
	_, err := New(Config{BaseURL: "http://pay.bank.example/device/v1", MchID: "m", TerminalID: "t", Key: []byte("k")})
	if !errors.Is(err, ErrInsecureURL) {
		t.Errorf("New accepted http to a remote host: %v", err)
	}
	_, err = Activate(context.Background(), ActivateRequest{BaseURL: "http://pay.bank.example/device/v1", MchID: "m", TerminalID: "t", ActivationCode: "c"})
	if !errors.Is(err, ErrInsecureURL) {
		t.Errorf("Activate accepted http to a remote host: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	good := Config{BaseURL: "https://b.example", MchID: "m", TerminalID: "t", Key: []byte("k")}
	cases := map[string]func(*Config){
		"no mch":        func(c *Config) { c.MchID = "" },
		"long terminal": func(c *Config) { c.TerminalID = strings.Repeat("t", 33) },
		"no key":        func(c *Config) { c.Key = nil },
		"bad ip":        func(c *Config) { c.DeviceIP = "pos-pc" },
	}
	if _, err := New(good); err != nil {
		t.Fatal(err)
	}
	for name, mut := range cases {
		cfg := good
		mut(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The key is copied: a caller wiping its buffer does not break the client.
	key := []byte("secret")
	cfg := good
	cfg.Key = key
	c, _ := New(cfg)
	key[0] = 'X'
	if string(c.key) != "secret" {
		t.Error("key not copied")
	}
	if c.t.timeout != DefaultHTTPTimeout || c.recallWait != DefaultRecallWait || c.closeRecalls != DefaultCloseRecalls {
		t.Error("defaults not applied")
	}
}

// TestInvalidRequestNotSent checks the client refuses what breaks a field
// rule before anything leaves, and that Classify calls it failed.
func TestInvalidRequestNotSent(t *testing.T) {
	c, hs, _ := newHandClient(t, func(string, map[string]any) (int, []byte) { return 200, nil })
	ctx := context.Background()
	bad := []MicropayRequest{
		{OutTradeNo: "short", AuthCode: "134567890123456780", TotalFee: 1},
		{OutTradeNo: "T0001-00000#", AuthCode: "134567890123456780", TotalFee: 1},
		{OutTradeNo: strings.Repeat("a", 33), AuthCode: "134567890123456780", TotalFee: 1},
		{OutTradeNo: "T0001-000001", AuthCode: "13456789012345678A", TotalFee: 1},
		{OutTradeNo: "T0001-000001", AuthCode: "", TotalFee: 1},
		{OutTradeNo: "T0001-000001", AuthCode: "134567890123456780", TotalFee: 0},
		{OutTradeNo: "T0001-000001", AuthCode: "134567890123456780", TotalFee: money.Max + 1},
		{OutTradeNo: "T0001-000001", AuthCode: "134567890123456780", TotalFee: 1, Body: strings.Repeat("字", 43)},
		{OutTradeNo: "T0001-000001", AuthCode: "134567890123456780", TotalFee: 1, Body: "bad \xff utf-8"},
	}
	for _, r := range bad {
		_, err := c.Micropay(ctx, r)
		if !errors.Is(err, ErrInvalidRequest) || Classify(CallMicropay, nil, err) != OutcomeFailed {
			t.Errorf("%+v: err %v", r, err)
		}
	}
	if _, err := c.Query(ctx, "x"); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("query: %v", err)
	}
	if _, err := c.Close(ctx, "x"); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("close: %v", err)
	}
	if _, err := c.Precreate(ctx, PrecreateRequest{OutTradeNo: "T0001-000001", TotalFee: -1}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("precreate: %v", err)
	}
	if len(hs.reqs) != 0 {
		t.Errorf("%d requests sent", len(hs.reqs))
	}
}

func TestWrapUnwrapKey(t *testing.T) {
	nonce := bytes.Repeat([]byte{7}, 12)
	kc, kn, err := WrapKey("DEMO-2026", "100000001", "T0001", []byte("the-key"), nonce)
	if err != nil {
		t.Fatal(err)
	}
	key, err := UnwrapKey("DEMO-2026", "100000001", "T0001", kc, kn)
	if err != nil || string(key) != "the-key" {
		t.Fatalf("%q %v", key, err)
	}
	// Wrong code, or AAD for another terminal: refused.
	if _, err := UnwrapKey("DEMO-2027", "100000001", "T0001", kc, kn); err == nil {
		t.Error("other code decrypted")
	}
	if _, err := UnwrapKey("DEMO-2026", "100000001", "T0002", kc, kn); err == nil {
		t.Error("other terminal decrypted")
	}
	if _, err := UnwrapKey("DEMO-2026", "100000001", "T0001", kc, "AAAA"); err == nil {
		t.Error("short nonce accepted")
	}
	if _, _, err := WrapKey("c", "m", "t", []byte("k"), []byte{1}); err == nil {
		t.Error("short nonce used")
	}
}
