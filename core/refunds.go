package core

import (
	"context"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/pin"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/refund/refundstore"
)

// TestHookRefundSuffix names the environment variable that, in a test build
// (-tags scanbox_testhooks) only, fixes the last character of new refund
// numbers: the simulator picks a refund's behaviour by it, so e2e tests can
// ask for "processing, then success" across processes. A normal build
// ignores it.
const TestHookRefundSuffix = "SCANBOX_TESTHOOK_REFUND_SUFFIX"

// PIN is the data directory's manager PIN (refunds need it).
func (c *Core) PIN() *pin.Manager {
	c.pinOnce.Do(func() { c.pin = pin.Open(c.dir) })
	return c.pin
}

// buildRefunds makes the refund runner beside the payment runner, on the same
// store, bank client and identity. nil when the record keeps no refunds (an
// old journal): refunds are then off, payments are not.
func (c *Core) buildRefunds(cfg config.Config, client *payclient.Client) *refund.Runner {
	s, err := c.Store()
	if err != nil {
		return nil
	}
	p := c.opts.Pacing
	rc := refund.Config{MchID: cfg.MchID, TerminalID: cfg.TerminalID,
		PollInterval: cfg.PollInterval.D(), FollowFor: cfg.PollTimeout.D()}
	if p.PollInterval > 0 {
		rc.PollInterval = p.PollInterval
	}
	if p.PollTimeout > 0 {
		rc.FollowFor = p.PollTimeout
	}
	opts := append([]refund.Option{refund.WithClockOffset(client.ClockOffset)}, refundHooks()...)
	return refund.New(refundstore.New(s), client, c.PIN(), rc, c.log, opts...)
}

// Refunds is the refund runner, or why there is none (ErrNotActivated,
// ErrNoHistory, payments off).
func (c *Core) Refunds() (*refund.Runner, error) {
	if _, err := c.Runner(); err != nil {
		return nil, err
	}
	if _, err := c.Store(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refunds == nil {
		return nil, ErrNotActivated
	}
	return c.refunds, nil
}

// Refund checks the PIN, stores the refund durably and starts it, driven on
// the core's context (a client that goes away abandons nothing); follow it
// with WaitRefund. The error is non-nil only when nothing was sent.
func (c *Core) Refund(req refund.Request) (refund.Refund, error) {
	c.mu.Lock()
	act, closed := c.activating, c.closed || c.ctx.Err() != nil
	if !closed && !act {
		// Counted like a payment being started: Activate refuses until the
		// refund is stored (then its unresolved-refund guard holds), so the
		// terminal cannot be switched under a refund about to leave.
		c.starting++
	}
	c.mu.Unlock()
	switch {
	case closed:
		return refund.Refund{}, ErrClosed
	case act:
		return refund.Refund{}, ErrActivating
	}
	defer func() {
		c.mu.Lock()
		c.starting--
		c.mu.Unlock()
	}()
	r, err := c.Refunds()
	if err != nil {
		return refund.Refund{}, err
	}
	x, err := r.Start(c.ctx, req)
	if err == nil {
		c.changed.Emit(struct{}{})
	}
	return x, err
}

// WaitRefund follows a refund until its drive ends (definite, or left
// processing/unknown to the background) or ctx ends.
func (c *Core) WaitRefund(ctx context.Context, outRefundNo string) (refund.Refund, error) {
	r, err := c.Refunds()
	if err != nil {
		return refund.Refund{}, err
	}
	return r.Wait(ctx, outRefundNo)
}

// waitRefunds waits (up to d) for the refund drives still running after the
// core's context ended, so that none appends to a closed store; each stops
// within one step, leaving its refund at its last durable state.
func (c *Core) waitRefunds(r *refund.Runner, d time.Duration) {
	if r == nil {
		return
	}
	s, err := c.Store()
	if err != nil {
		return
	}
	rs, err := s.UnresolvedRefunds()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for _, x := range rs {
		r.Wait(ctx, x.OutRefundNo) // returns at once for one not in flight
	}
}

// openRefunds lists the numbers of the unresolved refunds of the current
// identity (or with none recorded): activation waits for them as for orders.
func (c *Core) openRefunds(cur config.Config) []string {
	s, err := c.Store()
	if err != nil {
		return nil
	}
	rs, err := s.UnresolvedRefunds()
	if err != nil {
		c.log.Error("cannot list unresolved refunds before activation", "err", err)
		return nil
	}
	var out []string
	for _, x := range rs {
		if !cur.Activated() || ((x.MchID == "" || x.MchID == cur.MchID) && (x.TerminalID == "" || x.TerminalID == cur.TerminalID)) {
			out = append(out, x.OutRefundNo)
		}
	}
	return out
}
