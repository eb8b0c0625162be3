package payclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/scanbox/scanbox/money"
)

// RefundState is the bank's refund_state.
type RefundState int

const (
	RefundStateNone RefundState = iota
	// RefundProcessing: accepted, money on its way back; follow with
	// RefundQuery.
	RefundProcessing
	// RefundSuccess: the payer has the money back.
	RefundSuccess
	// RefundFailed: the refund did not happen; nothing left the merchant.
	RefundFailed
	// RefundChange: the payer's account could not take the money; the
	// bank's staff settle it by hand. Show it, never retry it.
	RefundChange
)

var refundStateNames = [...]string{"", "PROCESSING", "SUCCESS", "FAILED", "CHANGE"}

func (s RefundState) String() string {
	if s < 0 || int(s) >= len(refundStateNames) {
		return fmt.Sprintf("RefundState(%d)", int(s))
	}
	return refundStateNames[s]
}

// ParseRefundState is the one parser for refund_state (exact, as the API
// writes it).
func ParseRefundState(s string) (RefundState, error) {
	for i, n := range refundStateNames {
		if i > 0 && n == s {
			return RefundState(i), nil
		}
	}
	return RefundStateNone, fmt.Errorf("payclient: unknown refund_state %q", s)
}

func (s RefundState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (s *RefundState) UnmarshalText(b []byte) error {
	v, err := ParseRefundState(string(b))
	*s = v
	return err
}

// RefundRequest is the business part of /pay/refund. Re-sending the same
// request (same fields) is safe: the bank executes an out_refund_no once.
type RefundRequest struct {
	OutTradeNo, OutRefundNo string
	TotalFee, RefundFee     money.Fen // the order's amount; this refund's amount
	// Desc is refund_desc (optional); cut to 80 bytes at a UTF-8 boundary,
	// the same way every time, so that a re-send carries the same fields.
	Desc string
}

// MaxRefundDesc is refund_desc's limit in bytes.
const MaxRefundDesc = 80

// Refund is what the bank reports about a refund.
type Refund struct {
	OutTradeNo, OutRefundNo, RefundID string
	RefundFee                         money.Fen
	State                             RefundState
	// Time is refund_time (China time) when the bank sent it: on a
	// RefundQuery answer once the state is RefundSuccess.
	Time time.Time
}

// Matches checks a bank's refund answer against the request it belongs
// to (the journal's record): same out_refund_no, order and amount.
// Anything else is a communication failure (ErrCommunication), never a
// result: a signed answer about another refund must not settle this one.
func (r RefundRequest) Matches(got *Refund) error {
	switch {
	case got == nil:
		return garbled("no refund in the answer")
	case got.OutRefundNo != r.OutRefundNo:
		return garbled("out_refund_no %s answers a request for %s", got.OutRefundNo, r.OutRefundNo)
	case got.OutTradeNo != r.OutTradeNo:
		return garbled("refund %s belongs to order %s, not %s", r.OutRefundNo, got.OutTradeNo, r.OutTradeNo)
	case got.RefundFee != r.RefundFee:
		return garbled("refund_fee %d differs from the request's %d", got.RefundFee, r.RefundFee)
	}
	return nil
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Refund asks the bank to give money back for a paid order. On success the
// Refund matches r (number, order, amount) and its State is what the bank
// reports (PROCESSING or SUCCESS for a new refund; a re-sent one may be
// FAILED or CHANGE). Use ClassifyRefund.
func (c *Client) Refund(ctx context.Context, r RefundRequest) (*Refund, error) {
	rf, err := c.refund(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("payclient: refund %s: %w", r.OutRefundNo, err)
	}
	return rf, nil
}

func (c *Client) refund(ctx context.Context, r RefundRequest) (rf *Refund, err error) {
	start := time.Now()
	defer func() {
		attrs := []slog.Attr{slog.String("out_refund_no", r.OutRefundNo), slog.Int64("refund_fen", int64(r.RefundFee))}
		if rf != nil {
			attrs = append(attrs, slog.String("refund_state", rf.State.String()))
		}
		c.t.logCall(ctx, EndpointRefund, r.OutTradeNo, start, err, attrs...)
	}()
	if err := checkNo("out_trade_no", r.OutTradeNo); err != nil {
		return nil, err
	}
	if err := checkNo("out_refund_no", r.OutRefundNo); err != nil {
		return nil, err
	}
	if r.TotalFee < 1 || r.TotalFee > money.Max {
		return nil, fmt.Errorf("%w: total_fee must be 1 to %d fen", ErrInvalidRequest, int64(money.Max))
	}
	if r.RefundFee < 1 || r.RefundFee > r.TotalFee {
		return nil, fmt.Errorf("%w: refund_fee must be 1 to the order's total_fee", ErrInvalidRequest)
	}
	if !utf8.ValidString(r.Desc) {
		return nil, fmt.Errorf("%w: refund_desc is not valid UTF-8", ErrInvalidRequest)
	}
	req, err := c.withTerminalInfo()
	if err != nil {
		return nil, err
	}
	req["out_trade_no"] = r.OutTradeNo
	req["out_refund_no"] = r.OutRefundNo
	req["total_fee"] = int64(r.TotalFee)
	req["refund_fee"] = int64(r.RefundFee)
	if d := cutUTF8(r.Desc, MaxRefundDesc); d != "" {
		req["refund_desc"] = d
	}
	obj, err := c.t.call(ctx, EndpointRefund, req, c.key)
	if err != nil {
		return nil, err
	}
	rf, err = parseRefund(obj, r.OutRefundNo, false)
	if err != nil {
		return nil, err
	}
	if rf.OutTradeNo == "" {
		rf.OutTradeNo = r.OutTradeNo // /pay/refund need not repeat it
	}
	if err := r.Matches(rf); err != nil {
		return nil, err
	}
	return rf, nil
}

// RefundQuery asks for the current state of a refund. The answer's order
// and amount are the bank's: check them against the journal with
// RefundRequest.Matches. REFUNDNOTEXIST matches ErrRefundNotExist.
func (c *Client) RefundQuery(ctx context.Context, outRefundNo string) (*Refund, error) {
	rf, err := c.refundQuery(ctx, outRefundNo)
	if err != nil {
		return nil, fmt.Errorf("payclient: refundquery %s: %w", outRefundNo, err)
	}
	return rf, nil
}

func (c *Client) refundQuery(ctx context.Context, no string) (rf *Refund, err error) {
	start := time.Now()
	defer func() {
		attrs := []slog.Attr{slog.String("out_refund_no", no)}
		trade := ""
		if rf != nil {
			trade = rf.OutTradeNo
			attrs = append(attrs, slog.String("refund_state", rf.State.String()))
		}
		c.t.logCall(ctx, EndpointRefundQuery, trade, start, err, attrs...)
	}()
	if err := checkNo("out_refund_no", no); err != nil {
		return nil, err
	}
	req := c.withDevice()
	req["out_refund_no"] = no
	obj, err := c.t.call(ctx, EndpointRefundQuery, req, c.key)
	if err != nil {
		return nil, err
	}
	return parseRefund(obj, no, true)
}

// parseRefund reads a SUCCESS refund answer. query: a refundquery answer,
// which must name the order and, once SUCCESS, carry refund_time.
func parseRefund(obj Object, no string, query bool) (*Refund, error) {
	rf := &Refund{OutRefundNo: no}
	if got, _ := obj.Str("out_refund_no"); got != "" && got != no {
		return nil, garbled("out_refund_no %s answers a request for %s", got, no)
	}
	rf.OutTradeNo, _ = obj.Str("out_trade_no")
	if query && rf.OutTradeNo == "" {
		return nil, garbled("out_trade_no missing")
	}
	if rf.OutTradeNo != "" && checkNo("out_trade_no", rf.OutTradeNo) != nil {
		return nil, garbled("out_trade_no %q malformed", rf.OutTradeNo)
	}
	rf.RefundID, _ = obj.Str("refund_id")
	if rf.RefundID == "" {
		return nil, garbled("refund_id missing")
	}
	fee, ok := obj.Int("refund_fee")
	if !ok || fee < 1 || fee > int64(money.Max) {
		return nil, garbled("refund_fee %v missing or out of range", obj["refund_fee"])
	}
	rf.RefundFee = money.Fen(fee)
	st, _ := obj.Str("refund_state")
	state, err := ParseRefundState(st)
	if err != nil {
		return nil, garbled("refund_state %q unknown", st)
	}
	rf.State = state
	if ts, _ := obj.Str("refund_time"); ts != "" {
		t, err := time.ParseInLocation("20060102150405", ts, ChinaTime)
		if err != nil {
			return nil, garbled("refund_time %q is not yyyyMMddHHmmss", ts)
		}
		rf.Time = t
	} else if query && state == RefundSuccess {
		return nil, garbled("refund_time missing on a SUCCESS refund")
	}
	return rf, nil
}

// ChinaTime is the zone of the API's yyyyMMddHHmmss fields and bill dates.
var ChinaTime = time.FixedZone("CST", 8*3600)

// checkNo applies the 6–32 of [0-9A-Za-z_-] rule of out_trade_no and
// out_refund_no.
func checkNo(name, no string) error {
	if len(no) < 6 || len(no) > 32 {
		return fmt.Errorf("%w: %s must be 6–32 characters", ErrInvalidRequest, name)
	}
	for i := 0; i < len(no); i++ {
		c := no[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %s may hold only 0-9 A-Z a-z _ -", ErrInvalidRequest, name)
		}
	}
	return nil
}

// RefundOutcome is the one classification of a refund answer that the
// refund flow acts on.
type RefundOutcome int

const (
	// RefundOutcomeUnknown: no definite answer (communication failure,
	// SYSTEMERROR/BANKERROR, an unsigned return_code=FAIL, REFUNDNOTEXIST,
	// a code we do not know). Never taken as failed: re-send the same
	// refund (safe), then query.
	RefundOutcomeUnknown RefundOutcome = iota
	// RefundOutcomeProcessing: accepted; follow with RefundQuery.
	RefundOutcomeProcessing
	RefundOutcomeRefunded
	// RefundOutcomeFailed: the refund did not and will not happen under
	// this number; nothing left the merchant.
	RefundOutcomeFailed
	// RefundOutcomeChange: the money left the merchant but did not reach
	// the payer; the bank's staff settle it. Final for the client: never
	// retried, counted against the order's refundable remainder.
	RefundOutcomeChange
)

var refundOutcomeNames = [...]string{"unknown", "processing", "refunded", "failed", "change"}

func (o RefundOutcome) String() string {
	if o < 0 || int(o) >= len(refundOutcomeNames) {
		return fmt.Sprintf("RefundOutcome(%d)", int(o))
	}
	return refundOutcomeNames[o]
}

// ParseRefundOutcome accepts exactly what String writes.
func ParseRefundOutcome(s string) (RefundOutcome, error) {
	for i, n := range refundOutcomeNames {
		if n == s {
			return RefundOutcome(i), nil
		}
	}
	return RefundOutcomeUnknown, fmt.Errorf("payclient: unknown refund outcome %q", s)
}

// ClassifyRefund maps a Refund or RefundQuery answer (call is CallRefund or
// CallRefundQuery) to what the refund flow does; r is the result when err
// is nil. See bank-api.md's /pay/refund err_code table.
func ClassifyRefund(call Call, r *Refund, err error) RefundOutcome {
	if err != nil {
		if errors.Is(err, ErrInvalidRequest) {
			return RefundOutcomeFailed // refused before sending: nothing left the machine
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.ReturnCode != "SUCCESS" {
			return RefundOutcomeUnknown
		}
		if call == CallRefund {
			switch ae.ErrCode {
			case "ORDERNOTEXIST", "TRADE_STATE_ERROR", "REFUND_FEE_INVALID", "REFUND_LIMIT",
				"REFUND_EXPIRE", "NOTENOUGH", "OUT_REFUND_NO_USED",
				"DEVICE_MISMATCH", "TERMINAL_DISABLED", "PARAM_ERROR":
				return RefundOutcomeFailed
			}
		}
		// SYSTEMERROR, BANKERROR, REFUNDNOTEXIST and anything unknown.
		return RefundOutcomeUnknown
	}
	if r == nil {
		return RefundOutcomeUnknown
	}
	switch r.State {
	case RefundProcessing:
		return RefundOutcomeProcessing
	case RefundSuccess:
		return RefundOutcomeRefunded
	case RefundFailed:
		return RefundOutcomeFailed
	case RefundChange:
		return RefundOutcomeChange
	}
	return RefundOutcomeUnknown
}
