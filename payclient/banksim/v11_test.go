package banksim

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/payclient"
)

// TestDateHeader: every answer carries the bank's clock, including
// refusals, HTTP errors and admin answers; with the clock offset applied.
func TestDateHeader(t *testing.T) {
	fixed := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	sim, u := newSim(t, Options{Now: func() time.Time { return fixed }, ClockOffset: 2 * time.Hour})
	root := strings.TrimSuffix(u, DefaultBasePath)
	check := func(name string, resp *http.Response, want time.Time) {
		t.Helper()
		resp.Body.Close()
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil || !d.Equal(want) {
			t.Errorf("%s: Date %q, want %v", name, resp.Header.Get("Date"), want)
		}
	}
	for name, do := range map[string]func() (*http.Response, error){
		"api": func() (*http.Response, error) {
			return http.Post(u+payclient.EndpointQuery, "application/json", strings.NewReader("{}"))
		},
		"not found": func() (*http.Response, error) { return http.Get(root + "/nothing") },
		"ledger":    func() (*http.Response, error) { return http.Get(root + "/_sim/ledger") },
		"bad body": func() (*http.Response, error) {
			return http.Post(u+payclient.EndpointQuery, "application/json", strings.NewReader("["))
		},
	} {
		resp, err := do()
		if err != nil {
			t.Fatal(err)
		}
		check(name, resp, fixed.Add(2*time.Hour))
	}
	sim.SetClockOffset(-3 * time.Hour)
	resp, err := http.Get(root + "/_sim/ledger")
	if err != nil {
		t.Fatal(err)
	}
	check("after SetClockOffset", resp, fixed.Add(-3*time.Hour))
	if !sim.Now().Equal(fixed.Add(-3 * time.Hour)) {
		t.Errorf("Now %v", sim.Now())
	}
}

// TestSkewServerTime: the refusal is signed and carries server_time; the
// request had no effect.
func TestSkewServerTime(t *testing.T) {
	fixed := time.Now().Add(3 * time.Hour).Truncate(time.Second)
	sim, u := newSim(t, Options{Now: func() time.Time { return fixed }})
	o := postObj(t, u+payclient.EndpointMicropay, signedReq(goodMicropay, tKey)) // stamped with time.Now()
	got, signed := outcome(o)
	st, ok := o.Int("server_time")
	if got != "FAIL:TIMESTAMP_SKEW" || !signed || !ok || st != fixed.Unix() {
		t.Fatalf("skew answer %v (signed %v)", o, signed)
	}
	if len(sim.Ledger()) != 0 {
		t.Error("a refused request left an order")
	}
	// Corrected, it goes through.
	req := with(goodMicropay, "timestamp", st)
	if got, _ := outcome(postObj(t, u+payclient.EndpointMicropay, signedReq(req, tKey))); got != "SUCCESS" {
		t.Errorf("corrected: %s", got)
	}
}

// TestActivationV11: device_id is required and bound; the answer carries
// terminal_sn and area_code.
func TestActivationV11(t *testing.T) {
	sim, u := newSim(t, Options{TerminalKeys: map[string]string{}, AreaCode: "440305"})
	act := func(dev any) payclient.Object {
		o := payclient.Object{"mch_id": DefaultMchID, "terminal_id": DefaultTerminalID, "nonce_str": payclient.NewNonce(),
			"timestamp": time.Now().Unix(), "sign_type": "HMAC-SHA256", "activation_code": DefaultActivationCode}
		if dev != nil {
			o["device_id"] = dev
		}
		o["sign"], _ = payclient.Sign(o, []byte(DefaultActivationCode), payclient.SignHMACSHA256)
		return postObj(t, u+payclient.EndpointActivate, o)
	}
	for _, bad := range []any{nil, "", "PC-1", strings.ToUpper(tDevice)} {
		if code, _ := act(bad).Str("err_code"); code != "PARAM_ERROR" {
			t.Errorf("device_id %v: %s", bad, code)
		}
	}
	if sim.BoundDevice(DefaultTerminalID) != "" {
		t.Fatal("bound by a refused activation")
	}
	o := act(tDevice)
	if sn, _ := o.Str("terminal_sn"); sn != TerminalSN(DefaultMchID, DefaultTerminalID) || len(sn) < 8 || len(sn) > 32 || strings.Trim(sn, alnum) != "" {
		t.Errorf("terminal_sn %q", sn)
	}
	if ac, _ := o.Str("area_code"); ac != "440305" {
		t.Errorf("area_code %q", ac)
	}
	if sim.BoundDevice(DefaultTerminalID) != tDevice {
		t.Error("not bound")
	}
	if TerminalSN(DefaultMchID, "T0001") == TerminalSN(DefaultMchID, "T0002") || TerminalSN("1", "T0001") == TerminalSN("2", "T0001") {
		t.Error("terminal_sn collides")
	}
}

// TestRefundFieldRules: PARAM_ERROR for malformed refund requests.
func TestRefundFieldRules(t *testing.T) {
	_, u := newSim(t, Options{})
	postObj(t, u+payclient.EndpointMicropay, signedReq(goodMicropay, tKey))
	ok := terminalInfo(payclient.Object{"out_trade_no": "R-000001", "out_refund_no": "RF-000001", "total_fee": int64(100), "refund_fee": int64(10)})
	for name, tc := range map[string]struct {
		k string
		v any
	}{
		"short out_refund_no": {"out_refund_no", "RF-01"}, "out_refund_no charset": {"out_refund_no", "RF.000001"},
		"no out_refund_no": {"out_refund_no", nil}, "refund_fee 0": {"refund_fee", int64(0)}, "refund_fee text": {"refund_fee", "10"},
		"total_fee text": {"total_fee", "100"}, "desc 81 bytes": {"refund_desc", strings.Repeat("d", 81)},
		"no device_sn": {"device_sn", nil},
	} {
		if got, _ := outcome(postObj(t, u+payclient.EndpointRefund, signedReq(with(ok, tc.k, tc.v), tKey))); got != "PARAM_ERROR" {
			t.Errorf("%s: %s", name, got)
		}
	}
	if got, _ := outcome(postObj(t, u+payclient.EndpointRefund, signedReq(with(ok, "refund_desc", strings.Repeat("字", 26)), tKey))); got != "SUCCESS" {
		t.Errorf("78-byte reason: %s", got)
	}
	for name, q := range map[string]payclient.Object{"refundquery": {"out_refund_no": "x"}, "bill": {"bill_date": "2026-11-26"}} {
		ep := payclient.EndpointRefundQuery
		if name == "bill" {
			ep = payclient.EndpointBill
		}
		if got, _ := outcome(postObj(t, u+ep, signedReq(q, tKey))); got != "PARAM_ERROR" {
			t.Errorf("%s: %s", name, got)
		}
	}
}

// TestAdminHTTP: the loopback admin actions and their refusals.
func TestAdminHTTP(t *testing.T) {
	sim, u := newSim(t, Options{})
	ctx := context.Background()
	postObj(t, u+payclient.EndpointMicropay, signedReq(goodMicropay, tKey))
	for _, tc := range []struct {
		action string
		params url.Values
		ok     bool
	}{
		{"revoke", url.Values{"terminal_id": {"T0001"}, "out_trade_no": {"R-000001"}}, true},
		{"revoke", url.Values{"terminal_id": {"T0001"}, "out_trade_no": {"R-000001"}}, false}, // no longer paid
		{"revoke", url.Values{"terminal_id": {"T0001"}, "out_trade_no": {"R-999999"}}, false},
		{"bankpay", url.Values{"terminal_id": {"T0001"}, "out_trade_no": {"B-000001"}, "total_fee": {"500"}, "time": {"20261125120000"}}, true},
		{"bankpay", url.Values{"terminal_id": {"T0001"}, "out_trade_no": {"B-000001"}, "total_fee": {"500"}}, false}, // exists
		{"bankpay", url.Values{"terminal_id": {"T0001"}, "out_trade_no": {"B-000002"}, "total_fee": {"0"}}, false},
		{"bankpay", url.Values{"terminal_id": {"T0001"}, "out_trade_no": {"B-000003"}, "total_fee": {"5"}, "pay_channel": {"MEITUAN"}}, false},
		{"refund-balance", url.Values{"fen": {"x"}}, false},
		{"refund-behaviour", url.Values{"out_refund_no": {"RF-000001"}, "behaviour": {"processing_change"}}, true},
		{"refund-behaviour", url.Values{"out_refund_no": {"RF-000001"}, "behaviour": {"lost"}}, false},
		{"clock-offset", url.Values{"offset": {"-90m"}}, true},
		{"clock-offset", url.Values{"offset": {"soon"}}, false},
		{"disable", url.Values{"terminal_id": {"T0001"}}, true},
		{"enable", url.Values{"terminal_id": {"T0001"}}, true},
		{"meteor", nil, false},
	} {
		if err := Admin(ctx, u, tc.action, tc.params); (err == nil) != tc.ok {
			t.Errorf("%s %v: %v", tc.action, tc.params, err)
		}
	}
	l := sim.Ledger()
	if len(l) != 2 || l[0].State != payclient.TradeRevoked || l[1].State != payclient.TradeSuccess || l[1].TotalFee != 500 ||
		l[1].PaidAt.In(chinaTime).Format("20060102150405") != "20261125120000" || l[1].AuthCode != "" {
		t.Errorf("ledger %+v", l)
	}
	if d := time.Until(sim.Now()); d > -89*time.Minute || d < -91*time.Minute {
		t.Errorf("clock offset not applied: %v", d)
	}
	resp, err := http.Get(strings.TrimSuffix(u, DefaultBasePath) + "/_sim/disable?terminal_id=T0001")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET disable: %d", resp.StatusCode)
	}
	if err := Admin(ctx, "http://192.168.1.1/device/v1", "disable", nil); err == nil {
		t.Error("admin to a non-loopback host")
	}
}

func TestRefundBehaviourEnum(t *testing.T) {
	for b := RefundByNumber; b <= RefundProcessingThenChange; b++ {
		got, err := ParseRefundBehaviour(b.String())
		if err != nil || got != b {
			t.Errorf("%v: %v %v", b, got, err)
		}
		txt, _ := b.MarshalText()
		var u RefundBehaviour
		if u.UnmarshalText(txt) != nil || u != b {
			t.Errorf("text %s", txt)
		}
	}
	if _, err := ParseRefundBehaviour("slow"); err == nil {
		t.Error("unknown behaviour parsed")
	}
	for no, want := range map[string]RefundBehaviour{"R-000000": RefundAtOnce, "R-000004": RefundProcessingThenSuccess,
		"R-000006": RefundProcessingThenSuccess, "R-000007": RefundProcessingThenFailed, "R-000008": RefundProcessingThenChange,
		"R-000009": RefundAtOnce, "R-00000x": RefundAtOnce} {
		if got := refundBehaviourFromNumber(no); got != want {
			t.Errorf("%s: %v, want %v", no, got, want)
		}
	}
}
