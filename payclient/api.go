// Package payclient speaks the Bank Device API, version 1.1 (docs/bank-api.md):
// it signs requests, verifies every response signature, follows the bank's
// clock (the offset measured from every answer's Date header, re-sending a
// TIMESTAMP_SKEW refusal with a corrected timestamp), sends the terminal
// information and device binding, and turns answers into typed results and
// errors: payments, refunds and the daily bill. It also hosts the embedded bank simulator
// (payclient/banksim). It must never know about the journal, the payment
// flow's states or the UI, and it must never log keys or signatures.
package payclient

import (
	"errors"
	"fmt"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// ErrCommunication marks every failure after which the client cannot know
// whether the request took effect: transport errors, timeouts, HTTP status
// other than 200, a body that is not the API's flat JSON, a missing or bad
// response signature on a SUCCESS answer. Check with errors.Is.
var ErrCommunication = errors.New("no reliable answer from the bank")

// ErrBadSignature is a response whose sign does not verify. It always also
// matches ErrCommunication: a forged answer is never a result.
var ErrBadSignature = fmt.Errorf("%w: response signature does not verify", ErrCommunication)

// ErrInsecureURL refuses plain http:// to anything but a loopback address.
var ErrInsecureURL = errors.New("the bank URL must use https (plain http is allowed only for 127.0.0.1/localhost)")

// APIError is a well-formed, authenticated (where the API requires it) answer
// that is not a success: return_code=FAIL, or result_code=FAIL with err_code.
type APIError struct {
	Endpoint   string // e.g. "/pay/micropay"
	ReturnCode string // "SUCCESS" or "FAIL"
	ReturnMsg  string // when ReturnCode is FAIL
	ErrCode    string // when result_code is FAIL
	ErrCodeDes string
}

func (e *APIError) Error() string {
	if e.ReturnCode == "FAIL" {
		return fmt.Sprintf("bank refused %s: %s", e.Endpoint, e.ReturnMsg)
	}
	if e.ErrCodeDes != "" {
		return fmt.Sprintf("bank answered %s with %s (%s)", e.Endpoint, e.ErrCode, e.ErrCodeDes)
	}
	return fmt.Sprintf("bank answered %s with %s", e.Endpoint, e.ErrCode)
}

// TradeState is the bank's trade_state.
type TradeState int

const (
	TradeStateNone TradeState = iota
	TradeSuccess
	TradeUserPaying
	TradeNotPay
	TradePayError
	TradeClosed
	TradeRevoked
)

var tradeStateNames = [...]string{"", "SUCCESS", "USERPAYING", "NOTPAY", "PAYERROR", "CLOSED", "REVOKED"}

func (s TradeState) String() string {
	if s < 0 || int(s) >= len(tradeStateNames) {
		return fmt.Sprintf("TradeState(%d)", int(s))
	}
	return tradeStateNames[s]
}

// ParseTradeState is the one parser for trade_state (exact, upper case as the API writes it).
func ParseTradeState(s string) (TradeState, error) {
	for i, n := range tradeStateNames {
		if i > 0 && n == s {
			return TradeState(i), nil
		}
	}
	return TradeStateNone, fmt.Errorf("payclient: unknown trade_state %q", s)
}

// Payment is what the bank reports about an order: from a micropay SUCCESS
// (TradeState is then TradeSuccess), a query, or a close.
type Payment struct {
	OutTradeNo    string
	TradeState    TradeState
	TransactionID string
	Channel       order.Channel
	TotalFee      money.Fen
	TimeEnd       string // yyyyMMddHHmmss, China time, as sent
	Recall        bool   // close only: "not finished, call again"
}

// MicropayRequest is the business part of /pay/micropay.
type MicropayRequest struct {
	OutTradeNo string
	AuthCode   string
	TotalFee   money.Fen
	Body       string
}

// PrecreateRequest is the business part of /pay/precreate.
type PrecreateRequest struct {
	OutTradeNo string
	TotalFee   money.Fen
	Body       string
}

// Precreated is a dynamic QR the payer scans.
type Precreated struct {
	CodeURL    string
	ExpireTime string
}

// MerchantInfo is the activation result; Key is the decrypted signing key and
// must be stored protected and never logged.
type MerchantInfo struct {
	MerchantName string
	StoreName    string
	StaticQR     string
	// Version 1.1: the terminal serial number the bank registered (sent
	// as device_sn on every payment and refund) and the shop's 6-digit
	// administrative area.
	TerminalSN string
	AreaCode   string
	Key        []byte `json:"-"`
}

// Outcome is the one classification of a bank answer (or error) that the
// payment flow acts on.
type Outcome int

const (
	// OutcomeUnknown: no definite answer (communication failure, a query's
	// or close's SYSTEMERROR, an unsigned return_code=FAIL, an err_code we
	// do not know). Never to be taken as failed.
	OutcomeUnknown Outcome = iota
	// OutcomePending: the bank has (or may yet get) the order and it is not
	// paid yet: USERPAYING, NOTPAY, ORDERNOTEXIST, and micropay's SYSTEMERROR
	// and BANKERROR (bank-api.md: "query"). Keep polling, then close.
	OutcomePending
	OutcomePaid
	// OutcomeFailed: definitely not paid and never will be under this number.
	OutcomeFailed
	OutcomeClosed
	OutcomeRevoked
	// OutcomeCheck: close answered REVERSE_EXPIRE: query and keep what it says.
	OutcomeCheck
)

var outcomeNames = [...]string{"unknown", "pending", "paid", "failed", "closed", "revoked", "check"}

func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return fmt.Sprintf("Outcome(%d)", int(o))
	}
	return outcomeNames[o]
}

// Call names the endpoint an answer came from, for Classify.
type Call int

const (
	CallMicropay Call = iota
	CallQuery
	CallClose
	CallPrecreate
	// CallRefund and CallRefundQuery are classified by ClassifyRefund.
	CallRefund
	CallRefundQuery
)

func (c Call) String() string {
	names := [...]string{"micropay", "query", "close", "precreate", "refund", "refundquery"}
	if c < 0 || int(c) >= len(names) {
		return fmt.Sprintf("Call(%d)", int(c))
	}
	return names[c]
}

// Classify is the one place that maps a bank answer to what the flow does.
// p is the decoded result when err is nil. See bank-api.md's err_code tables.
func Classify(call Call, p *Payment, err error) Outcome {
	if err != nil {
		if errors.Is(err, ErrInvalidRequest) {
			return OutcomeFailed // refused before sending: nothing left the machine
		}
		var ae *APIError
		if !errors.As(err, &ae) {
			return OutcomeUnknown // communication failure: never "failed"
		}
		if ae.ReturnCode == "FAIL" {
			// Not processed (bad signature, skew, replay, parameters) — but
			// such an answer may be unsigned, so it proves nothing about the
			// order: follow up with query/close like any unknown.
			return OutcomeUnknown
		}
		return classifyErrCode(call, ae.ErrCode)
	}
	if p == nil {
		return OutcomeUnknown
	}
	switch call {
	case CallMicropay:
		return OutcomePaid
	case CallPrecreate:
		return OutcomePending
	case CallClose:
		if p.Recall {
			return OutcomeUnknown
		}
	}
	switch p.TradeState {
	case TradeSuccess:
		return OutcomePaid
	case TradeUserPaying, TradeNotPay:
		return OutcomePending
	case TradePayError:
		return OutcomeFailed
	case TradeClosed:
		return OutcomeClosed
	case TradeRevoked:
		return OutcomeRevoked
	}
	return OutcomeUnknown
}

func classifyErrCode(call Call, code string) Outcome {
	switch call {
	case CallMicropay:
		switch code {
		case "USERPAYING", "SYSTEMERROR", "BANKERROR":
			return OutcomePending
		case "ORDERPAID":
			return OutcomePaid
		case "AUTHCODEEXPIRE", "AUTH_CODE_INVALID", "NOTENOUGH", "NOTSUPORTCARD",
			"PAYER_ACCOUNT_ABNORMAL", "BUYER_MISMATCH", "ORDERCLOSED", "ORDERREVERSED",
			"OUT_TRADE_NO_USED", "PARAM_ERROR", "AMOUNT_LIMIT",
			"DEVICE_MISMATCH", "TERMINAL_DISABLED": // refused before anything was charged
			return OutcomeFailed
		}
	case CallQuery:
		switch code {
		case "ORDERNOTEXIST":
			return OutcomePending // a delayed micropay may still arrive
		}
	case CallClose:
		switch code {
		case "REVERSE_EXPIRE":
			return OutcomeCheck
		}
	case CallPrecreate:
		switch code {
		case "PARAM_ERROR", "AMOUNT_LIMIT", "OUT_TRADE_NO_USED", "DEVICE_MISMATCH", "TERMINAL_DISABLED":
			return OutcomeFailed
		}
	}
	return OutcomeUnknown
}

// Bank is what the payment flow needs from the bank; *Client implements it,
// tests may fake it.
type Bank interface {
	Micropay(ctx Context, r MicropayRequest) (*Payment, error)
	Query(ctx Context, outTradeNo string) (*Payment, error)
	// Close calls /pay/close, repeating while recall=Y (at most 5 calls, a
	// second apart); the returned Payment has Recall set if it never finished.
	Close(ctx Context, outTradeNo string) (*Payment, error)
	Precreate(ctx Context, r PrecreateRequest) (*Precreated, error)
}

// RefundBank is what the refund flow needs from the bank; *Client
// implements it, tests may fake it. Every SUCCESS answer Refund returns
// has been checked against the request (out_refund_no, order, amount);
// a RefundQuery answer is checked against the journal with
// RefundRequest.Matches.
type RefundBank interface {
	Refund(ctx Context, r RefundRequest) (*Refund, error)
	RefundQuery(ctx Context, outRefundNo string) (*Refund, error)
}

// BillBank is what reconciliation needs from the bank.
type BillBank interface {
	DownloadBill(ctx Context, day Day) (*Bill, error)
}

// Timeouts and pacing; the zero value of Config uses these.
const (
	DefaultHTTPTimeout  = 10 * time.Second
	DefaultRecallWait   = time.Second
	DefaultCloseRecalls = 5
)
