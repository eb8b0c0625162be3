package banksim

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/payclient"
)

const tKey = "sim-test-key-0123456789abcdefgh"

func newSim(t *testing.T, opts Options) (*Sim, string) {
	t.Helper()
	if opts.TerminalKeys == nil {
		opts.TerminalKeys = map[string]string{DefaultTerminalID: tKey}
	}
	sim := New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL + sim.opts.BasePath
}

// signedReq builds a valid, signed request for ep with extra fields.
func signedReq(extra payclient.Object, key string) payclient.Object {
	o := payclient.Object{
		"mch_id": DefaultMchID, "terminal_id": DefaultTerminalID, "nonce_str": payclient.NewNonce(),
		"timestamp": time.Now().Unix(), "sign_type": "HMAC-SHA256",
	}
	for k, v := range extra {
		if v == nil {
			delete(o, k)
		} else {
			o[k] = v
		}
	}
	sign, err := payclient.Sign(o, []byte(key), payclient.SignHMACSHA256)
	if err != nil {
		panic(err)
	}
	o["sign"] = sign
	return o
}

// post sends a raw body and returns the status and the decoded answer (nil
// if not a flat object).
func post(t *testing.T, url string, body []byte) (int, payclient.Object, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	obj, _ := payclient.DecodeObject(data)
	return resp.StatusCode, obj, data
}

func postObj(t *testing.T, url string, o payclient.Object) payclient.Object {
	t.Helper()
	body, err := o.Encode()
	if err != nil {
		t.Fatal(err)
	}
	st, obj, data := post(t, url, body)
	if st != 200 || obj == nil {
		t.Fatalf("HTTP %d %s", st, data)
	}
	return obj
}

// outcome names an answer: "FAIL:<return_msg>", the err_code, or "SUCCESS",
// plus whether it was signed with tKey.
func outcome(o payclient.Object) (string, bool) {
	signed := payclient.Verify(o, []byte(tKey), payclient.SignHMACSHA256)
	if rc, _ := o.Str("return_code"); rc == "FAIL" {
		msg, _ := o.Str("return_msg")
		return "FAIL:" + msg, signed
	}
	if code, _ := o.Str("err_code"); code != "" {
		return code, signed
	}
	return "SUCCESS", signed
}

// tDevice is the device_id of the test's "PC".
const tDevice = "aa00000000000000000000000000000000000000000000000000000000000001"

// terminalInfo adds bank-api 1.1's terminal information to o.
func terminalInfo(o payclient.Object) payclient.Object {
	out := payclient.Object{"device_type": "11", "device_sn": TerminalSN(DefaultMchID, DefaultTerminalID),
		"device_id": tDevice, "app_version": "1.1.0", "device_ip": "10.0.0.5"}
	for k, v := range o {
		out[k] = v
	}
	return out
}

var goodMicropay = terminalInfo(payclient.Object{
	"out_trade_no": "R-000001", "auth_code": "134567890123456780", "total_fee": int64(100), "body": "x",
})

func with(base payclient.Object, k string, v any) payclient.Object {
	o := payclient.Object{}
	for kk, vv := range base {
		o[kk] = vv
	}
	if v == nil {
		delete(o, k)
	} else {
		o[k] = v
	}
	return o
}

func TestFieldRules(t *testing.T) {
	_, url := newSim(t, Options{})
	mp := url + payclient.EndpointMicropay
	cases := []struct {
		name   string
		ep     string
		req    payclient.Object
		want   string
		signed bool
	}{
		{"valid", mp, goodMicropay, "SUCCESS", true},
		{"no mch_id", mp, with(goodMicropay, "mch_id", ""), "FAIL:PARAM_ERROR: mch_id and terminal_id must be 1-32 characters", false},
		{"long terminal", mp, with(goodMicropay, "terminal_id", strings.Repeat("T", 33)), "FAIL:PARAM_ERROR: mch_id and terminal_id must be 1-32 characters", false},
		{"other merchant", mp, with(goodMicropay, "mch_id", "999"), "FAIL:TERMINAL_NOT_ACTIVATED", false},
		{"unknown terminal", mp, with(goodMicropay, "terminal_id", "T0009"), "FAIL:TERMINAL_NOT_ACTIVATED", false},
		{"md5", mp, with(goodMicropay, "sign_type", "MD5"), "FAIL:PARAM_ERROR: sign_type must be HMAC-SHA256", true},
		{"timestamp text", mp, with(goodMicropay, "timestamp", "1764140000"), "FAIL:PARAM_ERROR: timestamp must be an integer", true},
		{"old timestamp", mp, with(goodMicropay, "timestamp", time.Now().Add(-301*time.Second).Unix()), "FAIL:TIMESTAMP_SKEW", true},
		{"future timestamp", mp, with(goodMicropay, "timestamp", time.Now().Add(301*time.Second).Unix()), "FAIL:TIMESTAMP_SKEW", true},
		{"short nonce", mp, with(goodMicropay, "nonce_str", "abc123abc123abc"), "FAIL:PARAM_ERROR: nonce_str must be 16-32 of [0-9A-Za-z]", true},
		{"long nonce", mp, with(goodMicropay, "nonce_str", strings.Repeat("a", 33)), "FAIL:PARAM_ERROR: nonce_str must be 16-32 of [0-9A-Za-z]", true},
		{"nonce charset", mp, with(goodMicropay, "nonce_str", "abc123abc123abc-"), "FAIL:PARAM_ERROR: nonce_str must be 16-32 of [0-9A-Za-z]", true},
		{"short out_trade_no", mp, with(goodMicropay, "out_trade_no", "R-001"), "PARAM_ERROR", true},
		{"long out_trade_no", mp, with(goodMicropay, "out_trade_no", strings.Repeat("R", 33)), "PARAM_ERROR", true},
		{"out_trade_no charset", mp, with(goodMicropay, "out_trade_no", "R.000001"), "PARAM_ERROR", true},
		{"auth_code letters", mp, with(goodMicropay, "auth_code", "13456789012345678x"), "PARAM_ERROR", true},
		{"no auth_code", mp, with(goodMicropay, "auth_code", nil), "PARAM_ERROR", true},
		{"fee 0", mp, with(goodMicropay, "total_fee", int64(0)), "PARAM_ERROR", true},
		{"fee max+1", mp, with(goodMicropay, "total_fee", int64(100000001)), "PARAM_ERROR", true},
		{"fee text", mp, with(goodMicropay, "total_fee", "100"), "PARAM_ERROR", true},
		{"body 129 bytes", mp, with(goodMicropay, "body", strings.Repeat("b", 129)), "PARAM_ERROR", true},
		{"device_ip", mp, with(goodMicropay, "device_ip", "pos-pc"), "PARAM_ERROR", true},
		{"query bad no", url + payclient.EndpointQuery, payclient.Object{"out_trade_no": "x"}, "PARAM_ERROR", true},
		{"close bad no", url + payclient.EndpointClose, payclient.Object{"out_trade_no": "x"}, "PARAM_ERROR", true},
		{"precreate fee", url + payclient.EndpointPrecreate, terminalInfo(payclient.Object{"out_trade_no": "P-000001", "total_fee": int64(0)}), "PARAM_ERROR", true},
		// bank-api 1.1 terminal information.
		{"no device_type", mp, with(goodMicropay, "device_type", nil), "PARAM_ERROR", true},
		{"device_type 12", mp, with(goodMicropay, "device_type", "12"), "PARAM_ERROR", true},
		{"no device_sn", mp, with(goodMicropay, "device_sn", nil), "PARAM_ERROR", true},
		{"other device_sn", mp, with(goodMicropay, "device_sn", TerminalSN(DefaultMchID, "T0002")), "PARAM_ERROR", true},
		{"no device_id", mp, with(goodMicropay, "device_id", nil), "PARAM_ERROR", true},
		{"device_id upper", mp, with(goodMicropay, "device_id", strings.ToUpper(tDevice)), "PARAM_ERROR", true},
		{"device_id short", mp, with(goodMicropay, "device_id", tDevice[:63]), "PARAM_ERROR", true},
		{"no app_version", mp, with(goodMicropay, "app_version", nil), "PARAM_ERROR", true},
		{"app_version 9", mp, with(goodMicropay, "app_version", "1.1.0-rc1"), "PARAM_ERROR", true},
		{"no device_ip", mp, with(goodMicropay, "device_ip", nil), "PARAM_ERROR", true},
		{"precreate without info", url + payclient.EndpointPrecreate, payclient.Object{"out_trade_no": "P-000002", "total_fee": int64(5), "device_ip": "10.0.0.5"}, "PARAM_ERROR", true},
		{"refund without info", url + payclient.EndpointRefund, payclient.Object{"out_trade_no": "R-000001", "out_refund_no": "RF-000001", "total_fee": int64(100), "refund_fee": int64(1)}, "PARAM_ERROR", true},
		{"query other device", url + payclient.EndpointQuery, payclient.Object{"out_trade_no": "R-000001", "device_id": strings.Repeat("b", 64)}, "DEVICE_MISMATCH", true},
		{"query bad device_id", url + payclient.EndpointQuery, payclient.Object{"out_trade_no": "R-000001", "device_id": "pc"}, "PARAM_ERROR", true},
		{"query own device", url + payclient.EndpointQuery, payclient.Object{"out_trade_no": "R-000001", "device_id": tDevice}, "SUCCESS", true},
		{"query without device_id", url + payclient.EndpointQuery, payclient.Object{"out_trade_no": "R-000001"}, "SUCCESS", true},
		{"micropay other device", mp, with(with(goodMicropay, "device_id", strings.Repeat("b", 64)), "out_trade_no", "R-000003"), "DEVICE_MISMATCH", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, signed := outcome(postObj(t, tc.ep, signedReq(tc.req, tKey)))
			if got != tc.want || signed != tc.signed {
				t.Errorf("got %s (signed %v), want %s (signed %v)", got, signed, tc.want, tc.signed)
			}
		})
	}
	// Max fee and a 128-byte body are fine.
	ok := with(with(with(goodMicropay, "total_fee", int64(100000000)), "body", strings.Repeat("字", 42)+"ab"), "out_trade_no", "R-000002")
	if got, _ := outcome(postObj(t, mp, signedReq(ok, tKey))); got != "SUCCESS" {
		t.Errorf("limits: %s", got)
	}
}

func TestSignatureAndReplay(t *testing.T) {
	_, url := newSim(t, Options{})
	q := url + payclient.EndpointQuery
	// A bad signature is refused unsigned, and does not use up the nonce.
	req := signedReq(payclient.Object{"out_trade_no": "R-000001"}, "wrong-key")
	got, signed := outcome(postObj(t, q, req))
	if got != "FAIL:SIGNERROR" || signed || req["sign"] == nil {
		t.Errorf("bad sign: %s signed=%v", got, signed)
	}
	good := payclient.Object{}
	for k, v := range req {
		good[k] = v
	}
	good["sign"], _ = payclient.Sign(good, []byte(tKey), payclient.SignHMACSHA256)
	if got, _ := outcome(postObj(t, q, good)); got != "ORDERNOTEXIST" {
		t.Errorf("first use: %s", got)
	}
	got, _ = outcome(postObj(t, q, good))
	if !strings.HasPrefix(got, "FAIL:REPLAY") {
		t.Errorf("replay: %s", got)
	}
	// Tampered after signing.
	tam := signedReq(goodMicropay, tKey)
	tam["total_fee"] = int64(1)
	if got, _ := outcome(postObj(t, url+payclient.EndpointMicropay, tam)); got != "FAIL:SIGNERROR" {
		t.Errorf("tampered: %s", got)
	}
}

func TestTransportRules(t *testing.T) {
	_, url := newSim(t, Options{})
	for _, body := range []string{"", "not json", `{"a":{"b":1}}`, `{"a":1.5}`, `[1]`, `{"a":"1","a":"2"}`} {
		if st, _, _ := post(t, url+payclient.EndpointQuery, []byte(body)); st != http.StatusBadRequest {
			t.Errorf("%q: HTTP %d", body, st)
		}
	}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/json; charset=gbk", ""} {
		resp, err := http.Post(url+payclient.EndpointQuery, ct, bytes.NewReader(mustEncode(signedReq(payclient.Object{"out_trade_no": "R-000001"}, tKey))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: HTTP %d", ct, resp.StatusCode)
		}
	}
	if st, _, _ := post(t, url+"/pay/reverse", []byte("{}")); st != http.StatusNotFound {
		t.Errorf("unknown endpoint: %d", st)
	}
	resp, err := http.Get(url + payclient.EndpointQuery)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

// TestAnswerShape checks that answers come in varying field order, sometimes
// with an unknown field, always with a fresh nonce and a valid signature.
func TestAnswerShape(t *testing.T) {
	_, url := newSim(t, Options{Seed: 7})
	orders := map[string]bool{}
	extra, noExtra := 0, 0
	nonces := map[string]bool{}
	for range 40 {
		resp, err := http.Post(url+payclient.EndpointQuery, "application/json",
			bytes.NewReader(mustEncode(signedReq(payclient.Object{"out_trade_no": "R-000001"}, tKey))))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		obj, err := payclient.DecodeObject(data)
		if err != nil {
			t.Fatal(err)
		}
		if !payclient.Verify(obj, []byte(tKey), payclient.SignHMACSHA256) {
			t.Fatalf("answer does not verify: %s", data)
		}
		n, _ := obj.Str("nonce_str")
		if len(n) < 16 || nonces[n] {
			t.Errorf("nonce %q", n)
		}
		nonces[n] = true
		orders[keyOrder(data)] = true
		if _, ok := obj["sim_trace_id"]; ok {
			extra++
		} else {
			noExtra++
		}
	}
	if len(orders) < 5 || extra == 0 || noExtra == 0 {
		t.Errorf("%d field orders, %d with and %d without the extra field", len(orders), extra, noExtra)
	}
}

func mustEncode(o payclient.Object) []byte {
	b, err := o.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

func keyOrder(data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	var keys []string
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		dec.Token()
	}
	return strings.Join(keys, ",")
}

func TestFaultDrawsRepeatable(t *testing.T) {
	run := func(seed int64) map[FaultKind]int {
		sim, url := newSim(t, Options{FaultRate: 0.5, Seed: seed, SlowDelay: time.Millisecond,
			Faults: []Fault{{Kind: FaultHTTP5xx}, {Kind: FaultNotJSON}, {Kind: FaultSystemError}, {Kind: FaultRecall}}})
		for range 40 {
			resp, err := http.Post(url+payclient.EndpointQuery, "application/json",
				bytes.NewReader(mustEncode(signedReq(payclient.Object{"out_trade_no": "R-000001"}, tKey))))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		return sim.FaultCounts()
	}
	a, b := run(3), run(3)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed, different faults: %v %v", a, b)
	}
	if a[FaultRecall] != 0 {
		t.Errorf("recall applied to query: %v", a)
	}
	if a[FaultHTTP5xx] == 0 || a[FaultNotJSON] == 0 || a[FaultSystemError] == 0 {
		t.Errorf("faults not drawn: %v", a)
	}
	if c := run(0); len(c) == 0 {
		t.Errorf("random seed drew nothing: %v", c)
	}
	sim, url := newSim(t, Options{})
	postObj(t, url+payclient.EndpointQuery, signedReq(payclient.Object{"out_trade_no": "R-000001"}, tKey))
	if fc := sim.FaultCounts(); len(fc) != 0 {
		t.Errorf("faults without a rate: %v", fc)
	}
}

func TestBehaviourFromCode(t *testing.T) {
	want := []Behaviour{PayAtOnce, PayAtOnce, PayAtOnce, PayAtOnce, PasswordThenPay, PasswordThenPay, NeverConfirm, ConfirmAtClose, InsufficientBalance, CodeExpired}
	for d, b := range want {
		code := "13456789012345678" + string(rune('0'+d))
		if got := behaviourFromCode(code); got != b {
			t.Errorf("last digit %d: %v, want %v", d, got, b)
		}
	}
}

func TestEnumRoundTrips(t *testing.T) {
	for b := BehaviourByCode; b <= CodeExpired; b++ {
		text, _ := b.MarshalText()
		var back Behaviour
		if err := back.UnmarshalText(text); err != nil || back != b {
			t.Errorf("%v: %v %v", b, back, err)
		}
	}
	for k := FaultNone; k <= FaultSystemError; k++ {
		text, _ := k.MarshalText()
		var back FaultKind
		if err := back.UnmarshalText(text); err != nil || back != k {
			t.Errorf("%v: %v %v", k, back, err)
		}
	}
	if _, err := ParseFaultKind("SLOW"); err == nil {
		t.Error("upper case fault accepted")
	}
	if _, err := ParseBehaviour("nope"); err == nil {
		t.Error("unknown behaviour accepted")
	}
}

func TestFlags(t *testing.T) {
	var o Options
	fs := flag.NewFlagSet("banksim", flag.ContinueOnError)
	o.Flags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if o.MchID != DefaultMchID || !reflect.DeepEqual(o.Terminals, []string{DefaultTerminalID}) ||
		!reflect.DeepEqual(o.ActivationCodes, []string{DefaultActivationCode}) || o.SingleUse ||
		o.PasswordDelay != DefaultPasswordDelay || o.StoreName != DefaultStoreName {
		t.Errorf("defaults: %+v", o)
	}
	o = Options{}
	fs = flag.NewFlagSet("banksim", flag.ContinueOnError)
	o.Flags(fs)
	err := fs.Parse([]string{"--fault-rate", "0.2", "--seed", "9", "--password-delay", "2s", "--slow", "4s",
		"--activation-code", "A1,A2", "--mch", "M1", "--terminal", "T1,T2", "--single-use",
		"--faults", "slow,recall", "--auto-pay", "10s", "--reverse-window", "1h", "--amount-limit", "500",
		"--clock-offset", "-3h", "--refund-delay", "2s", "--refund-balance", "9000", "--area-code", "440305"})
	if err != nil {
		t.Fatal(err)
	}
	want := Options{FaultRate: 0.2, Seed: 9, PasswordDelay: 2 * time.Second, SlowDelay: 4 * time.Second,
		ActivationCodes: []string{"A1", "A2"}, MchID: "M1", Terminals: []string{"T1", "T2"}, SingleUse: true,
		Faults: []Fault{{Kind: FaultSlow}, {Kind: FaultRecall}}, AutoPayAfter: 10 * time.Second,
		ReverseWindow: time.Hour, AmountLimit: 500,
		ClockOffset: -3 * time.Hour, RefundDelay: 2 * time.Second, RefundBalance: 9000, AreaCode: "440305",
		MerchantName: DefaultMerchantName, StoreName: DefaultStoreName, StaticQR: DefaultStaticQR}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got  %+v\nwant %+v", o, want)
	}
	fs = flag.NewFlagSet("banksim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.Flags(fs)
	if err := fs.Parse([]string{"--faults", "meteor"}); err == nil {
		t.Error("unknown fault accepted")
	}
}

func TestListenAndServe(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.168.1.1:0", ":0", "example.com:80"} {
		if err := ListenAndServe(context.Background(), addr, Options{}, nil); err == nil {
			t.Errorf("%s: listened", addr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- ListenAndServe(ctx, "127.0.0.1:0", Options{TerminalKeys: map[string]string{"T0001": tKey}},
			func(u string) { urls <- u })
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/device/v1") {
		t.Errorf("url %s", url)
	}
	if got, _ := outcome(postObj(t, url+payclient.EndpointMicropay, signedReq(goodMicropay, tKey))); got != "SUCCESS" {
		t.Errorf("micropay: %s", got)
	}
	rep, err := FetchLedger(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Entries) != 1 || rep.Entries[0].State != payclient.TradeSuccess || rep.PaidCountByCode["134567890123456780"] != 1 {
		t.Errorf("ledger %+v", rep)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if _, err := FetchLedger(context.Background(), "http://192.168.1.1/device/v1"); err == nil {
		t.Error("fetched from a non-loopback host")
	}
}

func TestLedgerJSON(t *testing.T) {
	sim, url := newSim(t, Options{})
	postObj(t, url+payclient.EndpointMicropay, signedReq(goodMicropay, tKey))
	postObj(t, url+payclient.EndpointClose, signedReq(payclient.Object{"out_trade_no": "R-000009"}, tKey))
	sim.InjectFault(payclient.EndpointQuery, Fault{Kind: FaultHTTP5xx})
	post(t, url+payclient.EndpointQuery, mustEncode(signedReq(payclient.Object{"out_trade_no": "R-000001"}, tKey)))
	rep, err := FetchLedger(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normal(rep.Entries), normal(sim.Ledger())) {
		t.Errorf("JSON ledger %+v\n!= %+v", rep.Entries, sim.Ledger())
	}
	if len(rep.Entries) != 2 || rep.Entries[1].State != payclient.TradeClosed || rep.Entries[1].AuthCode != "" {
		t.Errorf("entries %+v", rep.Entries)
	}
	if rep.FaultCounts[FaultHTTP5xx] != 1 {
		t.Errorf("fault counts %v", rep.FaultCounts)
	}
	data, _ := json.Marshal(rep.Entries[0])
	if !strings.Contains(string(data), `"state":"SUCCESS"`) || !strings.Contains(string(data), `"channel":"WECHAT"`) {
		t.Errorf("entry JSON %s", data)
	}
}

// normal drops the monotonic clock reading so that entries compare after a
// JSON round trip.
func normal(es []LedgerEntry) []LedgerEntry {
	out := append([]LedgerEntry(nil), es...)
	for i := range out {
		out[i].PaidAt = out[i].PaidAt.Round(0).UTC()
	}
	return out
}
