package refund

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

// Bank is what the runner needs of the bank: payclient.RefundBank
// (*payclient.Client implements it; tests fake it).
type Bank = payclient.RefundBank

// Store is what the runner needs of the durable record (store.Store through
// an adapter; tests use a fake). Every method is safe for concurrent use.
type Store interface {
	// AppendRefund makes r the newest state of r.OutRefundNo and returns
	// only once it is durable (committed and fsynced). For a refund not seen
	// before, a store may refuse one that does not fit in what is left of
	// the order; it must then return an error matching ErrOverRefund (or
	// ErrNotPaid) and store nothing.
	AppendRefund(r Refund) error
	GetRefund(outRefundNo string) (Refund, bool, error)
	// RefundsOf lists an order's refunds, oldest first.
	RefundsOf(outTradeNo string) ([]Refund, error)
	// UnresolvedRefunds lists every refund whose state is not Terminal,
	// oldest first.
	UnresolvedRefunds() ([]Refund, error)
	// Order returns the payment order a refund is for.
	Order(outTradeNo string) (order.Order, bool)
}

// Authorizer checks the manager PIN (*pin.Manager). Its errors are cashier
// sentences (wrong PIN, locked, no PIN set) and are returned as they are.
type Authorizer interface {
	Check(pin string) error
}

// Errors for a refund refused before anything was stored or sent. Each is
// one sentence a cashier can read.
var (
	ErrNoAuthorizer = errors.New("no manager PIN is set, so refunds are refused")
	ErrBadAmount    = errors.New("the refund amount must be between 0.01 and the order's amount")
	ErrOrderUnknown = errors.New("no such order")
	ErrNotPaid      = errors.New("the order is not paid, so it cannot be refunded")
	ErrOverRefund   = errors.New("the refund is more than what is left of the order")
	// ErrUnresolved keeps a second out_refund_no from being made while one
	// refund of the order is not definite: the cashier's retry of "the same
	// refund" could otherwise pay the payer back twice.
	ErrUnresolved    = errors.New("this order has a refund that is not finished yet; wait for it before refunding again")
	ErrJournal       = errors.New("the refund could not be saved, so nothing was sent to the bank")
	ErrNotFound      = errors.New("no such refund")
	ErrOtherIdentity = errors.New("this refund was made under another merchant or terminal; only that terminal can finish it")
	ErrFinal         = errors.New("the refund already has a final state")
	ErrBusy          = errors.New("the refund is being worked on")
)

// Request is one refund the cashier asks for.
type Request struct {
	OutTradeNo string
	Amount     money.Fen
	Reason     string
	// PIN is the manager PIN; checked first, never stored or logged.
	PIN string
}

// Runner executes Step's effects. Safe for concurrent use.
type Runner struct {
	st   Store
	bank Bank
	auth Authorizer
	cfg  Config
	log  *slog.Logger
	// Times written to the store are bank time (now + offset), read when a
	// drive starts; within a drive the monotonic clock runs (as payflow).
	now     func() time.Time
	offset  func() time.Duration
	started time.Time
	newNo   func(time.Time) string

	// create serialises the check of an order's remainder with the store
	// of its new refund: two refunds started at once cannot together
	// exceed the order.
	create  sync.Mutex
	mu      sync.Mutex
	flights map[string]*flight
	subs    map[int]func(Refund)
	nextSub int
	wake    chan struct{}
}

type flight struct {
	base     time.Time
	baseMono time.Duration
	fresh    bool // started by Start: nothing was sent before this drive
	done     chan struct{}
	final    Refund
}

// Option adjusts a Runner.
type Option func(*Runner)

// WithClock replaces time.Now as this PC's wall clock.
func WithClock(now func() time.Time) Option { return func(r *Runner) { r.now = now } }

// WithClockOffset gives the bank's clock minus this PC's (payclient's
// Client.ClockOffset).
func WithClockOffset(offset func() time.Duration) Option {
	return func(r *Runner) { r.offset = offset }
}

// WithNumbers replaces NewOutRefundNo (tests choose the simulator's
// refund behaviour by the number's last character).
func WithNumbers(f func(time.Time) string) Option { return func(r *Runner) { r.newNo = f } }

// New returns a Runner. auth nil refuses every refund (ErrNoAuthorizer);
// log may be nil.
func New(st Store, bank Bank, auth Authorizer, cfg Config, log *slog.Logger, opts ...Option) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{st: st, bank: bank, auth: auth, cfg: cfg.withDefaults(), log: log, now: time.Now,
		started: time.Now(), newNo: NewOutRefundNo, flights: map[string]*flight{},
		subs: map[int]func(Refund){}, wake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Config returns the pacing in force.
func (r *Runner) Config() Config { return r.cfg }

// Subscribe registers fn for every stored change of any refund. fn must not block.
func (r *Runner) Subscribe(fn func(Refund)) (unsubscribe func()) {
	r.mu.Lock()
	id := r.nextSub
	r.nextSub++
	r.subs[id] = fn
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.subs, id)
		r.mu.Unlock()
	}
}

func (r *Runner) notify(x Refund) {
	r.mu.Lock()
	fns := make([]func(Refund), 0, len(r.subs))
	for _, fn := range r.subs {
		fns = append(fns, fn)
	}
	r.mu.Unlock()
	for _, fn := range fns {
		fn(x)
	}
}

// Refund checks the PIN, stores the refund and drives it until it is
// definite or its follow time is over (it then stays processing or unknown
// and the background resolver goes on). The error is non-nil only when the
// refund was refused before anything was sent.
func (r *Runner) Refund(ctx context.Context, req Request) (Refund, error) {
	x, err := r.Start(ctx, req)
	if err != nil {
		return x, err
	}
	return r.Wait(ctx, x.OutRefundNo)
}

// Remaining is what is left to refund of a paid order: its amount less every
// refund not known to have failed.
func (r *Runner) Remaining(outTradeNo string) (money.Fen, error) {
	o, ok := r.st.Order(outTradeNo)
	if !ok {
		return 0, ErrOrderUnknown
	}
	if o.State != order.StatePaid {
		return 0, ErrNotPaid
	}
	rs, err := r.st.RefundsOf(outTradeNo)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	return o.AmountFen - taken(rs), nil
}

func taken(rs []Refund) money.Fen {
	var sum money.Fen
	for _, x := range rs {
		if x.State.MayRefund() {
			sum += x.RefundFen
		}
	}
	return sum
}

// Start checks the PIN and the order, stores the refund (durably) and
// drives it in the background; it returns the stored refund at once.
func (r *Runner) Start(ctx context.Context, req Request) (Refund, error) {
	// The PIN comes first, so that every attempt counts towards the lockout
	// and a refused one leaves no trace but the failure count.
	if r.auth == nil {
		return Refund{}, ErrNoAuthorizer
	}
	if err := r.auth.Check(req.PIN); err != nil {
		r.log.Warn("refund refused: manager PIN not accepted", "out_trade_no", req.OutTradeNo, "why", err.Error())
		return Refund{}, err
	}
	if req.Amount <= 0 || req.Amount > money.Max {
		return Refund{}, ErrBadAmount
	}
	r.create.Lock()
	defer r.create.Unlock()
	o, ok := r.st.Order(req.OutTradeNo)
	switch {
	case !ok:
		return Refund{}, ErrOrderUnknown
	case !r.ours(o.MchID, o.TerminalID):
		return Refund{}, ErrOtherIdentity
	case o.State != order.StatePaid:
		return Refund{}, ErrNotPaid
	}
	rs, err := r.st.RefundsOf(o.OutTradeNo)
	if err != nil {
		r.log.Error("refund refused: the store cannot list the order's refunds", "out_trade_no", o.OutTradeNo, "err", err)
		return Refund{}, ErrJournal
	}
	for _, x := range rs {
		if !x.State.Terminal() {
			return Refund{}, fmt.Errorf("%w (refund %s is %s)", ErrUnresolved, x.OutRefundNo, x.State)
		}
	}
	if left := o.AmountFen - taken(rs); req.Amount > left {
		return Refund{}, fmt.Errorf("%w: %s yuan is left", ErrOverRefund, left)
	}
	now := r.bankNow()
	x := Refund{OutRefundNo: r.newNo(now), OutTradeNo: o.OutTradeNo, RefundFen: req.Amount, TotalFen: o.AmountFen,
		State: StatePending, Reason: payclientDesc(req.Reason), CreatedAt: now, UpdatedAt: now,
		MchID: r.cfg.MchID, TerminalID: r.cfg.TerminalID}
	x, eff := Step(x, Event{Kind: EvStart, Now: now}, r.cfg)
	// Crash safety: the refund is durable before the first byte leaves.
	if err := r.st.AppendRefund(x); err != nil {
		switch {
		case errors.Is(err, ErrOverRefund), errors.Is(err, ErrNotPaid):
			return Refund{}, err
		}
		r.log.Error("refund not sent: it could not be stored", "out_refund_no", x.OutRefundNo, "err", err)
		return Refund{}, ErrJournal
	}
	r.log.Info("refund created", "out_refund_no", x.OutRefundNo, "out_trade_no", x.OutTradeNo,
		"refund_fen", int64(x.RefundFen), "order_fen", int64(x.TotalFen))
	r.mu.Lock()
	fl := r.addFlightLocked(x.OutRefundNo, now)
	fl.fresh = true
	r.mu.Unlock()
	go r.drive(ctx, x, eff, fl)
	go r.notify(x)
	return x, nil
}

// payclientDesc cuts a reason the way payclient sends refund_desc, so the
// stored reason is exactly what the bank sees on every send.
func payclientDesc(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= payclient.MaxRefundDesc {
		return s
	}
	n := payclient.MaxRefundDesc
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func (r *Runner) ours(mch, term string) bool {
	same := func(a, b string) bool { return a == "" || b == "" || a == b }
	return same(mch, r.cfg.MchID) && same(term, r.cfg.TerminalID)
}

func (r *Runner) addFlightLocked(no string, at time.Time) *flight {
	fl := &flight{base: at, baseMono: time.Since(r.started), done: make(chan struct{})}
	r.flights[no] = fl
	return fl
}

func (r *Runner) bankNow() time.Time {
	t := r.now().Round(0)
	if r.offset != nil {
		t = t.Add(r.offset())
	}
	return t
}

func (r *Runner) clock(fl *flight) time.Time {
	return fl.base.Add(time.Since(r.started) - fl.baseMono)
}

// resumeAt never starts a resumed drive's clock before the refund's last
// update (a clock set back since must not stretch its follow time).
func (r *Runner) resumeAt(x Refund) time.Time {
	now := r.bankNow()
	if now.Before(x.UpdatedAt) {
		return x.UpdatedAt.Round(0)
	}
	return now
}

func (r *Runner) release(no string, fl *flight, final Refund) {
	r.mu.Lock()
	delete(r.flights, no)
	r.mu.Unlock()
	fl.final = final
	close(fl.done)
}

// Wait blocks until the refund being driven here ends its drive and returns
// it; for a refund not in flight it returns the store's record.
func (r *Runner) Wait(ctx context.Context, outRefundNo string) (Refund, error) {
	r.mu.Lock()
	fl := r.flights[outRefundNo]
	r.mu.Unlock()
	if fl == nil {
		x, ok, err := r.st.GetRefund(outRefundNo)
		if err != nil {
			return x, fmt.Errorf("%w: %v", ErrJournal, err)
		}
		if !ok {
			return x, ErrNotFound
		}
		return x, nil
	}
	select {
	case <-fl.done:
		return fl.final, nil
	case <-ctx.Done():
		x, _, _ := r.st.GetRefund(outRefundNo)
		return x, ctx.Err()
	}
}

// drive runs Step until there is nothing more to do.
func (r *Runner) drive(ctx context.Context, x Refund, eff Effect, fl *flight) {
	defer func() {
		r.release(x.OutRefundNo, fl, x)
		if !x.State.Terminal() {
			r.Wake()
		}
	}()
	first := fl.fresh
	for eff.Kind != EffNone {
		var ev Event
		if eff.Kind == EffWait {
			d := max(eff.Until.Sub(r.clock(fl)), 0)
			t := time.NewTimer(d)
			select {
			case <-t.C:
				ev = Event{Kind: EvTick}
			case <-ctx.Done():
				t.Stop()
				r.log.Warn("stopped following refund; it stays unresolved in the store",
					"out_refund_no", x.OutRefundNo, "state", x.State.String())
				return
			}
		} else {
			if ctx.Err() != nil {
				return
			}
			ev = r.call(ctx, x, eff.Kind, first)
			first = false
			if ctx.Err() != nil && ev.Outcome == payclient.RefundOutcomeUnknown {
				return // shutting down mid-call: leave it for the next start
			}
		}
		ev.Now = r.clock(fl)
		prev := x
		x, eff = Step(x, ev, r.cfg)
		if x != prev {
			if err := r.st.AppendRefund(x); err != nil {
				// The store keeps the previous, unresolved state: a restart
				// follows the refund again. Stop sending meanwhile: every
				// later request must be preceded by a durable record.
				r.log.Error("store append failed; refund left for the resolver", "out_refund_no", x.OutRefundNo,
					"state", x.State.String(), "err", err)
				x = prev
				return
			}
			if x.State != prev.State {
				r.log.Info("refund state", "out_refund_no", x.OutRefundNo, "out_trade_no", x.OutTradeNo,
					"state", x.State.String(), "refund_fen", int64(x.RefundFen), "err_code", x.ErrCode)
			}
			r.notify(x)
		}
	}
}

// call performs one bank call and turns its answer into an event. fresh:
// the refund's very first request, so a local refusal (nothing sent) may
// fail it; on any later request it proves nothing about the earlier ones.
func (r *Runner) call(ctx context.Context, x Refund, k EffectKind, fresh bool) Event {
	var (
		got  *payclient.Refund
		err  error
		call payclient.Call
	)
	req := x.Request()
	switch k {
	case EffRefund:
		call = payclient.CallRefund
		if req.TotalFee <= 0 {
			// The order's amount is not known here (its order is missing
			// from the store): never send a request the bank would refuse
			// for that reason, ask about the refund instead.
			call = payclient.CallRefundQuery
			got, err = r.bank.RefundQuery(ctx, x.OutRefundNo)
			break
		}
		got, err = r.bank.Refund(ctx, req)
	case EffQuery:
		call = payclient.CallRefundQuery
		got, err = r.bank.RefundQuery(ctx, x.OutRefundNo)
	}
	if err == nil {
		// Every answer must be about this refund: number, order, amount.
		// payclient checks /pay/refund's itself; refundquery's only here.
		if m := req.Matches(got); m != nil {
			r.log.Error("bank answer does not match the refund; treated as a communication failure",
				"call", call.String(), "out_refund_no", x.OutRefundNo, "out_trade_no", x.OutTradeNo,
				"refund_fen", int64(x.RefundFen), "why", m.Error())
			return Event{Kind: EvAnswer, Call: call, Outcome: payclient.RefundOutcomeUnknown, ErrCode: CodeComm}
		}
	}
	out := payclient.ClassifyRefund(call, got, err)
	ev := Event{Kind: EvAnswer, Call: call, Outcome: out, ErrCode: codeOf(got, err)}
	if err == nil {
		ev.Answer = got
	}
	if errors.Is(err, payclient.ErrInvalidRequest) && !fresh {
		// Refused here before sending; an earlier request may have reached
		// the bank, so this proves nothing: stay unknown.
		ev.Outcome = payclient.RefundOutcomeUnknown
	}
	r.log.Debug("bank answer", "call", call.String(), "out_refund_no", x.OutRefundNo,
		"outcome", out.String(), "err_code", ev.ErrCode)
	return ev
}

func codeOf(got *payclient.Refund, err error) string {
	if err == nil {
		if got == nil {
			return CodeComm
		}
		if got.State == payclient.RefundFailed {
			return "FAILED"
		}
		return ""
	}
	var ae *payclient.APIError
	switch {
	case errors.Is(err, payclient.ErrInvalidRequest):
		return payclient.CodeInvalidRequest
	case errors.As(err, &ae) && ae.ReturnCode == "FAIL":
		return ae.ReturnMsg
	case errors.As(err, &ae):
		return ae.ErrCode
	}
	return CodeComm
}

// claim takes an unresolved refund from the store for this runner to drive.
func (r *Runner) claim(no string) (Refund, *flight, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok, err := r.st.GetRefund(no)
	switch {
	case err != nil:
		return x, nil, fmt.Errorf("%w: %v", ErrJournal, err)
	case !ok:
		return x, nil, ErrNotFound
	case !r.ours(x.MchID, x.TerminalID):
		r.log.Error("refund belongs to another merchant or terminal; not touching it", "out_refund_no", no,
			"mch_id", x.MchID, "terminal_id", x.TerminalID)
		return x, nil, ErrOtherIdentity
	case x.State.Terminal():
		return x, nil, ErrFinal
	}
	if _, busy := r.flights[no]; busy {
		return x, nil, ErrBusy
	}
	if x.TotalFen <= 0 {
		if o, ok := r.st.Order(x.OutTradeNo); ok {
			x.TotalFen = o.AmountFen
		}
	}
	return x, r.addFlightLocked(no, r.resumeAt(x)), nil
}

// ResolveConcurrency bounds how many refunds ResolveAll drives at once.
const ResolveConcurrency = 4

// ResolveAll drives every unresolved refund not in flight here towards a
// definite state (each for at most FollowFor) and returns those it touched.
func (r *Runner) ResolveAll(ctx context.Context) ([]Refund, error) {
	snaps, err := r.st.UnresolvedRefunds()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	results := make([]*Refund, len(snaps))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(ResolveConcurrency, len(snaps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				x, fl, err := r.claim(snaps[i].OutRefundNo)
				if err != nil {
					continue
				}
				x2, eff := Step(x, Event{Kind: EvResume, Now: r.clock(fl)}, r.cfg)
				if x2 != x {
					if err := r.st.AppendRefund(x2); err != nil {
						r.log.Error("store append failed; refund not resumed", "out_refund_no", x.OutRefundNo, "err", err)
						r.release(x.OutRefundNo, fl, x)
						continue
					}
				}
				r.drive(ctx, x2, eff, fl)
				final := fl.final
				results[i] = &final
			}
		}()
	}
feed:
	for i := range snaps {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	out := make([]Refund, 0, len(snaps))
	for _, x := range results {
		if x != nil {
			out = append(out, *x)
		}
	}
	return out, ctx.Err()
}

// Wake asks the background resolver to run a round now.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Background follows unresolved refunds at start and then every
// ResolveEvery (or when woken) until ctx ends. Run it in a goroutine.
func (r *Runner) Background(ctx context.Context) {
	t := time.NewTicker(r.cfg.ResolveEvery)
	defer t.Stop()
	for {
		if rs, err := r.st.UnresolvedRefunds(); err == nil && len(rs) > 0 {
			r.log.Info("following unresolved refunds", "count", len(rs))
			if _, err := r.ResolveAll(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("refund resolve round ended early", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
			select {
			case <-ctx.Done():
				return
			case <-time.After(r.cfg.ResolveEvery / 3):
			}
		}
	}
}

const noAlphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// NewOutRefundNo makes a terminal-unique refund number: "RF", the time to
// the second and 8 random characters (22 characters of [0-9A-Z]).
func NewOutRefundNo(now time.Time) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("refund: crypto/rand failed: " + err.Error())
	}
	var s strings.Builder
	s.WriteString("RF")
	s.WriteString(now.Format("060102150405"))
	for _, c := range b {
		s.WriteByte(noAlphabet[int(c)%len(noAlphabet)])
	}
	return s.String()
}
