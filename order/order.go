// Package order owns the record of one payment attempt as the journal stores
// it and the payment flow moves it: its identity, amount, state and the
// bank's answer. It holds data and the typed enums only; it must never talk to
// the bank, the disk or the UI.
package order

import (
	"fmt"
	"strings"
	"time"

	"github.com/scanbox/scanbox/money"
)

// State is where an order stands. The zero value is invalid on purpose.
type State int

const (
	StateInvalid State = iota
	// StatePending: journaled; the micropay may or may not have left or arrived.
	StatePending
	// StateWaiting: the bank said the payer must confirm; we are polling.
	StateWaiting
	// StateClosing: we gave up waiting (deadline or Cancel) and are closing.
	StateClosing
	// StateUnknown: close could not get through; resolved in the background.
	StateUnknown
	// Terminal states below: the bank gave a definite answer.
	StatePaid
	StateFailed
	StateClosed
	StateRevoked
)

var stateNames = [...]string{"invalid", "pending", "waiting", "closing", "unknown", "paid", "failed", "closed", "revoked"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("state(%d)", int(s))
	}
	return stateNames[s]
}

// States lists every valid State, in order (not StateInvalid): for views
// and message catalogs that must cover them all.
func States() []State {
	out := make([]State, 0, len(stateNames)-1)
	for i := 1; i < len(stateNames); i++ {
		out = append(out, State(i))
	}
	return out
}

// ParseState is the one parser for State; it accepts exactly what String writes.
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if i > 0 && n == s {
			return State(i), nil
		}
	}
	return StateInvalid, fmt.Errorf("order: unknown state %q", s)
}

// Terminal reports whether the bank has given a definite answer.
func (s State) Terminal() bool { return s >= StatePaid }

func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	*s = v
	return err
}

// Channel is the wallet that paid, as the bank reports it (pay_channel), or
// as ScanBox guesses it from the code's shape before the bank answers.
type Channel int

const (
	ChannelNone Channel = iota
	ChannelWeChat
	ChannelAlipay
	ChannelUnionPay
	ChannelECNY
	ChannelOther
)

var channelNames = [...]string{"", "WECHAT", "ALIPAY", "UNIONPAY", "ECNY", "OTHER"}

func (c Channel) String() string {
	if c < 0 || int(c) >= len(channelNames) {
		return fmt.Sprintf("channel(%d)", int(c))
	}
	return channelNames[c]
}

// Channels lists every wallet a payment can come from (not ChannelNone).
func Channels() []Channel {
	out := make([]Channel, 0, len(channelNames)-1)
	for i := 1; i < len(channelNames); i++ {
		out = append(out, Channel(i))
	}
	return out
}

// ParseChannel accepts the bank's pay_channel names, case-insensitively
// (the bank writes them upper case; a lax server must not break us), and "".
func ParseChannel(s string) (Channel, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for i, n := range channelNames {
		if n == u {
			return Channel(i), nil
		}
	}
	return ChannelNone, fmt.Errorf("order: unknown pay channel %q", s)
}

func (c Channel) MarshalText() ([]byte, error) { return []byte(c.String()), nil }
func (c *Channel) UnmarshalText(b []byte) error {
	v, err := ParseChannel(string(b))
	*c = v
	return err
}

// Kind tells how the payer pays: we scanned their code, or they scan ours.
type Kind int

const (
	KindMicropay Kind = iota
	KindPrecreate
)

var kindNames = [...]string{"micropay", "precreate"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Kinds lists every Kind.
func Kinds() []Kind {
	out := make([]Kind, len(kindNames))
	for i := range kindNames {
		out[i] = Kind(i)
	}
	return out
}

// ParseKind is the one parser for Kind; it accepts exactly what String writes.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return KindMicropay, fmt.Errorf("order: unknown kind %q", s)
}

func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	*k = v
	return err
}

// Order is one payment attempt. Field names are the journal's JSON keys and
// are stable: old journals must stay readable.
type Order struct {
	OutTradeNo string    `json:"out_trade_no"`
	Kind       Kind      `json:"kind"`
	AmountFen  money.Fen `json:"amount_fen"`
	Body       string    `json:"body,omitempty"`
	// CodeMasked is the payment code as shown to people (first 4 + last 4).
	CodeMasked string `json:"code_masked,omitempty"`
	// CodeHash identifies the scanned code without storing it, so that a
	// rescan of the same code can be refused while its order is unresolved:
	// scan.Fingerprint, a MAC keyed with the installation's secret ("m1:…").
	// Orders journaled before issue 8 hold an unkeyed SHA-256 instead
	// (scan.IsLegacyHash); the journal drops it once the order is resolved.
	CodeHash string `json:"code_hash,omitempty"`
	// Guess is the wallet recognised from the code's shape; Channel is the
	// bank's answer once known.
	Guess   Channel `json:"guess,omitempty"`
	Channel Channel `json:"channel,omitempty"`
	State   State   `json:"state"`

	TransactionID string    `json:"transaction_id,omitempty"`
	TimeEnd       string    `json:"time_end,omitempty"`
	CodeURL       string    `json:"code_url,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// SentAt is when the first request carrying this order left (zero: never
	// sent); Deadline is when waiting for the payer stops and close begins.
	SentAt   time.Time `json:"sent_at,omitzero"`
	Deadline time.Time `json:"deadline,omitzero"`
	// Resends counts micropay re-sends under the same out_trade_no after a
	// communication failure (safe: the bank charges a number at most once).
	Resends int `json:"resends,omitempty"`
	// ErrCode is the bank's err_code (or our own reason) behind a failure;
	// Message is one sentence for the cashier.
	ErrCode string `json:"err_code,omitempty"`
	Message string `json:"message,omitempty"`
	// MchID and TerminalID say under which terminal the order was sent;
	// it can only be resolved under the same one.
	MchID      string `json:"mch_id,omitempty"`
	TerminalID string `json:"terminal_id,omitempty"`
	// Cancelled records that the cashier pressed Cancel.
	Cancelled bool `json:"cancelled,omitempty"`
}
