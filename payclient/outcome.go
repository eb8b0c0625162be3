package payclient

import (
	"errors"
	"fmt"

	"github.com/scanbox/scanbox/money"
)

// Codes the decoder gives to answers that carry no code of the bank's own.
// They are recorded in the journal's err_code next to the bank's codes, so
// they are stable names, never sentences.
const (
	// CodeComm: a communication failure; nobody knows whether the request
	// took effect (also a signed answer about another order or amount).
	CodeComm = "COMM"
	// CodeInvalidRequest: refused here before sending (ErrInvalidRequest).
	CodeInvalidRequest = "INVALID_REQUEST"
	// CodeRecall: close still answered recall=Y at its last call.
	CodeRecall = "RECALL"
)

// ErrAnswerMismatch is a verified SUCCESS answer that names another
// out_trade_no, or reports the order paid at another total_fee. It is a
// communication failure (a bank bug, a proxy mixing answers, or a key in the
// wrong hands), never a result: the order is not recorded paid from it.
var ErrAnswerMismatch = fmt.Errorf("%w: the answer is about another order or amount", ErrCommunication)

// Expect is what an answer about one order must agree with: the order's
// number and its amount, as the journal holds them.
type Expect struct {
	OutTradeNo string
	TotalFee   money.Fen
}

// Answer is one bank answer (or error) decoded for the payment flow: what to
// do (Outcome), what the bank reported (Payment) and why (Code).
type Answer struct {
	Call    Call
	Outcome Outcome
	// Payment is the decoded result; nil after an error or a mismatch.
	Payment *Payment
	// Code explains an answer that is not a plain success: the bank's
	// err_code, its return_msg for return_code=FAIL, the trade_state of a
	// query or close that says "not paid", or one of the Code* constants.
	Code string
	// Mismatch says, when non-empty, why a SUCCESS answer was rejected by
	// Expect; the caller must log it loudly (it is safe to log: no secret).
	Mismatch string
	// Err is the error behind a non-success, for the log.
	Err error
}

// Decode is the one place that turns what a Bank method returned into an
// Answer: it checks every SUCCESS answer against the order (want), then
// classifies it with Classify and names the reason. want.OutTradeNo empty
// skips the number check; a Payment without OutTradeNo is accepted as ours
// (Client always fills it with the number it asked about, after checking
// the answer's own).
func Decode(call Call, want Expect, p *Payment, err error) Answer {
	a := Answer{Call: call, Err: err}
	if err == nil && p != nil {
		if why := mismatch(call, want, p); why != "" {
			a.Outcome = OutcomeUnknown
			a.Code = CodeComm
			a.Mismatch = why
			a.Err = fmt.Errorf("%w: %s", ErrAnswerMismatch, why)
			return a
		}
	}
	a.Outcome = Classify(call, p, err)
	if err != nil {
		var ae *APIError
		switch {
		case errors.Is(err, ErrInvalidRequest):
			a.Code = CodeInvalidRequest
		case errors.As(err, &ae) && ae.ReturnCode == "FAIL":
			a.Code = ae.ReturnMsg
		case errors.As(err, &ae):
			a.Code = ae.ErrCode
		default:
			a.Code = CodeComm
		}
		return a
	}
	a.Payment = p
	switch {
	case p == nil:
		a.Code = CodeComm // no error and no answer: nothing reliable
	case call == CallClose && p.Recall:
		a.Code = CodeRecall
	case a.Outcome == OutcomeFailed && p.TradeState != TradeStateNone:
		a.Code = p.TradeState.String()
	}
	return a
}

// mismatch returns why p cannot be an answer about want, or "".
func mismatch(call Call, want Expect, p *Payment) string {
	if want.OutTradeNo != "" && p.OutTradeNo != "" && p.OutTradeNo != want.OutTradeNo {
		return fmt.Sprintf("the %s answer is about order %s, not %s", call, p.OutTradeNo, want.OutTradeNo)
	}
	if Classify(call, p, nil) == OutcomePaid && p.TotalFee != want.TotalFee {
		return fmt.Sprintf("the %s answer reports order %s paid with total_fee %d, but the order is for %d fen",
			call, want.OutTradeNo, int64(p.TotalFee), int64(want.TotalFee))
	}
	return ""
}
