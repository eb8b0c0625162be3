package store

import (
	"fmt"
	"time"

	"github.com/scanbox/scanbox/money"
)

// RefundState is where a refund stands. The zero value is invalid on purpose.
type RefundState int

const (
	RefundInvalid RefundState = iota
	// RefundPending: stored; the refund request may or may not have left.
	RefundPending
	// RefundProcessing: the bank accepted it and is still working on it.
	RefundProcessing
	// RefundUnknown: the answer could not be had; resolved in the background.
	RefundUnknown
	// Terminal states below: the bank gave a definite answer.
	RefundRefunded
	RefundFailed
	// RefundChange: the bank could not pay it back (closed card, …); its
	// staff settle it by hand. Definite for ScanBox: never retried.
	RefundChange
)

var refundStateNames = [...]string{"invalid", "pending", "processing", "unknown", "refunded", "failed", "change"}

func (s RefundState) String() string {
	if s < 0 || int(s) >= len(refundStateNames) {
		return fmt.Sprintf("refund_state(%d)", int(s))
	}
	return refundStateNames[s]
}

// ParseRefundState is the one parser for RefundState; it accepts exactly
// what String writes.
func ParseRefundState(s string) (RefundState, error) {
	for i, n := range refundStateNames {
		if i > 0 && n == s {
			return RefundState(i), nil
		}
	}
	return RefundInvalid, fmt.Errorf("store: unknown refund state %q", s)
}

// Terminal reports whether the bank has given a definite answer.
func (s RefundState) Terminal() bool { return s >= RefundRefunded }

// MayRefund reports whether the money may have gone (or still go) back to
// the payer: every state but failed. The refundable remainder of an order
// subtracts every refund for which this is true.
func (s RefundState) MayRefund() bool { return s != RefundFailed && s != RefundInvalid }

func (s RefundState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (s *RefundState) UnmarshalText(b []byte) error {
	v, err := ParseRefundState(string(b))
	*s = v
	return err
}

// Refund is one refund of (part of) a paid order. Field names are the JSON
// keys stored in the database and are stable.
type Refund struct {
	OutRefundNo string      `json:"out_refund_no"`
	OutTradeNo  string      `json:"out_trade_no"`
	RefundFen   money.Fen   `json:"refund_fen"`
	State       RefundState `json:"state"`
	// RefundID is the bank's number for the refund, once known.
	RefundID  string    `json:"refund_id,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// SentAt is when the first request carrying this refund left (zero: never sent).
	SentAt time.Time `json:"sent_at,omitzero"`
	// ErrCode is the bank's err_code (or our own reason) behind a failure
	// or change; Message is one sentence for the cashier.
	ErrCode string `json:"err_code,omitempty"`
	Message string `json:"message,omitempty"`
	// MchID and TerminalID say under which terminal the refund was sent;
	// it can only be resolved under the same one.
	MchID      string `json:"mch_id,omitempty"`
	TerminalID string `json:"terminal_id,omitempty"`
}
