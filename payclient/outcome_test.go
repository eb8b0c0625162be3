package payclient

import (
	"errors"
	"fmt"
	"testing"

	"github.com/scanbox/scanbox/money"
)

func TestDecode(t *testing.T) {
	want := Expect{OutTradeNo: "SB1234567890", TotalFee: 1250}
	paid := func(no string, fee int64) *Payment {
		return &Payment{OutTradeNo: no, TradeState: TradeSuccess, TransactionID: "T1", TotalFee: money.Fen(fee)}
	}
	apiErr := func(rc, msg, code string) error {
		return fmt.Errorf("payclient: x: %w", &APIError{Endpoint: EndpointQuery, ReturnCode: rc, ReturnMsg: msg, ErrCode: code})
	}
	comm := fmt.Errorf("payclient: query: %w: reset", ErrCommunication)
	cases := []struct {
		name     string
		call     Call
		p        *Payment
		err      error
		outcome  Outcome
		code     string
		mismatch bool
		payment  bool
	}{
		{"micropay paid", CallMicropay, paid("SB1234567890", 1250), nil, OutcomePaid, "", false, true},
		{"micropay paid, number filled by nobody", CallMicropay, paid("", 1250), nil, OutcomePaid, "", false, true},
		{"micropay paid at another amount", CallMicropay, paid("SB1234567890", 125000), nil, OutcomeUnknown, CodeComm, true, false},
		{"query paid at another amount", CallQuery, paid("SB1234567890", 1), nil, OutcomeUnknown, CodeComm, true, false},
		{"query paid, another number", CallQuery, paid("SB9999999999", 1250), nil, OutcomeUnknown, CodeComm, true, false},
		{"query not paid, another number", CallQuery, &Payment{OutTradeNo: "SB9999999999", TradeState: TradeNotPay}, nil, OutcomeUnknown, CodeComm, true, false},
		{"query not paid, fee 0", CallQuery, &Payment{OutTradeNo: "SB1234567890", TradeState: TradeNotPay}, nil, OutcomePending, "", false, true},
		{"query payerror", CallQuery, &Payment{TradeState: TradePayError}, nil, OutcomeFailed, "PAYERROR", false, true},
		{"close revoked", CallClose, &Payment{TradeState: TradeRevoked, TotalFee: 99}, nil, OutcomeRevoked, "", false, true},
		{"close recall", CallClose, &Payment{TradeState: TradeNotPay, Recall: true}, nil, OutcomeUnknown, CodeRecall, false, true},
		{"no answer, no error", CallQuery, nil, nil, OutcomeUnknown, CodeComm, false, false},
		{"communication failure", CallQuery, nil, comm, OutcomeUnknown, CodeComm, false, false},
		{"invalid request", CallMicropay, nil, fmt.Errorf("x: %w: body", ErrInvalidRequest), OutcomeFailed, CodeInvalidRequest, false, false},
		{"return_code FAIL", CallQuery, nil, apiErr("FAIL", "TIMESTAMP_SKEW", ""), OutcomeUnknown, "TIMESTAMP_SKEW", false, false},
		{"err_code", CallMicropay, nil, apiErr("SUCCESS", "", "NOTENOUGH"), OutcomeFailed, "NOTENOUGH", false, false},
		{"ORDERPAID", CallMicropay, nil, apiErr("SUCCESS", "", "ORDERPAID"), OutcomePaid, "ORDERPAID", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Decode(c.call, want, c.p, c.err)
			if a.Outcome != c.outcome || a.Code != c.code || (a.Mismatch != "") != c.mismatch || (a.Payment != nil) != c.payment {
				t.Fatalf("Decode = %+v", a)
			}
			if c.mismatch && (!errors.Is(a.Err, ErrAnswerMismatch) || !errors.Is(a.Err, ErrCommunication)) {
				t.Errorf("a mismatch must be a communication failure: %v", a.Err)
			}
		})
	}
}
