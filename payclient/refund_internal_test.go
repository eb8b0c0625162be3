package payclient

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRefundStateRoundTrip(t *testing.T) {
	for s := RefundProcessing; s <= RefundChange; s++ {
		got, err := ParseRefundState(s.String())
		if err != nil || got != s {
			t.Errorf("%v: %v %v", s, got, err)
		}
		b, _ := s.MarshalText()
		var u RefundState
		if err := u.UnmarshalText(b); err != nil || u != s {
			t.Errorf("text %s: %v %v", b, u, err)
		}
	}
	for _, bad := range []string{"", "success", "REFUNDCLOSE", "PROCESSING "} {
		if _, err := ParseRefundState(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	for o := RefundOutcomeUnknown; o <= RefundOutcomeChange; o++ {
		if got, err := ParseRefundOutcome(o.String()); err != nil || got != o {
			t.Errorf("%v: %v %v", o, got, err)
		}
	}
	if CallRefund.String() != "refund" || CallRefundQuery.String() != "refundquery" || Call(99).String() != "Call(99)" {
		t.Error("Call names")
	}
}

// TestClassifyRefundTable is bank-api.md's /pay/refund err_code table.
func TestClassifyRefundTable(t *testing.T) {
	biz := func(code string) error { return &APIError{ReturnCode: "SUCCESS", ErrCode: code} }
	for code, want := range map[string]RefundOutcome{
		"SYSTEMERROR": RefundOutcomeUnknown, "BANKERROR": RefundOutcomeUnknown,
		"ORDERNOTEXIST": RefundOutcomeFailed, "TRADE_STATE_ERROR": RefundOutcomeFailed,
		"REFUND_FEE_INVALID": RefundOutcomeFailed, "REFUND_LIMIT": RefundOutcomeFailed,
		"REFUND_EXPIRE": RefundOutcomeFailed, "NOTENOUGH": RefundOutcomeFailed,
		"OUT_REFUND_NO_USED": RefundOutcomeFailed, "DEVICE_MISMATCH": RefundOutcomeFailed,
		"TERMINAL_DISABLED": RefundOutcomeFailed, "PARAM_ERROR": RefundOutcomeFailed,
		"SOMETHING_NEW": RefundOutcomeUnknown,
	} {
		if got := ClassifyRefund(CallRefund, nil, biz(code)); got != want {
			t.Errorf("refund %s: %v, want %v", code, got, want)
		}
	}
	for _, code := range []string{"REFUNDNOTEXIST", "SYSTEMERROR", "ORDERNOTEXIST"} {
		if got := ClassifyRefund(CallRefundQuery, nil, biz(code)); got != RefundOutcomeUnknown {
			t.Errorf("refundquery %s: %v, want unknown", code, got)
		}
	}
	for name, err := range map[string]error{
		"communication": ErrCommunication, "bad signature": ErrBadSignature,
		"return FAIL": &APIError{ReturnCode: "FAIL", ReturnMsg: "SIGNERROR"},
		"skew":        &APIError{ReturnCode: "FAIL", ReturnMsg: "TIMESTAMP_SKEW"},
		"garbled":     garbled("x"),
	} {
		if ClassifyRefund(CallRefund, nil, err) != RefundOutcomeUnknown {
			t.Errorf("%s classified definite", name)
		}
	}
	if ClassifyRefund(CallRefund, nil, ErrNoTerminalSN) != RefundOutcomeFailed {
		t.Error("refused locally is not failed")
	}
	for st, want := range map[RefundState]RefundOutcome{RefundProcessing: RefundOutcomeProcessing, RefundSuccess: RefundOutcomeRefunded,
		RefundFailed: RefundOutcomeFailed, RefundChange: RefundOutcomeChange, RefundStateNone: RefundOutcomeUnknown} {
		if got := ClassifyRefund(CallRefundQuery, &Refund{State: st}, nil); got != want {
			t.Errorf("state %v: %v", st, got)
		}
	}
	// Sentinels match only signed business answers.
	if !errors.Is(biz("DEVICE_MISMATCH"), ErrDeviceMismatch) || !errors.Is(biz("TERMINAL_DISABLED"), ErrTerminalDisabled) ||
		errors.Is(&APIError{ReturnCode: "FAIL", ErrCode: "DEVICE_MISMATCH"}, ErrDeviceMismatch) || errors.Is(biz("PARAM_ERROR"), ErrDeviceMismatch) {
		t.Error("sentinels")
	}
	if Classify(CallMicropay, nil, biz("DEVICE_MISMATCH")) != OutcomeFailed || Classify(CallQuery, nil, biz("DEVICE_MISMATCH")) != OutcomeUnknown ||
		Classify(CallPrecreate, nil, biz("TERMINAL_DISABLED")) != OutcomeFailed || Classify(CallClose, nil, biz("TERMINAL_DISABLED")) != OutcomeUnknown {
		t.Error("payment classification of the 1.1 codes")
	}
}

var rr = RefundRequest{OutTradeNo: "T0001-000001", OutRefundNo: "T0001-R00001", TotalFee: 1250, RefundFee: 250, Desc: "退货"}

func refundAnswer(fields map[string]any) map[string]any {
	out := map[string]any{"return_code": "SUCCESS", "result_code": "SUCCESS", "out_trade_no": rr.OutTradeNo,
		"out_refund_no": rr.OutRefundNo, "refund_id": "5000001", "refund_fee": int64(250), "refund_state": "SUCCESS",
		"refund_time": "20261126150405"}
	for k, v := range fields {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// TestRefundAnswerRules: every SUCCESS refund answer must be about the
// refund asked for (number, order, amount) and well-formed; otherwise it
// is a communication failure, never a result.
func TestRefundAnswerRules(t *testing.T) {
	var answer map[string]any
	c, hs, _ := newHandClient(t, func(path string, req map[string]any) (int, []byte) {
		return 200, signed(answer)
	})
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		fields map[string]any
		query  bool
		ok     bool
	}{
		{"ok", nil, false, true},
		{"ok without numbers", map[string]any{"out_trade_no": nil, "out_refund_no": nil}, false, true},
		{"other out_refund_no", map[string]any{"out_refund_no": "T0001-R00002"}, false, false},
		{"other order", map[string]any{"out_trade_no": "T0001-000002"}, false, false},
		{"other fee", map[string]any{"refund_fee": int64(251)}, false, false},
		{"fee as text", map[string]any{"refund_fee": "250"}, false, false},
		{"no refund_id", map[string]any{"refund_id": nil}, false, false},
		{"unknown state", map[string]any{"refund_state": "REFUNDCLOSE"}, false, false},
		{"bad time", map[string]any{"refund_time": "2026-11-26"}, false, false},
		{"query ok", nil, true, true},
		{"query without order", map[string]any{"out_trade_no": nil}, true, false},
		{"query other number", map[string]any{"out_refund_no": "T0001-R00002"}, true, false},
		{"query SUCCESS without time", map[string]any{"refund_time": nil}, true, false},
		{"query PROCESSING without time", map[string]any{"refund_time": nil, "refund_state": "PROCESSING"}, true, true},
	} {
		answer = refundAnswer(tc.fields)
		var rf *Refund
		var err error
		if tc.query {
			rf, err = c.RefundQuery(ctx, rr.OutRefundNo)
		} else {
			rf, err = c.Refund(ctx, rr)
		}
		if tc.ok != (err == nil) || (!tc.ok && (!errors.Is(err, ErrCommunication) || ClassifyRefund(CallRefund, rf, err) != RefundOutcomeUnknown)) {
			t.Errorf("%s: %+v %v", tc.name, rf, err)
		}
	}
	// Request form: terminal information, fields, the reason cut at a
	// character boundary to 80 bytes.
	long := rr
	long.Desc = strings.Repeat("退", 27) // 81 bytes
	answer = refundAnswer(nil)
	hs.reqs = nil
	if _, err := c.Refund(ctx, long); err != nil {
		t.Fatal(err)
	}
	req := hs.reqs[0]
	if d := req["refund_desc"].(string); len(d) != 78 || d != long.Desc[:78] {
		t.Errorf("refund_desc %q (%d bytes)", d, len(d))
	}
	for k, v := range map[string]any{"device_type": "11", "device_sn": handSN, "device_id": handDevice, "app_version": "1.1.0",
		"device_ip": "127.0.0.1", "out_trade_no": rr.OutTradeNo, "out_refund_no": rr.OutRefundNo} {
		if req[k] != v {
			t.Errorf("refund request %s = %v, want %v", k, req[k], v)
		}
	}
	hs.reqs = nil
	c.RefundQuery(ctx, rr.OutRefundNo)
	if req := hs.reqs[0]; req["device_id"] != handDevice || req["device_sn"] != nil || req["out_refund_no"] != rr.OutRefundNo {
		t.Errorf("refundquery request %v", req)
	}
	// Refused locally: nothing sent.
	hs.reqs = nil
	for _, bad := range []RefundRequest{
		{OutTradeNo: "T1", OutRefundNo: "T0001-R00001", TotalFee: 10, RefundFee: 1},
		{OutTradeNo: "T0001-000001", OutRefundNo: "R.1.2.3.4", TotalFee: 10, RefundFee: 1},
		{OutTradeNo: "T0001-000001", OutRefundNo: "T0001-R00001", TotalFee: 10, RefundFee: 11},
		{OutTradeNo: "T0001-000001", OutRefundNo: "T0001-R00001", TotalFee: 10, RefundFee: 0},
		{OutTradeNo: "T0001-000001", OutRefundNo: "T0001-R00001", TotalFee: 10, RefundFee: 1, Desc: "\xff"},
	} {
		if _, err := c.Refund(ctx, bad); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if len(hs.reqs) != 0 {
		t.Errorf("%d invalid refunds sent", len(hs.reqs))
	}
	// Matches.
	good := &Refund{OutTradeNo: rr.OutTradeNo, OutRefundNo: rr.OutRefundNo, RefundFee: 250}
	if rr.Matches(good) != nil {
		t.Error("Matches refused its own refund")
	}
	for _, bad := range []*Refund{nil, {OutTradeNo: "X-000001", OutRefundNo: rr.OutRefundNo, RefundFee: 250},
		{OutTradeNo: rr.OutTradeNo, OutRefundNo: "X-000001", RefundFee: 250}, {OutTradeNo: rr.OutTradeNo, OutRefundNo: rr.OutRefundNo, RefundFee: 1}} {
		if err := rr.Matches(bad); !errors.Is(err, ErrCommunication) {
			t.Errorf("Matches(%+v) = %v", bad, err)
		}
	}
}

// TestBillAnswerRules: a bill that breaks the contract is a communication
// failure; NO_BILL is an empty day.
func TestBillAnswerRules(t *testing.T) {
	var answer map[string]any
	c, _, _ := newHandClient(t, func(path string, req map[string]any) (int, []byte) {
		if path != EndpointBill || req["bill_date"] != "20261126" {
			t.Errorf("bill request %s %v", path, req)
		}
		return 200, signed(answer)
	})
	day := Day{2026, 11, 26}
	ok := BillHeader + "\n20261126100000,T0001-000001,4200001,WECHAT,1250,SUCCESS,,,,\n20261126100500,T0001-000001,,,,,T0001-R00001,5000001,250,PROCESSING\n"
	for _, tc := range []struct {
		name  string
		bill  string
		count int64
		ok    bool
		lines int
	}{
		{"ok", ok, 2, true, 2},
		{"no final newline", ok[:len(ok)-1], 2, true, 2},
		{"count differs", ok, 3, false, 0},
		{"no header", ok[len(BillHeader)+1:], 2, false, 0},
		{"other header", "time,no\n", 0, false, 0},
		{"unknown channel", BillHeader + "\n20261126100000,T0001-000001,4200001,MEITUAN,1250,SUCCESS,,,,\n", 1, false, 0},
		{"bad time", BillHeader + "\n2026-11-26,T0001-000001,,,1250,NOTPAY,,,,\n", 1, false, 0},
		{"short line", BillHeader + "\n20261126100000,T0001-000001,,,1250,NOTPAY,,,\n", 1, false, 0},
		{"refund without state", BillHeader + "\n20261126100500,T0001-000001,,,,,T0001-R00001,5000001,250,\n", 1, false, 0},
		{"refund columns on an order", BillHeader + "\n20261126100000,T0001-000001,,,1250,NOTPAY,,5000001,,\n", 1, false, 0},
		{"header only", BillHeader + "\n", 0, true, 0},
	} {
		answer = map[string]any{"return_code": "SUCCESS", "result_code": "SUCCESS", "bill": tc.bill, "bill_count": tc.count}
		b, err := c.DownloadBill(context.Background(), day)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrCommunication)) || (err == nil && len(b.Lines) != tc.lines) {
			t.Errorf("%s: %+v %v", tc.name, b, err)
		}
	}
	answer = map[string]any{"return_code": "SUCCESS", "result_code": "SUCCESS", "bill": ok, "bill_count": int64(2)}
	b, _ := c.DownloadBill(context.Background(), day)
	l0, l1 := b.Lines[0], b.Lines[1]
	if l0.IsRefund() || l0.TotalFee != 1250 || l0.TradeState != TradeSuccess || l0.TransactionID != "4200001" ||
		!l1.IsRefund() || l1.RefundFee != 250 || l1.RefundState != RefundProcessing || l1.OutTradeNo != "T0001-000001" || l1.TradeState != TradeStateNone ||
		l1.Time.Format("150405") != "100500" || l1.Time.Location() != ChinaTime {
		t.Errorf("lines %+v", b.Lines)
	}
	answer = map[string]any{"return_code": "SUCCESS", "result_code": "FAIL", "err_code": "NO_BILL"}
	if b, err := c.DownloadBill(context.Background(), day); err != nil || len(b.Lines) != 0 {
		t.Errorf("NO_BILL: %+v %v", b, err)
	}
	answer = map[string]any{"return_code": "SUCCESS", "result_code": "FAIL", "err_code": "SYSTEMERROR"}
	if _, err := c.DownloadBill(context.Background(), day); err == nil {
		t.Error("SYSTEMERROR taken as a bill")
	}
	for _, s := range []string{"20261126", "20240229"} {
		d, err := ParseDay(s)
		if err != nil || d.String() != s {
			t.Errorf("day %s: %v %v", s, d, err)
		}
	}
	for _, s := range []string{"2026-11-26", "20261131", "2026112", ""} {
		if _, err := ParseDay(s); err == nil {
			t.Errorf("day %q parsed", s)
		}
	}
}
