package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/money"
)

// StatusSource is what the plug-in tells the agent about itself for the
// inspection report. Snapshot must be quick and must not wait on a
// payment; the agent gives it snapshotTimeout and reports "unknown" parts
// when it takes longer.
type StatusSource interface {
	Snapshot(ctx context.Context) Snapshot
}

// Snapshot is the plug-in's part of one report. The agent adds the
// identity, version, OS, uptime, disk free, payment and error counts, the
// configuration version and the updater's state.
type Snapshot struct {
	// ClockOffset is this PC's clock minus the bank's (payclient's
	// measured offset); ClockOffsetKnown false before the first answer.
	ClockOffset      time.Duration
	ClockOffsetKnown bool

	UnresolvedOrders   int
	UnresolvedRefunds  int
	OldestUnresolvedAt *time.Time

	AmountSources []proto.AmountSourceState
	Scanner       proto.ScannerState
	OCR           proto.ComponentState
	Voice         proto.VoiceState
}

// StatusFunc adapts a function to StatusSource.
type StatusFunc func(ctx context.Context) Snapshot

// Snapshot calls f.
func (f StatusFunc) Snapshot(ctx context.Context) Snapshot { return f(ctx) }

const snapshotTimeout = 5 * time.Second

// CountPayment adds one ended payment to the next report. It never blocks
// on the fleet (a mutex and a map): call it from the payment runner's
// result hook. outcome is one of proto.Outcome*.
func (a *Agent) CountPayment(channel, outcome string, amount money.Fen) {
	a.cmu.Lock()
	defer a.cmu.Unlock()
	k := [2]string{channel, outcome}
	pc := a.payments[k]
	if pc == nil {
		pc = &proto.PaymentCount{Channel: channel, Outcome: outcome}
		a.payments[k] = pc
	}
	pc.Count++
	pc.SumFen += int64(amount)
}

// CountError adds one error of a short code (e.g. "bank_timeout") to the
// next report.
func (a *Agent) CountError(code string) {
	a.cmu.Lock()
	a.errs[code]++
	a.cmu.Unlock()
}

// takeCounts moves the counters into a report. Once the report is queued
// on disk the counts are durable; counts of a process that dies between
// two reports are lost (at most one interval's worth, never a payment).
func (a *Agent) takeCounts() ([]proto.PaymentCount, map[string]int) {
	a.cmu.Lock()
	defer a.cmu.Unlock()
	var ps []proto.PaymentCount
	for _, pc := range a.payments {
		ps = append(ps, *pc)
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Channel != ps[j].Channel {
			return ps[i].Channel < ps[j].Channel
		}
		return ps[i].Outcome < ps[j].Outcome
	})
	var errs map[string]int
	if len(a.errs) > 0 {
		errs = a.errs
	}
	a.payments = map[[2]string]*proto.PaymentCount{}
	a.errs = map[string]int{}
	return ps, errs
}

// snapshot asks the StatusSource with a timeout, and survives its panic:
// a broken status part makes an "unknown" report, not a dead agent.
func (a *Agent) snapshot(ctx context.Context) Snapshot {
	unknown := Snapshot{Scanner: proto.ScannerState{State: proto.StateUnknown},
		OCR: proto.ComponentState{State: proto.StateUnknown}, Voice: proto.VoiceState{State: proto.StateUnknown}}
	if a.opt.Status == nil {
		return unknown
	}
	ctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
	defer cancel()
	ch := make(chan Snapshot, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("fleet status source panicked", "panic", fmt.Sprint(r))
				ch <- unknown
			}
		}()
		ch <- a.opt.Status.Snapshot(ctx)
	}()
	select {
	case s := <-ch:
		return s
	case <-ctx.Done():
		a.log.Warn("fleet status source too slow; reporting unknown")
		return unknown
	}
}

// buildReport measures one report and queues it. It does not touch the
// network.
func (a *Agent) buildReport(ctx context.Context) error {
	snap := a.snapshot(ctx)
	pays, errs := a.takeCounts()
	up := a.updateStatus()
	a.mu.Lock()
	a.st.Seq++
	hb := proto.Heartbeat{
		Seq: a.st.Seq, At: a.now().UTC(), Identity: a.st.Identity, AppVersion: a.ver, OS: osName(),
		UptimeSec:        int64(a.now().Sub(a.started) / time.Second),
		ClockOffsetMs:    snap.ClockOffset.Milliseconds(),
		ClockOffsetKnown: snap.ClockOffsetKnown,
		DiskFreeBytes:    diskFree(a.opt.DataDir),
		UnresolvedOrders: snap.UnresolvedOrders, UnresolvedRefunds: snap.UnresolvedRefunds,
		OldestUnresolvedAt: snap.OldestUnresolvedAt,
		AmountSources:      snap.AmountSources, Scanner: snap.Scanner, OCR: snap.OCR, Voice: snap.Voice,
		Payments: pays, Errors: errs,
		ConfigVersion: a.st.ConfigVersion, ConfigError: a.st.ConfigError,
		Update: up,
	}
	if a.pendingDropped > 0 {
		if hb.Errors == nil {
			hb.Errors = map[string]int{}
		}
		hb.Errors["fleet_reports_dropped"] += a.pendingDropped
		a.pendingDropped = 0
	}
	err := a.saveStateLocked()
	a.mu.Unlock()
	if err != nil {
		return fmt.Errorf("agent: save state: %w", err)
	}
	gone, err := a.queue.push(hb)
	// A dropped report's own drop count is carried to the next report.
	dropped := len(gone)
	for _, b := range gone {
		var old struct {
			Errors map[string]int `json:"errors"`
		}
		if json.Unmarshal(b, &old) == nil {
			dropped += old.Errors["fleet_reports_dropped"]
		}
	}
	if len(gone) > 0 {
		a.mu.Lock()
		a.st.Dropped += len(gone)
		a.pendingDropped += dropped
		_ = a.saveStateLocked()
		a.mu.Unlock()
		a.log.Warn("fleet report queue full; oldest reports dropped", "dropped", dropped)
	}
	return err
}

// actions gathered from the answers of one flush, carried out after it.
type actions struct {
	config    *proto.Config
	rawConfig json.RawMessage
	logIDs    []string
	offer     *proto.UpdateOffer
	offerSeen bool
}

// flush sends the queued reports oldest first and returns what the fleet
// asked for. It stops at the first failure; what was delivered is removed.
func (a *Agent) flush(ctx context.Context) (actions, error) {
	var act actions
	base, key, err := a.creds()
	if err != nil {
		return act, err
	}
	for {
		batch := a.queue.peek(50)
		if len(batch) == 0 {
			return act, nil
		}
		sent := 0
		var ferr error
		for _, body := range batch {
			data, err := a.send(ctx, base, "POST", proto.PathHeartbeat, body, key, maxAnswer)
			if err != nil {
				ferr = err
				break
			}
			sent++
			if err := a.takeAnswer(data, &act); err != nil {
				ferr = err
				break
			}
		}
		if sent > 0 {
			if err := a.queue.remove(sent); err != nil {
				return act, err
			}
			now := a.now().UTC()
			a.mu.Lock()
			a.st.LastOKAt = &now
			a.st.LastError = ""
			_ = a.saveStateLocked()
			a.mu.Unlock()
		}
		if ferr != nil {
			a.mu.Lock()
			a.st.LastError = Sentence(ferr)
			_ = a.saveStateLocked()
			a.mu.Unlock()
			return act, ferr
		}
		if a.isDisabled() {
			return act, ErrDisabled
		}
	}
}

func (a *Agent) isDisabled() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st.Disabled
}

func (a *Agent) takeAnswer(data []byte, act *actions) error {
	var resp proto.HeartbeatResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		return fmt.Errorf("%w: malformed heartbeat answer: %v", ErrServer, err)
	}
	a.mu.Lock()
	if resp.Disabled && !a.st.Disabled {
		a.log.Warn("fleet: the bank disabled reporting for this terminal")
	}
	a.st.Disabled = resp.Disabled
	if resp.NextIntervalSec >= 10 {
		a.st.IntervalSec = resp.NextIntervalSec
	}
	a.mu.Unlock()
	if resp.Disabled {
		return nil
	}
	if resp.Config != nil && (act.config == nil || resp.Config.Version >= act.config.Version) {
		var raw struct {
			Config json.RawMessage `json:"config"`
		}
		_ = json.Unmarshal(data, &raw)
		act.config, act.rawConfig = resp.Config, raw.Config
	}
	if resp.LogRequest != nil && resp.LogRequest.ID != "" {
		dup := false
		for _, id := range act.logIDs {
			dup = dup || id == resp.LogRequest.ID
		}
		if !dup {
			act.logIDs = append(act.logIDs, resp.LogRequest.ID)
		}
	}
	act.offer, act.offerSeen = resp.Update, true
	return nil
}

// Beat measures one report, queues it and sends the queue, then carries
// out what the fleet asked for (configuration, log upload, update
// staging). It is what Run calls each interval; tests and `scanbox fleet
// status` may call it directly. Its error concerns the fleet only.
func (a *Agent) Beat(ctx context.Context) error {
	a.beatMu.Lock()
	defer a.beatMu.Unlock()
	if !a.Joined() {
		return ErrNotJoined
	}
	if a.isDisabled() {
		return ErrDisabled
	}
	if err := a.buildReport(ctx); err != nil {
		return err
	}
	return a.sendAndAct(ctx)
}

func (a *Agent) sendAndAct(ctx context.Context) error {
	act, err := a.flush(ctx)
	a.carryOut(ctx, act)
	return err
}

func (a *Agent) carryOut(ctx context.Context, act actions) {
	if act.config != nil {
		a.applyConfig(ctx, *act.config, act.rawConfig)
	}
	for _, id := range act.logIDs {
		if err := a.uploadLogs(ctx, id); err != nil {
			a.log.Warn("fleet log upload failed", "log_request", id, "reason", Sentence(err))
		}
	}
	if act.offerSeen {
		a.mu.Lock()
		a.st.Offer = act.offer
		_ = a.saveStateLocked()
		a.mu.Unlock()
		if act.offer != nil {
			// Staging runs here, in the agent's goroutine, never in a
			// payment's; a failure is kept for the next report.
			if _, err := a.stageOffer(ctx); err != nil {
				a.log.Warn("fleet update not staged", "version", act.offer.Version, "reason", Sentence(err))
			}
		}
	}
}

// interval is the current heartbeat interval.
func (a *Agent) interval() time.Duration {
	if a.opt.Interval > 0 {
		return a.opt.Interval
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st.IntervalSec >= 10 {
		return time.Duration(a.st.IntervalSec) * time.Second
	}
	return proto.DefaultHeartbeatInterval
}

// backoff is the wait before resending after the n-th failure in a row:
// 1 s doubling, at most the interval, with ±50 % jitter so that a fleet
// coming back is not hit by every terminal at the same instant.
func backoff(n int, max time.Duration) time.Duration {
	d := time.Second
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d/2 + time.Duration(rand.Int64N(int64(d)+1))
}

// Kick makes Run report now (after Join, or a change worth reporting).
func (a *Agent) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Start runs the heartbeat loop in its own goroutine and returns at once;
// stop ends it and waits for it. A fleet that is down only delays reports.
func (a *Agent) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	return func() { cancel(); <-done }
}

// Run is the heartbeat loop: one report every interval, the queue resent
// with backoff while the fleet is unreachable. It returns when ctx ends.
// It never panics out: a panic in one round is logged and the loop goes on.
func (a *Agent) Run(ctx context.Context) {
	next := a.now()
	fails := 0
	for {
		wait := a.round(ctx, &next, &fails)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-a.kick:
			t.Stop()
			next = a.now()
		case <-t.C:
		}
	}
}

func (a *Agent) round(ctx context.Context, next *time.Time, fails *int) (wait time.Duration) {
	iv := a.interval()
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("fleet agent round panicked", "panic", fmt.Sprint(r))
			wait = iv
		}
	}()
	if !a.Joined() || a.isDisabled() {
		return iv
	}
	var err error
	if !a.now().Before(*next) {
		*next = a.now().Add(iv)
		err = a.Beat(ctx)
	} else {
		a.beatMu.Lock()
		err = a.sendAndAct(ctx)
		a.beatMu.Unlock()
	}
	until := next.Sub(a.now())
	if err != nil && !errors.Is(err, ErrDisabled) && !errors.Is(err, ErrNotJoined) {
		*fails++
		a.log.Info("fleet report not delivered; kept for later", "reason", Sentence(err), "queued", a.queue.len())
		if b := backoff(*fails, iv); b < until {
			return b
		}
	} else {
		*fails = 0
	}
	if until < 0 {
		until = 0
	}
	return until
}
