package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

// Errors of activation besides the guards in core.go.
var (
	ErrBadURL           = errors.New("the bank URL is not usable")
	ErrActivationFailed = errors.New("activation failed")
	ErrStorage          = errors.New("the data directory could not be written")
)

// ActivateRequest is what bank staff give the shop.
type ActivateRequest struct {
	URL, MchID, TerminalID, Code string
	HTTPTimeout                  time.Duration // 0: payclient's default
}

// Activate calls /merchant/info, stores the key (protected) and the merchant
// data, and restarts payments with the new key. It is refused while a
// payment is in flight or an order of the current bank identity is
// unresolved: the new key invalidates the old one, and only the bank that
// saw an order can say whether it was paid. Payments are refused meanwhile.
func (c *Core) Activate(ctx context.Context, req ActivateRequest) (*payclient.MerchantInfo, error) {
	if err := payclient.CheckBaseURL(req.URL); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if c.activating {
		c.mu.Unlock()
		return nil, ErrActivating
	}
	if c.starting > 0 || (c.runner != nil && len(c.runner.Active()) > 0) {
		c.mu.Unlock()
		return nil, ErrPaymentInProgress
	}
	cur := c.cfg
	if open := openOrdersOf(c.journal.Unresolved(), cur); len(open) > 0 {
		c.mu.Unlock()
		return nil, &UnresolvedError{Count: len(open), Terminal: cur.TerminalID, Example: open[0].OutTradeNo}
	}
	// An unresolved refund needs the current key too (refundquery).
	if open := c.openRefunds(cur); len(open) > 0 {
		c.mu.Unlock()
		return nil, &UnresolvedError{Count: len(open), Terminal: cur.TerminalID, Example: open[0], What: "refund"}
	}
	c.activating = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.activating = false
		c.mu.Unlock()
		c.changed.Emit(struct{}{})
	}()

	info, err := payclient.Activate(ctx, payclient.ActivateRequest{BaseURL: req.URL, MchID: req.MchID,
		TerminalID: req.TerminalID, ActivationCode: req.Code, HTTPTimeout: req.HTTPTimeout},
		payclient.ActivateWithLogger(c.log))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrActivationFailed, err)
	}
	if err := config.SaveKey(c.dir, info.Key); err != nil {
		return nil, fmt.Errorf("%w: cannot store the signing key: %v", ErrStorage, err)
	}
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	cfg.BankURL, cfg.MchID, cfg.TerminalID = req.URL, req.MchID, req.TerminalID
	cfg.MerchantName, cfg.StoreName, cfg.StaticQR = info.MerchantName, info.StoreName, info.StaticQR
	cfg.TerminalSN, cfg.AreaCode = info.TerminalSN, info.AreaCode // bank API 1.1
	if err := config.Save(c.dir, cfg); err != nil {
		return nil, fmt.Errorf("%w: cannot save the configuration: %v", ErrStorage, err)
	}
	c.mu.Lock()
	c.cfg = cfg
	c.mu.Unlock()
	c.log.Info("terminal activated", "mch_id", req.MchID, "terminal_id", req.TerminalID, "merchant_name", info.MerchantName)
	if err := c.startRunner(); err != nil {
		return nil, fmt.Errorf("%w: activated, but payments could not start: %v", ErrStorage, err)
	}
	return info, nil
}

// UnresolvedError refuses activation while orders are open.
type UnresolvedError struct {
	Count    int
	Terminal string
	Example  string
	What     string // "order" (when empty) or "refund"
}

func (e *UnresolvedError) Error() string {
	what := e.What
	if what == "" {
		what = "order"
	}
	return fmt.Sprintf("%d %s(s) of terminal %s are not resolved yet (e.g. %s); run scanbox resolve before activating",
		e.Count, what, e.Terminal, e.Example)
}

// Is makes errors.Is(err, ErrUnresolvedOrders) true.
func (e *UnresolvedError) Is(target error) bool { return target == ErrUnresolvedOrders }

// openOrdersOf lists the unresolved orders activation must wait for: those
// of the current identity, or with no identity recorded (older journals);
// with no identity configured, every one.
func openOrdersOf(open []order.Order, cur config.Config) []order.Order {
	if !cur.Activated() {
		return open
	}
	var out []order.Order
	for _, o := range open {
		if (o.MchID == "" || o.MchID == cur.MchID) && (o.TerminalID == "" || o.TerminalID == cur.TerminalID) {
			out = append(out, o)
		}
	}
	return out
}
