package payflow

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/scan"
)

// Journal is what the runner needs of the durable order log.
type Journal interface {
	// Append makes the order durable (fsync) before returning.
	Append(o order.Order) error
	Get(outTradeNo string) (order.Order, bool)
	Unresolved() []order.Order
	FindUnresolvedByCodeHash(h string) (order.Order, bool)
	Recent(n int) []order.Order
}

// Errors for a payment refused before anything was sent to the bank.
var (
	ErrCodeUnresolved  = errors.New("this payment code already has an order that is not finished")
	ErrCodeAlreadyPaid = errors.New("this payment code has already paid an order")
	ErrBadAmount       = errors.New("the amount must be between 0.01 and 1,000,000.00 yuan")
	ErrJournal         = errors.New("the order could not be saved, so nothing was charged")
	ErrNotFound        = errors.New("no such order")
	ErrFinal           = errors.New("the order already has a final state")
	ErrBusy            = errors.New("the order is being worked on")
	// ErrOtherIdentity refuses to touch an order taken under another
	// merchant or terminal: only the bank account that saw an order can say
	// whether it was paid (closing its number here would tombstone an
	// unknown number and report "no money was taken").
	ErrOtherIdentity = errors.New("this order was taken under another merchant or terminal; only that terminal can finish it")
)

// PayRequest is one charge of a scanned payment code.
type PayRequest struct {
	Amount money.Fen
	Code   string
	Body   string // optional; Config.Body when empty
}

// Runner executes Step's effects: it persists every change before the next
// bank call, calls the bank, waits, and tells subscribers. Safe for
// concurrent use.
type Runner struct {
	j    Journal
	bank payclient.Bank
	cfg  Config
	// codeKey keys the payment-code fingerprints (Config.CodeKey).
	codeKey []byte
	log     *slog.Logger
	// Time (see "Clocks" in docs/payment-core.md): now is this PC's wall
	// clock and offset the bank's clock minus it; their sum, bankNow, is
	// what the journal's times are written in. Everything measured within
	// one process (waits, deadlines of orders in flight) runs on the
	// monotonic clock from started, so that neither a clock correction nor
	// a newly measured offset can stretch or cut a payer's time.
	now     func() time.Time
	offset  func() time.Duration
	started time.Time

	mu      sync.Mutex
	flights map[string]*flight // by out_trade_no: orders being driven here
	subs    map[int]func(order.Order)
	nextSub int
	wake    chan struct{}
}

type flight struct {
	// base is the flight's time (bank time) at baseMono on the runner's
	// monotonic clock; the flight's clock runs on from there.
	base      time.Time
	baseMono  time.Duration
	requery   bool   // a one-off Requery, not a drive: Cancel does not apply
	code      string // the payment code, in memory only, for (re)sending micropay
	cancel    chan struct{}
	cancelled sync.Once
	done      chan struct{}
	final     order.Order
}

// Option adjusts a Runner (tests use them to control time).
type Option func(*Runner)

// WithClock replaces time.Now as this PC's wall clock.
func WithClock(now func() time.Time) Option { return func(r *Runner) { r.now = now } }

// WithClockOffset gives the runner the bank's clock: offset returns the
// bank's clock minus this PC's as last measured (payclient's
// Client.ClockOffset, from the answers' Date header; 0 until measured).
// Times the runner writes to the journal are then the bank's, so that a
// deadline written before a restart still means the same instant after the
// PC's clock was corrected.
func WithClockOffset(offset func() time.Duration) Option {
	return func(r *Runner) { r.offset = offset }
}

// New returns a Runner. log may be nil.
func New(j Journal, bank payclient.Bank, cfg Config, log *slog.Logger, opts ...Option) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{j: j, bank: bank, cfg: cfg.withDefaults(), log: log, now: time.Now, started: time.Now(),
		flights: map[string]*flight{}, subs: map[int]func(order.Order){}, wake: make(chan struct{}, 1)}
	// The key stays private to the runner, apart from cfg.
	r.codeKey, r.cfg.CodeKey = bytes.Clone(r.cfg.CodeKey), nil
	if len(r.codeKey) == 0 {
		r.codeKey = make([]byte, 32)
		rand.Read(r.codeKey)
		log.Warn("no payment-code key configured; open orders of other processes are matched on their masked code only")
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Subscribe registers fn for every persisted change of any order. fn runs on
// the runner's goroutine: it must not block (UI code hands off via fyne.Do).
func (r *Runner) Subscribe(fn func(order.Order)) (unsubscribe func()) {
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

func (r *Runner) notify(o order.Order) {
	r.mu.Lock()
	fns := make([]func(order.Order), 0, len(r.subs))
	for _, fn := range r.subs {
		fns = append(fns, fn)
	}
	r.mu.Unlock()
	for _, fn := range fns {
		fn(o)
	}
}

// Pay charges a scanned code and blocks until the order is definite or left
// unknown for the background resolver (or ctx ends: the order then stays in
// the journal unresolved, to be resolved later). The error is non-nil only
// when the payment was refused before anything was sent.
func (r *Runner) Pay(ctx context.Context, req PayRequest) (order.Order, error) {
	o, err := r.Start(ctx, req)
	if err != nil {
		return o, err
	}
	return r.Wait(ctx, o.OutTradeNo)
}

// Start journals the order and drives it in the background; it returns the
// journaled order at once. Follow it with Subscribe or Wait.
func (r *Runner) Start(ctx context.Context, req PayRequest) (order.Order, error) {
	guess, err := scan.Recognize(req.Code)
	if err != nil {
		return order.Order{}, err
	}
	if req.Amount <= 0 || req.Amount > money.Max {
		return order.Order{}, ErrBadAmount
	}
	code := scan.Clean(req.Code)
	fp := scan.Fingerprint(r.codeKey, code)
	// Orders journaled by an earlier version carry the unkeyed hash; it is
	// compared here, in memory, and never stored again.
	legacy := scan.LegacyHash(code)
	body := req.Body
	if body == "" {
		body = r.cfg.Body
	}
	body = CutBody(body)
	masked := scan.Mask(code)

	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.refuseLocked(fp, legacy, masked); err != nil {
		return order.Order{}, err
	}
	now := r.bankNow()
	o := order.Order{
		OutTradeNo: NewOutTradeNo(now),
		Kind:       order.KindMicropay,
		AmountFen:  req.Amount,
		Body:       body,
		CodeMasked: masked,
		CodeHash:   fp,
		Guess:      guess,
		MchID:      r.cfg.MchID,
		TerminalID: r.cfg.TerminalID,
		State:      order.StatePending,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	o, eff := Step(o, Event{Kind: EvStart, Now: now}, r.cfg)
	// Crash safety: the order is durable before the first byte goes to the bank.
	if err := r.j.Append(o); err != nil {
		r.log.Error("journal append failed; payment not sent", "out_trade_no", o.OutTradeNo, "err", err)
		return order.Order{}, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	r.log.Info("order created", "out_trade_no", o.OutTradeNo, "amount_fen", int64(o.AmountFen),
		"code", o.CodeMasked, "guess", o.Guess.String())
	fl := r.addFlightLocked(o.OutTradeNo, code, now)
	go r.drive(ctx, o, eff, fl)
	go r.notify(o)
	return o, nil
}

// refuseLocked says why a code (by its fingerprint, legacy hash and masked
// digits) must not be charged now: ErrCodeUnresolved, or an
// *AlreadyPaidError. Called with r.mu held.
func (r *Runner) refuseLocked(fp, legacy, masked string) error {
	// Never charge one scan under a second number while the first is open
	// (bank-api.md step 5): check both the journal and flights in memory.
	for _, h := range []string{fp, legacy} {
		if prev, ok := r.j.FindUnresolvedByCodeHash(h); ok {
			return fmt.Errorf("%w (order %s)", ErrCodeUnresolved, prev.OutTradeNo)
		}
	}
	// A fingerprint made under another key (this runner has no
	// installation key, or code.key was lost) cannot be compared: an open
	// order with the same masked digits is then taken to be this code.
	// Refusing a different code costs a fresh scan; charging the same one
	// twice would cost the customer.
	for _, prev := range r.j.Unresolved() {
		if prev.CodeMasked == masked && !scan.Comparable(prev.CodeHash, r.codeKey) && !scan.IsLegacyHash(prev.CodeHash) {
			r.log.Warn("an open order's code fingerprint was made under another key; refusing the rescan on its masked digits",
				"out_trade_no", prev.OutTradeNo, "code", masked)
			return fmt.Errorf("%w (order %s)", ErrCodeUnresolved, prev.OutTradeNo)
		}
	}
	for _, prev := range r.j.Recent(200) {
		if (prev.CodeHash == fp || prev.CodeHash == legacy) && prev.State == order.StatePaid {
			return &AlreadyPaidError{Order: prev}
		}
	}
	return nil
}

// CheckCode refuses a code the way Start would before charging it
// (ErrCodeUnresolved, *AlreadyPaidError, or the code is not a payment
// code), without starting anything. A front-end asks it before refusing a
// request for another reason (no fresh amount): a request repeated after
// its first attempt charged must be told so, not "failed".
func (r *Runner) CheckCode(code string) error {
	if _, err := scan.Recognize(code); err != nil {
		return err
	}
	code = scan.Clean(code)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refuseLocked(scan.Fingerprint(r.codeKey, code), scan.LegacyHash(code), scan.Mask(code))
}

// AlreadyPaidError refuses a code that has paid an order (errors.Is
// ErrCodeAlreadyPaid). Payment codes are single-use, so this is most often
// the same sale sent again after its answer was lost: Order says which
// order took the money, so that nobody takes it a second time.
type AlreadyPaidError struct{ Order order.Order }

func (e *AlreadyPaidError) Error() string {
	return fmt.Sprintf("%v (order %s)", ErrCodeAlreadyPaid, e.Order.OutTradeNo)
}

// Unwrap makes errors.Is(err, ErrCodeAlreadyPaid) true.
func (e *AlreadyPaidError) Unwrap() error { return ErrCodeAlreadyPaid }

// Precreate creates a dynamic-QR order and returns once the bank answered
// the precreate (CodeURL set) or the attempt ended otherwise; the order is
// then followed in the background like a micropay order.
func (r *Runner) Precreate(ctx context.Context, amount money.Fen, body string) (order.Order, error) {
	if amount <= 0 || amount > money.Max {
		return order.Order{}, ErrBadAmount
	}
	if body == "" {
		body = r.cfg.Body
	}
	body = CutBody(body)
	now := r.bankNow()
	o := order.Order{OutTradeNo: NewOutTradeNo(now), Kind: order.KindPrecreate, AmountFen: amount,
		Body: body, State: order.StatePending, CreatedAt: now, UpdatedAt: now,
		MchID: r.cfg.MchID, TerminalID: r.cfg.TerminalID}
	o, eff := Step(o, Event{Kind: EvStart, Now: now}, r.cfg)
	// Journal and register under one lock, so that the background resolver
	// never sees this order unresolved and not in flight.
	r.mu.Lock()
	if err := r.j.Append(o); err != nil {
		r.mu.Unlock()
		return order.Order{}, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	fl := r.addFlightLocked(o.OutTradeNo, "", now)
	r.mu.Unlock()
	first := make(chan order.Order, 1)
	unsub := r.Subscribe(func(c order.Order) {
		if c.OutTradeNo == o.OutTradeNo && (c.CodeURL != "" || c.State.Terminal() || c.State == order.StateUnknown || c.State == order.StateClosing) {
			select {
			case first <- c:
			default:
			}
		}
	})
	defer unsub()
	go r.drive(ctx, o, eff, fl)
	select {
	case c := <-first:
		if c.CodeURL == "" {
			return c, fmt.Errorf("payflow: precreate %s: %s", c.OutTradeNo, orMessage(c))
		}
		return c, nil
	case <-fl.done:
		c := fl.final
		if c.CodeURL == "" {
			return c, fmt.Errorf("payflow: precreate %s: %s", c.OutTradeNo, orMessage(c))
		}
		return c, nil
	case <-ctx.Done():
		return o, ctx.Err()
	}
}

func orMessage(o order.Order) string {
	if o.Message != "" {
		return o.Message
	}
	return "the bank gave no QR code"
}

func (r *Runner) addFlightLocked(no, code string, at time.Time) *flight {
	fl := &flight{code: code, cancel: make(chan struct{}), done: make(chan struct{}),
		base: at, baseMono: r.elapsed()}
	r.flights[no] = fl
	return fl
}

// bankNow is the best estimate of the bank's clock: this PC's clock
// corrected by the measured offset. It is read when an order starts or is
// taken up again, never while one is in flight (see clock).
func (r *Runner) bankNow() time.Time {
	t := r.now().Round(0) // wall time only: the monotonic part is r.elapsed's job
	if r.offset != nil {
		t = t.Add(r.offset())
	}
	return t
}

func (r *Runner) elapsed() time.Duration { return time.Since(r.started) }

// clock is the flight's time: its start in bank time plus the monotonic
// time elapsed since. Step's deadlines and waits use only this, so a wall
// clock set back an hour does not keep an order polled for an hour, and
// one set forward (or a first offset measurement) does not close it while
// the payer is confirming.
func (r *Runner) clock(fl *flight) time.Time {
	return fl.base.Add(r.elapsed() - fl.baseMono)
}

// resumeAt is where the clock of a journal order taken up again starts:
// bank time now, but never before the order's own last update. A clock
// that went back since (the journal was written by a PC whose clock was
// fast and is now right) would otherwise leave the order polled until a
// deadline hours away; like this, what is left is at most the order's own
// timeout.
func (r *Runner) resumeAt(o order.Order) time.Time {
	now := r.bankNow()
	if now.Before(o.UpdatedAt) {
		r.log.Warn("this order was written at a later time than the clock shows now; its deadline counts from its last update",
			"out_trade_no", o.OutTradeNo, "updated_at", o.UpdatedAt.Format(time.RFC3339), "now", now.Format(time.RFC3339))
		return o.UpdatedAt.Round(0)
	}
	return now
}

// claim takes an existing journal order for this runner to work on. Under
// the lock it re-reads the order (a caller's copy may be stale: driving a
// stale copy could close an order that was just paid) and registers a
// flight, so nobody else drives it meanwhile. It fails with ErrNotFound,
// ErrOtherIdentity, ErrFinal or ErrBusy (the last three return the order).
// Every operation on a journal order (ResolveAll, Requery, CloseOrder) goes
// through claim, so the identity check cannot be forgotten by one of them.
func (r *Runner) claim(no string) (order.Order, *flight, error) { return r.claimFor(no, false) }

// claimFor is claim; with details, a paid order that still lacks its
// details (NeedsDetails) may be claimed too, to ask the bank for them. Step
// never changes such an order's state; the flight keeps a payment that is
// still asking for them from being queried twice at once.
func (r *Runner) claimFor(no string, details bool) (order.Order, *flight, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.j.Get(no)
	switch {
	case !ok:
		return o, nil, ErrNotFound
	case !r.ours(o):
		r.log.Error("order belongs to another merchant or terminal; not touching it",
			"out_trade_no", o.OutTradeNo, "mch_id", o.MchID, "terminal_id", o.TerminalID,
			"active_mch_id", r.cfg.MchID, "active_terminal_id", r.cfg.TerminalID)
		return o, nil, ErrOtherIdentity
	case o.State.Terminal() && !(details && NeedsDetails(o)):
		return o, nil, ErrFinal
	}
	if _, busy := r.flights[no]; busy {
		return o, nil, ErrBusy
	}
	return o, r.addFlightLocked(no, "", r.resumeAt(o)), nil
}

// ours reports whether o was taken under this runner's merchant and
// terminal. An empty field on either side (orders journaled before the
// identity was recorded; a runner built without one, as in tests) matches.
func (r *Runner) ours(o order.Order) bool {
	same := func(a, b string) bool { return a == "" || b == "" || a == b }
	return same(o.MchID, r.cfg.MchID) && same(o.TerminalID, r.cfg.TerminalID)
}

// release ends a flight with its final order and wakes its waiters.
func (r *Runner) release(no string, fl *flight, final order.Order) {
	r.mu.Lock()
	delete(r.flights, no)
	r.mu.Unlock()
	fl.final = final
	close(fl.done)
}

// Wait blocks until the order being driven here finishes (definite or
// unknown) and returns it; for an order not in flight it returns the
// journal's record.
func (r *Runner) Wait(ctx context.Context, outTradeNo string) (order.Order, error) {
	r.mu.Lock()
	fl := r.flights[outTradeNo]
	r.mu.Unlock()
	if fl == nil {
		o, ok := r.j.Get(outTradeNo)
		if !ok {
			return o, ErrNotFound
		}
		return o, nil
	}
	select {
	case <-fl.done:
		return fl.final, nil
	case <-ctx.Done():
		o, _ := r.j.Get(outTradeNo)
		return o, ctx.Err()
	}
}

// Cancel asks an order in flight to stop waiting and close (the cashier's
// Cancel button). It reports whether such an order was found.
func (r *Runner) Cancel(outTradeNo string) bool {
	r.mu.Lock()
	fl := r.flights[outTradeNo]
	r.mu.Unlock()
	if fl == nil || fl.requery {
		return false
	}
	fl.cancelled.Do(func() { close(fl.cancel) })
	return true
}

// Active lists the orders being driven by this runner right now.
func (r *Runner) Active() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.flights))
	for no := range r.flights {
		out = append(out, no)
	}
	return out
}

// drive runs Step until there is nothing more to do.
func (r *Runner) drive(ctx context.Context, o order.Order, eff Effect, fl *flight) {
	defer func() {
		r.release(o.OutTradeNo, fl, o)
		if o.State == order.StateUnknown {
			r.Wake()
		}
	}()
	cancelSeen := false
	for eff.Kind != EffNone {
		var ev Event
		switch eff.Kind {
		case EffWait:
			d := eff.Until.Sub(r.clock(fl))
			if d < 0 {
				d = 0
			}
			t := time.NewTimer(d)
			cancel := fl.cancel
			if cancelSeen {
				cancel = nil // Cancel is one event, not one per wait
			}
			select {
			case <-t.C:
				ev = Event{Kind: EvTick}
			case <-cancel:
				t.Stop()
				cancelSeen = true
				ev = Event{Kind: EvCancel}
			case <-ctx.Done():
				t.Stop()
				r.log.Warn("stopped following order; it stays unresolved in the journal",
					"out_trade_no", o.OutTradeNo, "state", o.State.String())
				return
			}
		default:
			if ctx.Err() != nil {
				return
			}
			ev = r.call(ctx, o, eff.Kind, fl)
			if ctx.Err() != nil && ev.ErrCode == CodeComm {
				// Shutting down mid-call: the answer is unknown; leave the
				// order for the next start to resolve.
				return
			}
		}
		ev.Now = r.clock(fl)
		prev := o
		o, eff = Step(o, ev, r.cfg)
		if !cancelSeen && eff.Kind != EffClose && !o.State.Terminal() && isClosed(fl.cancel) {
			// Cancel pressed while a bank call was under way.
			cancelSeen = true
			o, eff = Step(o, Event{Kind: EvCancel, Now: ev.Now}, r.cfg)
		}
		if o != prev {
			if err := r.j.Append(o); err != nil {
				// The journal still holds the previous, unresolved record, so
				// a restart resolves the order; go on with the bank meanwhile.
				r.log.Error("journal append failed", "out_trade_no", o.OutTradeNo, "state", o.State.String(), "err", err)
			}
			if o.State != prev.State {
				r.log.Info("order state", "out_trade_no", o.OutTradeNo, "state", o.State.String(),
					"amount_fen", int64(o.AmountFen), "channel", o.Channel.String(), "err_code", o.ErrCode)
			}
			r.notify(o)
		}
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// call performs one bank call and turns its answer into an event.
func (r *Runner) call(ctx context.Context, o order.Order, k EffectKind, fl *flight) Event {
	var (
		p    *payclient.Payment
		err  error
		call payclient.Call
		url  string
	)
	switch k {
	case EffMicropay:
		if fl.code == "" {
			// Resumed order: the code is not kept on disk, so ask instead.
			call = payclient.CallQuery
			p, err = r.bank.Query(ctx, o.OutTradeNo)
			break
		}
		call = payclient.CallMicropay
		p, err = r.bank.Micropay(ctx, payclient.MicropayRequest{
			OutTradeNo: o.OutTradeNo, AuthCode: fl.code, TotalFee: o.AmountFen, Body: o.Body})
	case EffPrecreate:
		call = payclient.CallPrecreate
		var pc *payclient.Precreated
		pc, err = r.bank.Precreate(ctx, payclient.PrecreateRequest{OutTradeNo: o.OutTradeNo, TotalFee: o.AmountFen, Body: o.Body})
		if err == nil && pc != nil {
			url = pc.CodeURL
			p = &payclient.Payment{OutTradeNo: o.OutTradeNo, TradeState: payclient.TradeNotPay}
		}
	case EffQuery:
		call = payclient.CallQuery
		p, err = r.bank.Query(ctx, o.OutTradeNo)
	case EffClose:
		call = payclient.CallClose
		p, err = r.bank.Close(ctx, o.OutTradeNo)
	}
	// payclient decodes the answer (and checks that a SUCCESS is about this
	// order at this amount); the runner only logs and steps.
	a := payclient.Decode(call, payclient.Expect{OutTradeNo: o.OutTradeNo, TotalFee: o.AmountFen}, p, err)
	ev := Event{Kind: EvAnswer, Call: call, Outcome: a.Outcome, Payment: a.Payment, ErrCode: a.Code, CodeURL: url}
	if a.Err != nil {
		ev.Err = a.Err.Error()
	}
	if a.Mismatch != "" {
		// A verified answer that contradicts the journal: a bank bug, a
		// proxy mixing answers, or a stolen key. Never a result.
		r.log.Error("bank answer does not match the order; treated as a communication failure",
			"call", call.String(), "out_trade_no", o.OutTradeNo, "amount_fen", int64(o.AmountFen), "why", a.Mismatch)
		ev.CodeURL = ""
		return ev
	}
	// payclient already logged the call and its error (WARN for a
	// communication failure); only the classification is new here.
	r.log.Debug("bank answer", "call", call.String(), "out_trade_no", o.OutTradeNo,
		"outcome", ev.Outcome.String(), "err_code", ev.ErrCode)
	return ev
}

// ResolveConcurrency bounds how many orders ResolveAll drives at once: a
// shop that was offline for a day may have hundreds of unresolved orders,
// and the bank must not get hundreds of requests from one terminal at once.
const ResolveConcurrency = 4

// DetailsWindow bounds how far back ResolveAll looks for paid orders still
// lacking their details (NeedsDetails): the most recent DetailsWindow
// orders. The background resolver asks about such an order every
// ResolveEvery, so it falls out of the window only if the bank fails that
// many newer orders' worth of rounds; and a round never reads the whole
// journal (store/ keeps its 512 newest orders decoded in memory, so this
// read costs no disk access).
const DetailsWindow = 500

// toResolve lists what a resolve round takes: every unresolved order, then
// this terminal's recent paid orders still lacking their details, oldest
// first, each once.
func (r *Runner) toResolve() []order.Order {
	snaps := r.j.Unresolved()
	seen := make(map[string]bool, len(snaps))
	for _, o := range snaps {
		seen[o.OutTradeNo] = true
	}
	recent := r.j.Recent(DetailsWindow)
	for i := len(recent) - 1; i >= 0; i-- { // Recent is newest first
		o := recent[i]
		if NeedsDetails(o) && r.ours(o) && !seen[o.OutTradeNo] {
			seen[o.OutTradeNo] = true
			snaps = append(snaps, o)
		}
	}
	return snaps
}

// ResolveAll drives every unresolved journal order that is not already in
// flight here to a definite state (or leaves it unknown when the bank cannot
// be reached), asks once for the details of each recent paid order that
// still lacks them (see DetailsWindow; its state never changes), and returns
// the orders it touched, in journal order. At most ResolveConcurrency orders
// are driven at once.
func (r *Runner) ResolveAll(ctx context.Context) ([]order.Order, error) {
	snaps := r.toResolve()
	results := make([]*order.Order, len(snaps))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(ResolveConcurrency, len(snaps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				// The list is a snapshot: claim re-reads the order and skips
				// it if it finished, is being driven since, or is another
				// terminal's.
				o, fl, err := r.claimFor(snaps[i].OutTradeNo, true)
				if err != nil {
					continue
				}
				o2, eff := Step(o, Event{Kind: EvResume, Now: r.clock(fl)}, r.cfg)
				r.drive(ctx, o2, eff, fl)
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
	out := make([]order.Order, 0, len(snaps))
	for _, o := range results {
		if o != nil {
			out = append(out, *o)
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

// Background resolves unresolved orders (and completes paid orders lacking
// their details) at start and then every Config.ResolveEvery (or when
// woken) until ctx ends. Run it in a goroutine.
func (r *Runner) Background(ctx context.Context) {
	t := time.NewTicker(r.cfg.ResolveEvery)
	defer t.Stop()
	for {
		if n := len(r.toResolve()); n > 0 {
			r.log.Info("resolving unresolved orders", "count", n)
			if _, err := r.ResolveAll(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("resolve round ended early", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
			// Let a close that just failed breathe before trying again.
			select {
			case <-ctx.Done():
				return
			case <-time.After(r.cfg.ResolveEvery / 3):
			}
		}
	}
}

// Requery asks the bank about one order now and records a definite answer
// if the order was unresolved. For an order in flight it returns the latest
// state without a call.
func (r *Runner) Requery(ctx context.Context, outTradeNo string) (order.Order, error) {
	o, fl, err := r.claim(outTradeNo)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrOtherIdentity):
		return o, err
	case err != nil: // final, or in flight: its latest state is the answer
		return o, nil
	}
	fl.requery = true // a one-off call: Cancel does not apply to it
	final := o
	defer func() { r.release(outTradeNo, fl, final) }()
	ev := r.call(ctx, o, EffQuery, fl)
	ev.Now = r.clock(fl)
	if ev.Outcome == payclient.OutcomePending || ev.Outcome == payclient.OutcomeUnknown {
		return o, nil // nothing definite: leave the order to its procedure
	}
	n, _ := Step(o, ev, r.cfg)
	if n != o {
		if err := r.j.Append(n); err != nil {
			return o, fmt.Errorf("%w: %v", ErrJournal, err)
		}
		r.notify(n)
	}
	final = n
	return n, nil
}

// CloseOrder gives up on an unresolved order: in flight it is cancelled;
// otherwise it is closed now. It returns the order as it then stands.
func (r *Runner) CloseOrder(ctx context.Context, outTradeNo string) (order.Order, error) {
	if r.Cancel(outTradeNo) {
		return r.Wait(ctx, outTradeNo)
	}
	o, fl, err := r.claim(outTradeNo)
	if err != nil {
		return o, err
	}
	o2, eff := Step(o, Event{Kind: EvCancel, Now: r.clock(fl)}, r.cfg)
	if eff.Kind == EffNone { // closing or unknown already: close again
		o2, eff = Step(o, Event{Kind: EvResume, Now: r.clock(fl)}, r.cfg)
	}
	if o2 != o {
		if err := r.j.Append(o2); err != nil {
			r.release(outTradeNo, fl, o)
			return o, fmt.Errorf("%w: %v", ErrJournal, err)
		}
		r.notify(o2)
	}
	go r.drive(ctx, o2, eff, fl)
	return r.Wait(ctx, outTradeNo)
}

// MaxBodyBytes is bank-api.md's limit on micropay's and precreate's body.
const MaxBodyBytes = 128

// CutBody makes a description fit body: valid UTF-8 (invalid bytes become
// U+FFFD, as JSON would send them) cut at a character boundary to at most
// MaxBodyBytes. The body is the store name by default, and a store name is
// the bank's, of any length; it must never make a payment fail.
func CutBody(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxBodyBytes {
		return s
	}
	cut := MaxBodyBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

const noAlphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// NewOutTradeNo makes a terminal-unique order number: "SB", the local time
// to the second, and 8 random characters (22 characters, within the API's
// 6–32 of [0-9A-Za-z_-]). Unique across restarts and reinstalls because the
// random part makes a clash within one second vanishingly unlikely.
func NewOutTradeNo(now time.Time) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("payflow: crypto/rand failed: " + err.Error()) // cannot happen on supported OSes
	}
	var s strings.Builder
	s.WriteString("SB")
	s.WriteString(now.Format("060102150405"))
	for _, c := range b {
		s.WriteByte(noAlphabet[int(c)%len(noAlphabet)])
	}
	return s.String()
}
