package payclient

import (
	"fmt"
	"testing"
)

// TestClassifyErrCodes has one row per err_code of bank-api.md's micropay,
// query and close tables (and precreate's), asserting the Outcome the
// payment flow acts on. The golden rule under all of them: nothing that
// might have charged is ever "failed".
func TestClassifyErrCodes(t *testing.T) {
	cases := []struct {
		call Call
		code string
		want Outcome
	}{
		// micropay
		{CallMicropay, "USERPAYING", OutcomePending},
		// SYSTEMERROR/BANKERROR: outcome unknown, so "query, never failed";
		// Classify files them with USERPAYING (poll then close), which is
		// what step 3 of the procedure does for all three.
		{CallMicropay, "SYSTEMERROR", OutcomePending},
		{CallMicropay, "BANKERROR", OutcomePending},
		{CallMicropay, "ORDERPAID", OutcomePaid},
		{CallMicropay, "AUTHCODEEXPIRE", OutcomeFailed},
		{CallMicropay, "AUTH_CODE_INVALID", OutcomeFailed},
		{CallMicropay, "NOTENOUGH", OutcomeFailed},
		{CallMicropay, "NOTSUPORTCARD", OutcomeFailed},
		{CallMicropay, "PAYER_ACCOUNT_ABNORMAL", OutcomeFailed},
		{CallMicropay, "BUYER_MISMATCH", OutcomeFailed},
		{CallMicropay, "ORDERCLOSED", OutcomeFailed},
		{CallMicropay, "ORDERREVERSED", OutcomeFailed},
		{CallMicropay, "OUT_TRADE_NO_USED", OutcomeFailed},
		{CallMicropay, "PARAM_ERROR", OutcomeFailed},
		{CallMicropay, "AMOUNT_LIMIT", OutcomeFailed},
		{CallMicropay, "SOMETHING_NEW", OutcomeUnknown},
		// query
		{CallQuery, "ORDERNOTEXIST", OutcomePending},
		{CallQuery, "SYSTEMERROR", OutcomeUnknown},
		{CallQuery, "PARAM_ERROR", OutcomeUnknown},
		// close
		{CallClose, "SYSTEMERROR", OutcomeUnknown},
		{CallClose, "REVERSE_EXPIRE", OutcomeCheck},
		// precreate
		{CallPrecreate, "PARAM_ERROR", OutcomeFailed},
		{CallPrecreate, "AMOUNT_LIMIT", OutcomeFailed},
		{CallPrecreate, "OUT_TRADE_NO_USED", OutcomeFailed},
		{CallPrecreate, "SYSTEMERROR", OutcomeUnknown},
	}
	for _, tc := range cases {
		err := fmt.Errorf("payclient: x: %w", &APIError{Endpoint: "/x", ReturnCode: "SUCCESS", ErrCode: tc.code})
		if got := Classify(tc.call, nil, err); got != tc.want {
			t.Errorf("%v %s: %v, want %v", tc.call, tc.code, got, tc.want)
		}
	}
}

func TestClassifyTradeStates(t *testing.T) {
	cases := []struct {
		state TradeState
		want  Outcome
	}{
		{TradeSuccess, OutcomePaid},
		{TradeUserPaying, OutcomePending},
		{TradeNotPay, OutcomePending},
		{TradePayError, OutcomeFailed},
		{TradeClosed, OutcomeClosed},
		{TradeRevoked, OutcomeRevoked},
		{TradeStateNone, OutcomeUnknown},
	}
	for _, tc := range cases {
		if got := Classify(CallQuery, &Payment{TradeState: tc.state}, nil); got != tc.want {
			t.Errorf("query %v: %v, want %v", tc.state, got, tc.want)
		}
		// A finished close reports the same way; an unfinished one
		// (recall=Y) is unknown whatever state it shows.
		if tc.state == TradeClosed || tc.state == TradeRevoked {
			if got := Classify(CallClose, &Payment{TradeState: tc.state}, nil); got != tc.want {
				t.Errorf("close %v: %v, want %v", tc.state, got, tc.want)
			}
		}
		if got := Classify(CallClose, &Payment{TradeState: tc.state, Recall: true}, nil); got != OutcomeUnknown {
			t.Errorf("close %v recall=Y: %v, want unknown", tc.state, got)
		}
	}
	if got := Classify(CallMicropay, &Payment{TradeState: TradeSuccess}, nil); got != OutcomePaid {
		t.Errorf("micropay success: %v", got)
	}
	if got := Classify(CallPrecreate, &Payment{}, nil); got != OutcomePending {
		t.Errorf("precreate success: %v", got)
	}
	if got := Classify(CallQuery, nil, nil); got != OutcomeUnknown {
		t.Errorf("no answer: %v", got)
	}
}

func TestClassifyFailures(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want Outcome
	}{
		{"communication", fmt.Errorf("payclient: micropay x: %w", ErrCommunication), OutcomeUnknown},
		{"bad signature", fmt.Errorf("payclient: micropay x: %w", ErrBadSignature), OutcomeUnknown},
		{"garbled", fmt.Errorf("payclient: micropay x: %w", garbled("x")), OutcomeUnknown},
		{"return FAIL", &APIError{ReturnCode: "FAIL", ReturnMsg: "SIGNERROR"}, OutcomeUnknown},
		// Even a return FAIL whose return_msg looks like an err_code proves nothing.
		{"return FAIL NOTENOUGH", &APIError{ReturnCode: "FAIL", ReturnMsg: "NOTENOUGH", ErrCode: "NOTENOUGH"}, OutcomeUnknown},
		{"not sent", fmt.Errorf("payclient: micropay x: %w", ErrInvalidRequest), OutcomeFailed},
	}
	for _, tc := range cases {
		for _, call := range []Call{CallMicropay, CallQuery, CallClose, CallPrecreate} {
			if got := Classify(call, nil, tc.err); got != tc.want {
				t.Errorf("%s %v: %v, want %v", tc.name, call, got, tc.want)
			}
		}
	}
}

func TestTradeStateRoundTrip(t *testing.T) {
	for s := TradeSuccess; s <= TradeRevoked; s++ {
		back, err := ParseTradeState(s.String())
		if err != nil || back != s {
			t.Errorf("%v: %v %v", s, back, err)
		}
	}
	for _, bad := range []string{"", "success", "PAID"} {
		if _, err := ParseTradeState(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
