package store

import (
	"database/sql"
	"fmt"
)

// PruneResult says what Prune removed.
type PruneResult struct {
	Orders, Refunds, Shifts int64
	// Compacted is how many recent orders' documents were deflated (compact.go).
	Compacted int64
}

// Prune deletes what is older than the retention horizon and resolved:
// orders whose refunds are all resolved and old too (an order's refunds go
// with it, so what is left of a kept order is never overstated), orphaned
// old resolved refunds, and closed shifts. Unresolved rows are never pruned.
// In the same transaction it deflates the documents of the orders resolved
// since its last run (compact.go).
func (s *Store) Prune() (PruneResult, error) {
	var res PruneResult
	now := s.opts.now()
	cut := now.Add(-s.opts.retention).UnixNano()
	var mark int64
	err := s.writeThen(func(tx *sql.Tx) error {
		n := func(r sql.Result, err error) (int64, error) {
			if err != nil {
				return 0, err
			}
			return r.RowsAffected()
		}
		var err error
		if res.Refunds, err = n(tx.Exec(`DELETE FROM refunds WHERE out_trade_no IN (
				SELECT o.out_trade_no FROM orders o WHERE o.terminal = 1 AND o.created_ns < ?1
				AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.out_trade_no = o.out_trade_no
					AND (r.terminal = 0 OR r.created_ns >= ?1)))`, cut)); err != nil {
			return fmt.Errorf("store: prune refunds: %w", err)
		}
		orphans, err := n(tx.Exec(`DELETE FROM refunds WHERE terminal = 1 AND created_ns < ?1
			AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.out_trade_no = refunds.out_trade_no)`, cut))
		if err != nil {
			return fmt.Errorf("store: prune refunds: %w", err)
		}
		res.Refunds += orphans
		if res.Orders, err = n(tx.Exec(`DELETE FROM orders WHERE terminal = 1 AND created_ns < ?1
			AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.out_trade_no = orders.out_trade_no)`, cut)); err != nil {
			return fmt.Errorf("store: prune orders: %w", err)
		}
		if res.Shifts, err = n(tx.Exec(`DELETE FROM shifts WHERE closed_ns IS NOT NULL AND closed_ns < ?1`, cut)); err != nil {
			return fmt.Errorf("store: prune shifts: %w", err)
		}
		mark, res.Compacted, err = s.compact(tx, now.UnixNano())
		return err
	}, func() {
		s.packedBefore = mark
		if res.Orders > 0 {
			s.win.invalidate()
		}
	})
	if err == nil && (res.Orders+res.Refunds+res.Shifts) > 0 {
		s.log.Info("history past the retention horizon pruned", "orders", res.Orders, "refunds", res.Refunds,
			"shifts", res.Shifts, "retention_days", int(s.opts.retention.Hours()/24))
	}
	return res, err
}
