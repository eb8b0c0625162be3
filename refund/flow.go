// Package refund owns the refund state machine of bank-api.md's
// "Recommended client procedure for a refund": journal → /pay/refund →
// refunded / failed / change, or processing / unknown → re-send the same
// out_refund_no (bounded) and /pay/refundquery → a definite state, followed
// in the background and after a restart. Step is a pure function of
// (refund, event); the Runner executes what Step asks for against a Store and
// a Bank and checks the manager PIN before anything is journaled or sent.
// refund must never know about HTTP, SQL, the UI or the PIN's storage; it
// must never send a refund that is not durable in the store, never create a
// second out_refund_no for an order while one of its refunds is unresolved,
// never refund more than what is left of an order, and never record a bank
// answer that is not about the refund it asked for.
package refund

import (
	"fmt"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/payclient"
)

// State is where a refund stands. The names are those of store.RefundState
// and of the CLI's JSON ("state"). The zero value is invalid on purpose.
type State int

const (
	StateInvalid State = iota
	// StatePending: journaled; the request may or may not have left.
	StatePending
	// StateProcessing: the bank accepted it and is still paying it back.
	StateProcessing
	// StateUnknown: no definite answer could be had; followed in the
	// background and after a restart.
	StateUnknown
	// Terminal states below: the bank gave a definite answer.
	StateRefunded
	StateFailed
	// StateChange: the payer's account could not take the money; the bank's
	// staff settle it by hand. Shown, never retried.
	StateChange
)

var stateNames = [...]string{"invalid", "pending", "processing", "unknown", "refunded", "failed", "change"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("refund_state(%d)", int(s))
	}
	return stateNames[s]
}

// ParseState is the one parser for State; it accepts exactly what String writes.
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if i > 0 && n == s {
			return State(i), nil
		}
	}
	return StateInvalid, fmt.Errorf("refund: unknown state %q", s)
}

func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	*s = v
	return err
}

// Terminal reports whether the bank has given a definite answer.
func (s State) Terminal() bool { return s >= StateRefunded }

// MayRefund reports whether the money may have gone (or may still go) back
// to the payer: every state but failed. The refundable remainder of an
// order subtracts every refund for which this is true.
func (s State) MayRefund() bool { return s != StateFailed && s != StateInvalid }

// Refund is one refund of (part of) a paid order, as the store keeps it.
type Refund struct {
	OutRefundNo string    `json:"out_refund_no"`
	OutTradeNo  string    `json:"out_trade_no"`
	RefundFen   money.Fen `json:"refund_fen"`
	// TotalFen is the order's amount (the request's total_fee). Not kept
	// by every store: the runner fills it from the order when it is zero.
	TotalFen money.Fen `json:"total_fen,omitempty"`
	State    State     `json:"state"`
	RefundID string    `json:"refund_id,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	// CreatedAt, UpdatedAt, SentAt and Deadline are in bank time (this PC's
	// clock plus the measured offset), like the payment journal's.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// SentAt: when the first request left (zero: never sent).
	SentAt time.Time `json:"sent_at,omitzero"`
	// Deadline ends the close follow of a drive (FollowFor after it
	// started); after it, the background resolver takes over.
	Deadline time.Time `json:"deadline,omitzero"`
	// Sends counts /pay/refund requests of the current drive (bounded by
	// MaxSends; every one carries the same out_refund_no and fields).
	Sends int `json:"sends,omitempty"`
	// ErrCode is the bank's err_code (or COMM) behind the state; Message
	// is one sentence for the cashier.
	ErrCode    string `json:"err_code,omitempty"`
	Message    string `json:"message,omitempty"`
	MchID      string `json:"mch_id,omitempty"`
	TerminalID string `json:"terminal_id,omitempty"`
}

// Request is the refund as the bank must see it on every (re-)send.
func (r Refund) Request() payclient.RefundRequest {
	return payclient.RefundRequest{OutTradeNo: r.OutTradeNo, OutRefundNo: r.OutRefundNo,
		TotalFee: r.TotalFen, RefundFee: r.RefundFen, Desc: r.Reason}
}

// Config paces the flow. The zero value means the defaults.
type Config struct {
	// PollInterval is the time between refundqueries (and before a
	// re-send) while a refund is processing or unknown.
	PollInterval time.Duration
	// FollowFor is how long one drive follows a refund before leaving it
	// to the background (bank-api: "about a minute").
	FollowFor time.Duration
	// ResolveEvery paces the background resolver.
	ResolveEvery time.Duration
	// MchID and TerminalID are stamped on new refunds; a refund of another
	// terminal is never sent or queried under this one.
	MchID, TerminalID string
}

// Defaults of Config and the re-send bound.
const (
	DefaultPollInterval = 3 * time.Second
	DefaultFollowFor    = time.Minute
	DefaultResolveEvery = 20 * time.Second
	// MaxSends bounds /pay/refund requests per drive: the first and two
	// re-sends of the same out_refund_no after a communication failure,
	// SYSTEMERROR/BANKERROR or a REFUNDNOTEXIST query.
	MaxSends = 3
)

func (c Config) withDefaults() Config {
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.FollowFor <= 0 {
		c.FollowFor = DefaultFollowFor
	}
	if c.ResolveEvery <= 0 {
		c.ResolveEvery = DefaultResolveEvery
	}
	return c
}

// EventKind names what happened to a refund.
type EventKind int

const (
	// EvStart: the refund is new (pending, never sent).
	EvStart EventKind = iota
	// EvResume: an unresolved refund found in the store (after a restart or
	// by the background resolver) is to be driven to a definite state.
	EvResume
	// EvAnswer: a bank call returned: Call, Outcome, Answer, ErrCode.
	EvAnswer
	// EvTick: the wait asked for by EffWait is over.
	EvTick
)

var eventNames = [...]string{"start", "resume", "answer", "tick"}

func (k EventKind) String() string {
	if k < 0 || int(k) >= len(eventNames) {
		return fmt.Sprintf("EventKind(%d)", int(k))
	}
	return eventNames[k]
}

// CodeComm is Event.ErrCode for a communication failure, including an
// answer about another refund, order or amount.
const CodeComm = payclient.CodeComm

// CodeNotExist is refundquery's REFUNDNOTEXIST.
const CodeNotExist = "REFUNDNOTEXIST"

// Event is one input to Step.
type Event struct {
	Kind    EventKind
	Now     time.Time
	Call    payclient.Call // CallRefund or CallRefundQuery
	Outcome payclient.RefundOutcome
	// Answer is the bank's refund when the answer was a verified SUCCESS
	// about this refund; nil otherwise.
	Answer  *payclient.Refund
	ErrCode string
}

// EffectKind is what the runner must do next.
type EffectKind int

const (
	EffNone EffectKind = iota
	// EffRefund: send /pay/refund with the refund's unchanged fields.
	EffRefund
	// EffQuery: send /pay/refundquery.
	EffQuery
	// EffWait: wait until Effect.Until, then EvTick.
	EffWait
)

var effectNames = [...]string{"none", "refund", "query", "wait"}

func (k EffectKind) String() string {
	if k < 0 || int(k) >= len(effectNames) {
		return fmt.Sprintf("EffectKind(%d)", int(k))
	}
	return effectNames[k]
}

// Effect is the one next action. The runner stores the refund returned by
// Step BEFORE performing the effect whenever it changed: "journal before
// the bank call" holds for every call.
type Effect struct {
	Kind  EffectKind
	Until time.Time
}

// Step is the whole procedure. It is pure: same inputs, same outputs.
func Step(r Refund, ev Event, cfg Config) (Refund, Effect) {
	cfg = cfg.withDefaults()
	if r.State.Terminal() {
		return r, Effect{} // a definite answer is never revised (CHANGE is never retried)
	}
	now := ev.Now
	switch ev.Kind {
	case EvStart:
		if r.State != StatePending || !r.SentAt.IsZero() {
			return r, Effect{} // started once only: a restart resumes instead
		}
		r.SentAt, r.UpdatedAt = now, now
		r.Deadline = now.Add(cfg.FollowFor)
		r.Sends = 1
		return r, Effect{Kind: EffRefund}

	case EvResume:
		r.Deadline = now.Add(cfg.FollowFor)
		r.Sends = 0
		if r.State == StatePending {
			// It may never have left: send it (the same number is safe
			// whether or not the bank has it).
			if r.SentAt.IsZero() {
				r.SentAt = now
			}
			r.UpdatedAt = now
			r.Sends = 1
			return r, Effect{Kind: EffRefund}
		}
		return r, Effect{Kind: EffQuery}

	case EvTick:
		if !now.Before(r.Deadline) {
			return r, Effect{} // the background resolver follows it from here
		}
		return r, Effect{Kind: EffQuery}

	case EvAnswer:
		return answer(r, ev, cfg)
	}
	return r, Effect{}
}

func answer(r Refund, ev Event, cfg Config) (Refund, Effect) {
	now := ev.Now
	if ev.Answer != nil && ev.Answer.RefundID != "" {
		r.RefundID = ev.Answer.RefundID
	}
	switch ev.Outcome {
	case payclient.RefundOutcomeRefunded:
		return finish(r, StateRefunded, "", now), Effect{}
	case payclient.RefundOutcomeFailed:
		return finish(r, StateFailed, ev.ErrCode, now), Effect{}
	case payclient.RefundOutcomeChange:
		return finish(r, StateChange, "CHANGE", now), Effect{}
	case payclient.RefundOutcomeProcessing:
		r = moveTo(r, StateProcessing, now)
		r.ErrCode, r.Message = "", messageFor(StateProcessing, "")
		return r, wait(r, now, cfg)
	}
	// Unknown: no definite answer.
	code := ev.ErrCode
	if code == "" {
		code = CodeComm
	}
	if r.State != StateProcessing {
		// A processing refund stays processing: an unreadable answer says
		// nothing new about it, and it is known to be at the bank.
		r = moveTo(r, StateUnknown, now)
		r.ErrCode = code
		r.Message = messageFor(StateUnknown, code)
	}
	// After a communication failure or SYSTEMERROR/BANKERROR on /pay/refund
	// the same out_refund_no is sent again (safe: the bank executes a number
	// once); after REFUNDNOTEXIST on refundquery too, since the bank has not
	// seen the number (or not yet) and nothing may be concluded before it
	// has. Both are bounded per drive by MaxSends; then refundquery until
	// the deadline, then the background.
	if r.State != StateProcessing && r.Sends < MaxSends && now.Before(r.Deadline) &&
		(ev.Call == payclient.CallRefund || code == CodeNotExist) {
		r.Sends++
		return r, Effect{Kind: EffRefund}
	}
	return r, wait(r, now, cfg)
}

func wait(r Refund, now time.Time, cfg Config) Effect {
	if !now.Before(r.Deadline) {
		return Effect{}
	}
	next := now.Add(cfg.PollInterval)
	if next.After(r.Deadline) {
		next = r.Deadline
	}
	return Effect{Kind: EffWait, Until: next}
}

func moveTo(r Refund, s State, now time.Time) Refund {
	if r.State != s {
		r.State = s
		r.UpdatedAt = now
	}
	return r
}

func finish(r Refund, s State, code string, now time.Time) Refund {
	r = moveTo(r, s, now)
	r.ErrCode = code
	if s == StateRefunded {
		r.ErrCode = ""
	}
	r.Message = messageFor(s, r.ErrCode)
	return r
}
