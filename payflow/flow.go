// Package payflow owns the order state machine of bank-api.md's "Recommended
// client procedure": micropay → paid / failed / waiting → poll → close →
// closed / revoked / unknown. Step is a pure function of (order, event); the
// Runner executes what Step asks for against a journal and a bank. payflow
// must never know about HTTP, fyne or the file system: it sees the bank only
// through payclient.Bank and the journal only through the Journal interface.
package payflow

import (
	"fmt"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

// Config paces the flow. The zero value means the defaults below.
type Config struct {
	// PollInterval is the time between queries while the payer confirms.
	PollInterval time.Duration
	// PollTimeout is how long after the micropay left we keep waiting before
	// closing (the wallets give up at about 45 s).
	PollTimeout time.Duration
	// PrecreateTimeout is how long a dynamic QR is followed before closing.
	PrecreateTimeout time.Duration
	// ResolveEvery paces the background resolver for orders left unknown.
	ResolveEvery time.Duration
	// Body is the description the payer sees; default "ScanBox".
	Body string
	// MchID and TerminalID are stamped on new orders; an unresolved order
	// of another terminal is never queried or closed under this one (the
	// bank would not know its number and would tombstone it as closed).
	MchID, TerminalID string
	// CodeKey is the installation's payment-code fingerprint key
	// (config.CodeKey): the journal keeps scan.Fingerprint(CodeKey, code),
	// from which no code can be recovered without the key. Empty: a random
	// key for this process only; an open order journaled by another
	// process is then matched on its masked code (first 4 + last 4), which
	// may refuse a different code with the same digits there (New logs a
	// warning). Give it config.CodeKey.
	CodeKey []byte
}

// Defaults of Config.
const (
	DefaultPollInterval     = 3 * time.Second
	DefaultPollTimeout      = 45 * time.Second
	DefaultPrecreateTimeout = 2 * time.Minute
	DefaultResolveEvery     = 15 * time.Second
	DefaultBody             = "ScanBox"
)

func (c Config) withDefaults() Config {
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = DefaultPollTimeout
	}
	if c.PrecreateTimeout <= 0 {
		c.PrecreateTimeout = DefaultPrecreateTimeout
	}
	if c.ResolveEvery <= 0 {
		c.ResolveEvery = DefaultResolveEvery
	}
	if c.Body == "" {
		c.Body = DefaultBody
	}
	return c
}

// EventKind names what happened to an order.
type EventKind int

const (
	// EvStart: the order is new (state pending, never sent).
	EvStart EventKind = iota
	// EvResume: an unresolved order found in the journal (after a restart,
	// or by the background resolver) is to be driven to a definite state.
	EvResume
	// EvAnswer: a bank call returned; Call, Outcome, Payment and Err say how.
	EvAnswer
	// EvTick: the wait asked for by EffWait is over.
	EvTick
	// EvCancel: the cashier pressed Cancel.
	EvCancel
)

var eventNames = [...]string{"start", "resume", "answer", "tick", "cancel"}

func (k EventKind) String() string {
	if k < 0 || int(k) >= len(eventNames) {
		return fmt.Sprintf("event(%d)", int(k))
	}
	return eventNames[k]
}

// CodeComm is Event.ErrCode for a communication failure (no reliable answer).
const CodeComm = payclient.CodeComm

// CodeNotReceived is the bank's ORDERNOTEXIST: kept on a pending order the
// bank has not seen yet, and on the order closed that way.
const CodeNotReceived = "ORDERNOTEXIST"

// Event is one input to Step.
type Event struct {
	Kind    EventKind
	Now     time.Time
	Call    payclient.Call
	Outcome payclient.Outcome
	Payment *payclient.Payment
	// ErrCode is the bank's err_code/return_msg, or "COMM" for a
	// communication failure; Err is the error text for the log.
	ErrCode string
	Err     string
	// CodeURL is set for a precreate answer.
	CodeURL string
}

// EffectKind is what the runner must do next.
type EffectKind int

const (
	EffNone EffectKind = iota
	EffMicropay
	EffPrecreate
	EffQuery
	EffClose
	EffWait
)

var effectNames = [...]string{"none", "micropay", "precreate", "query", "close", "wait"}

func (k EffectKind) String() string {
	if k < 0 || int(k) >= len(effectNames) {
		return fmt.Sprintf("effect(%d)", int(k))
	}
	return effectNames[k]
}

// Effect is the one next action. The runner persists the order returned by
// Step BEFORE it performs the effect whenever the order changed: that is how
// "journal before the bank call" holds for every call, not only the first.
type Effect struct {
	Kind  EffectKind
	Until time.Time // EffWait
}

// Step is the whole procedure. It is pure: same inputs, same outputs.
func Step(o order.Order, ev Event, cfg Config) (order.Order, Effect) {
	cfg = cfg.withDefaults()
	if o.State.Terminal() {
		// A definite answer is never revised. The one thing a paid order
		// still takes is the details of an ORDERPAID answer, asked for by
		// query for at most PollTimeout after it was recorded paid, and
		// then once per resolve round (EvResume) until they arrive.
		if NeedsDetails(o) {
			switch {
			case ev.Kind == EvAnswer && ev.Outcome == payclient.OutcomePaid && ev.Payment != nil:
				return record(o, ev.Payment), Effect{}
			case ev.Kind == EvTick || ev.Kind == EvResume:
				return o, Effect{Kind: EffQuery}
			case (ev.Kind == EvAnswer || ev.Kind == EvCancel) && ev.Now.Before(o.UpdatedAt.Add(cfg.PollTimeout)):
				// Cancel changes nothing here: the order is paid, and
				// without its details it disagrees with the bank's bill.
				return o, Effect{Kind: EffWait, Until: ev.Now.Add(cfg.PollInterval)}
			}
		}
		return o, Effect{}
	}
	now := ev.Now
	switch ev.Kind {
	case EvStart:
		if o.State != order.StatePending || !o.SentAt.IsZero() {
			return o, Effect{} // started once only: a restart resumes instead
		}
		o.SentAt = now
		o.UpdatedAt = now
		if o.Kind == order.KindPrecreate {
			o.Deadline = now.Add(cfg.PrecreateTimeout)
			return o, Effect{Kind: EffPrecreate}
		}
		o.Deadline = now.Add(cfg.PollTimeout)
		return o, Effect{Kind: EffMicropay}

	case EvResume:
		switch o.State {
		case order.StateClosing, order.StateUnknown:
			return o, Effect{Kind: EffClose}
		}
		// Pending (maybe never sent, maybe charged) or waiting: ask first.
		return o, Effect{Kind: EffQuery}

	case EvCancel:
		if o.State == order.StatePending || o.State == order.StateWaiting {
			o.Cancelled = true
			o = moveTo(o, order.StateClosing, now)
			return o, Effect{Kind: EffClose}
		}
		return o, Effect{}

	case EvTick:
		if o.State == order.StatePending || o.State == order.StateWaiting {
			if !now.Before(o.Deadline) {
				o = moveTo(o, order.StateClosing, now)
				return o, Effect{Kind: EffClose}
			}
			return o, Effect{Kind: EffQuery}
		}
		if o.State == order.StateClosing || o.State == order.StateUnknown {
			return o, Effect{Kind: EffClose}
		}
		return o, Effect{}

	case EvAnswer:
		return answer(o, ev, cfg)
	}
	return o, Effect{}
}

func answer(o order.Order, ev Event, cfg Config) (order.Order, Effect) {
	now := ev.Now
	if ev.Payment != nil {
		o = record(o, ev.Payment)
	}
	closing := o.State == order.StateClosing || o.State == order.StateUnknown
	switch ev.Outcome {
	case payclient.OutcomePaid:
		if ev.Payment == nil {
			// ORDERPAID: the bank says this number is paid. Record it at
			// once (a deadline or Cancel must never close — and so reverse —
			// a paid order) and ask once for the details.
			return finish(o, order.StatePaid, "", now), Effect{Kind: EffQuery}
		}
		return finish(o, order.StatePaid, "", now), Effect{}
	case payclient.OutcomeFailed:
		if ev.Call == payclient.CallMicropay && o.Resends > 0 {
			// A refusal of the re-send (TERMINAL_DISABLED, DEVICE_MISMATCH
			// are checked before the bank looks the number up) says nothing
			// about the first micropay, whose answer was lost and which may
			// have charged: ask about the order before calling it failed.
			o.ErrCode = ev.ErrCode
			return o, Effect{Kind: EffQuery}
		}
		return finish(o, order.StateFailed, ev.ErrCode, now), Effect{}
	case payclient.OutcomeClosed:
		code := ev.ErrCode
		if code == "" && !o.Cancelled && o.ErrCode == CodeNotReceived {
			// The bank, reachable again, never had this number: it closed
			// because the request was lost, not because the payer did not
			// confirm. Say so (the cashier may charge again: nothing was
			// taken and the number is now closed at the bank).
			code = CodeNotReceived
		}
		return finish(o, order.StateClosed, code, now), Effect{}
	case payclient.OutcomeRevoked:
		return finish(o, order.StateRevoked, ev.ErrCode, now), Effect{}
	case payclient.OutcomeCheck:
		// REVERSE_EXPIRE: too late to reverse; the query decides.
		o.ErrCode = ev.ErrCode
		return o, Effect{Kind: EffQuery}
	}

	// Pending or Unknown: no definite state yet.
	if ev.Call == payclient.CallClose || closing {
		// Close did not get through (or a check query was not definite):
		// leave the order unknown for the background resolver.
		o.ErrCode = ev.ErrCode
		o.Message = messageFor(order.StateUnknown, ev.ErrCode)
		return moveTo(o, order.StateUnknown, now), Effect{}
	}
	if ev.Call == payclient.CallPrecreate {
		if ev.CodeURL == "" {
			// No QR reached us, so nobody can pay this order: close it now
			// (closing also tombstones a precreate that did arrive).
			o.ErrCode = ev.ErrCode
			o = moveTo(o, order.StateClosing, now)
			return o, Effect{Kind: EffClose}
		}
		o.CodeURL = ev.CodeURL
	}
	if !now.Before(o.Deadline) {
		o = moveTo(o, order.StateClosing, now)
		return o, Effect{Kind: EffClose}
	}
	wasComm := o.ErrCode == CodeComm
	if o.State == order.StatePending {
		o.ErrCode = pendingReason(o.ErrCode, ev.ErrCode)
	}
	if ev.Call == payclient.CallMicropay && ev.ErrCode == CodeComm && o.Resends < MaxResends && o.State == order.StatePending {
		// The answer was lost; the same business fields under the same number
		// are safe to send again and get the order's current state at once.
		o.Resends++
		return o, Effect{Kind: EffMicropay}
	}
	if ev.Call == payclient.CallQuery && ev.ErrCode == CodeNotReceived && o.State == order.StatePending &&
		wasComm && o.Kind == order.KindMicropay && o.Resends < MaxResends+MaxOutageResends {
		// The bank is reachable again and has not seen this number, and
		// what we last heard was a connection failure: the micropay never
		// arrived (the connection was down). The same
		// business fields under the same number are safe to send again
		// (bank-api: the bank charges a number at most once), and the
		// customer is still at the counter before the deadline; polling
		// until the deadline would only close an order that could have
		// been paid. Bounded, like the first re-send.
		o.Resends++
		return o, Effect{Kind: EffMicropay}
	}
	if ev.Outcome == payclient.OutcomePending && o.State == order.StatePending &&
		(ev.ErrCode == "USERPAYING" || ev.Call == payclient.CallPrecreate ||
			(ev.Payment != nil && ev.Payment.TradeState == payclient.TradeUserPaying)) {
		// The bank has the order and the payer is confirming.
		o = moveTo(o, order.StateWaiting, now)
	}
	next := now.Add(cfg.PollInterval)
	if next.After(o.Deadline) {
		next = o.Deadline
	}
	return o, Effect{Kind: EffWait, Until: next}
}

// NeedsDetails reports whether o is paid but still lacks the details of the
// bank's SUCCESS (its transaction_id): an ORDERPAID answer makes an order
// paid at once, and its details come from a later query. Such an order
// disagrees with the bank's bill until they are recorded, so the resolver
// keeps asking for them; its state never changes.
func NeedsDetails(o order.Order) bool {
	return o.State == order.StatePaid && o.TransactionID == ""
}

func record(o order.Order, p *payclient.Payment) order.Order {
	if p.TransactionID != "" {
		o.TransactionID = p.TransactionID
	}
	if p.Channel != order.ChannelNone {
		o.Channel = p.Channel
	}
	if p.TimeEnd != "" {
		o.TimeEnd = p.TimeEnd
	}
	return o
}

func moveTo(o order.Order, s order.State, now time.Time) order.Order {
	if o.State != s {
		o.State = s
		o.UpdatedAt = now
	}
	return o
}

func finish(o order.Order, s order.State, code string, now time.Time) order.Order {
	o = moveTo(o, s, now)
	// Only the answer that decided the order explains it: an earlier
	// COMM or TIMESTAMP_SKEW must not haunt a closed order.
	o.ErrCode = code
	if s == order.StatePaid {
		o.ErrCode = ""
	}
	o.Message = messageFor(s, o.ErrCode)
	return o
}

// pendingReason is the err_code a pending order carries after an answer
// with code evCode, prev being the one it carried. While the bank has not
// answered, the order says why, so the cashier reads "the bank cannot be
// reached" at once, not "sending" for the whole deadline: COMM while calls
// fail, then ORDERNOTEXIST while the bank, reachable again, has not seen
// the number. Only after a communication failure does "not there" mean the
// request was lost: after SYSTEMERROR the bank had it and its query side
// lags, and after a refused re-send the refusal is the reason (review:
// "the connection was down" claimed with no outage). Any other answer
// clears the outage; other codes are kept.
func pendingReason(prev, evCode string) string {
	outage := prev == CodeComm || prev == CodeNotReceived
	switch {
	case evCode == CodeComm:
		return CodeComm
	case evCode == CodeNotReceived && outage:
		return CodeNotReceived
	case evCode != CodeNotReceived && outage:
		return ""
	}
	return prev
}

// MaxResends bounds how often a micropay whose answer was lost is sent again
// under the same out_trade_no before the flow falls back to polling.
const MaxResends = 1

// MaxOutageResends bounds the further re-sends of the same micropay when
// the bank, reachable again, answers a query with ORDERNOTEXIST: the
// request was lost on the way (a connection refused or cut), not refused.
const MaxOutageResends = 2
