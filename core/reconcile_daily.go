package core

import (
	"fmt"
	"strings"
	"time"

	"github.com/scanbox/scanbox/reconcile"
	"github.com/scanbox/scanbox/store"
)

// DefaultReconcileAt is when the owner reconciles yesterday by default.
const DefaultReconcileAt = "09:00"

// Reconciliation is the last background reconciliation (Status, the tray).
type Reconciliation struct {
	Date        string                 `json:"date"` // the day reconciled
	At          time.Time              `json:"at"`   // when it ran
	Agreed      bool                   `json:"agreed"`
	Differences []reconcile.Difference `json:"differences,omitempty"`
	// Error is why the bill could not be had (then nothing was concluded).
	Error string `json:"error,omitempty"`
}

// reconcileTime parses the configuration's reconcile_at: ok false for "off".
func reconcileTime(s string) (h, m int, ok bool, err error) {
	s = strings.TrimSpace(s)
	switch s {
	case "off":
		return 0, 0, false, nil
	case "":
		s = DefaultReconcileAt
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, 0, false, fmt.Errorf("reconcile_at %q is not HH:MM or off", s)
	}
	return t.Hour(), t.Minute(), true, nil
}

// ReconcileIfDue reconciles yesterday (China time) once per day, at or after
// the configured time, and keeps the result. It reports whether it ran. A
// bill that could not be had is tried again at the next call.
func (c *Core) ReconcileIfDue(now time.Time) bool {
	cfg := c.Config()
	h, m, on, err := reconcileTime(cfg.ReconcileAt)
	if err != nil {
		c.log.Warn("background reconciliation is off", "err", err)
		return false
	}
	if !on || !cfg.Activated() {
		return false
	}
	day, _ := store.DayBounds(now)
	if now.Before(day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)) {
		return false
	}
	yesterday := day.AddDate(0, 0, -1)
	c.mu.Lock()
	done := c.lastRecon != nil && c.lastRecon.Date == yesterday.Format(time.DateOnly) && c.lastRecon.Error == ""
	c.mu.Unlock()
	if done {
		return false
	}
	r := Reconciliation{Date: yesterday.Format(time.DateOnly), At: now}
	res, err := c.Reconcile(c.ctx, yesterday)
	if err != nil {
		r.Error = OneLine(err.Error())
	} else {
		r.Agreed, r.Differences = res.Agreed(), res.Differences
	}
	c.mu.Lock()
	c.lastRecon = &r
	c.mu.Unlock()
	c.changed.Emit(struct{}{})
	return true
}

// LastReconciliation is the last background reconciliation (nil: none yet).
func (c *Core) LastReconciliation() *Reconciliation {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastRecon == nil {
		return nil
	}
	r := *c.lastRecon
	return &r
}

// reconcileDaily runs ReconcileIfDue every minute until the core closes.
func (c *Core) reconcileDaily() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		c.ReconcileIfDue(time.Now())
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
	}
}
