package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

var (
	// ErrNotRefundable: a new refund for an order that is not paid (or not
	// known here).
	ErrNotRefundable = errors.New("the order is not paid, so it cannot be refunded")
	// ErrOverRefund: a new refund for more than what is left of the order.
	ErrOverRefund = errors.New("the refund is more than what is left of the order")
)

// AppendRefund stores r as the newest state of r.OutRefundNo and returns nil
// only once it is committed and fsynced; the caller must not send the refund
// to the bank before. A refund seen for the first time is checked in the same
// transaction against its order: the order must be paid, and r.RefundFen must
// fit in what is left (the amount less every refund that MayRefund), so two
// refunds started at once can never together exceed the order (ErrOverRefund,
// ErrNotRefundable; nothing stored). A later state of a known refund must keep
// its order and amount.
func (s *Store) AppendRefund(r Refund) error {
	switch {
	case r.OutRefundNo == "" || r.OutTradeNo == "":
		return fmt.Errorf("%w: refund without out_refund_no or out_trade_no", ErrInvalid)
	case r.State == RefundInvalid:
		return fmt.Errorf("%w: refund %s has no state", ErrInvalid, r.OutRefundNo)
	case r.RefundFen <= 0:
		return fmt.Errorf("%w: refund %s of %d fen", ErrInvalid, r.OutRefundNo, r.RefundFen)
	}
	js, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("%w: encode %s: %v", ErrInvalid, r.OutRefundNo, err)
	}
	return s.write(func(tx *sql.Tx) error {
		var oldTrade string
		var oldFen int64
		var extra bool
		err := tx.QueryRow("SELECT out_trade_no, refund_fen, extra FROM refunds WHERE out_refund_no = ?", r.OutRefundNo).
			Scan(&oldTrade, &oldFen, &extra)
		switch {
		case err == sql.ErrNoRows:
			left, err := refundableTx(tx, r.OutTradeNo)
			if err != nil {
				return err
			}
			if r.RefundFen > left {
				return fmt.Errorf("%w: %s asks %s yuan of order %s, %s yuan left", ErrOverRefund,
					r.OutRefundNo, r.RefundFen, r.OutTradeNo, left)
			}
		case err != nil:
			return fmt.Errorf("store: read refund %s: %w", r.OutRefundNo, err)
		case oldTrade != r.OutTradeNo || oldFen != int64(r.RefundFen):
			return fmt.Errorf("%w: refund %s was %d fen of %s, now %d fen of %s", ErrInvalid,
				r.OutRefundNo, oldFen, oldTrade, r.RefundFen, r.OutTradeNo)
		case extra:
			m, err := carryUnknown(tx, "refunds", "out_refund_no", r.OutRefundNo, refundKeys)
			if err != nil {
				return err
			}
			if js, err = mergeUnknown(js, m); err != nil {
				return err
			}
			extra = m != nil
		}
		_, err = tx.Exec(`INSERT INTO refunds (out_refund_no, out_trade_no, state, terminal, refund_fen, created_ns, updated_ns, extra, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (out_refund_no) DO UPDATE SET state = excluded.state, terminal = excluded.terminal,
				created_ns = excluded.created_ns, updated_ns = excluded.updated_ns, extra = excluded.extra, doc = excluded.doc`,
			r.OutRefundNo, r.OutTradeNo, r.State.String(), r.State.Terminal(), int64(r.RefundFen),
			nanos(r.CreatedAt), nanos(r.UpdatedAt), extra, packDoc(js))
		if err != nil {
			return fmt.Errorf("store: write refund %s: %w", r.OutRefundNo, err)
		}
		return nil
	})
}

// refundableTx is what is left to refund of a paid order.
func refundableTx(q interface {
	QueryRow(string, ...any) *sql.Row
}, outTradeNo string) (money.Fen, error) {
	var state string
	var amount, taken int64
	err := q.QueryRow("SELECT state, amount_fen FROM orders WHERE out_trade_no = ?", outTradeNo).Scan(&state, &amount)
	if err == sql.ErrNoRows || (err == nil && state != order.StatePaid.String()) {
		return 0, fmt.Errorf("%w: %s", ErrNotRefundable, outTradeNo)
	}
	if err != nil {
		return 0, fmt.Errorf("store: read order %s: %w", outTradeNo, err)
	}
	// Every refund but a failed one may take money back: counting them
	// keeps an unresolved refund from being refunded again beside it.
	err = q.QueryRow("SELECT coalesce(sum(refund_fen), 0) FROM refunds WHERE out_trade_no = ? AND state <> ?",
		outTradeNo, RefundFailed.String()).Scan(&taken)
	if err != nil {
		return 0, fmt.Errorf("store: read refunds of %s: %w", outTradeNo, err)
	}
	return money.Fen(amount - taken), nil
}

// Refundable returns what is left to refund of a paid order: its amount less
// every refund not known to have failed. ErrNotRefundable if it is not paid.
func (s *Store) Refundable(outTradeNo string) (money.Fen, error) {
	db, done, err := s.reader()
	if err != nil {
		return 0, err
	}
	defer done()
	return refundableTx(db, outTradeNo)
}

func (s *Store) queryRefunds(q string, args ...any) ([]Refund, error) {
	db, done, err := s.reader()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := db.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query refunds: %w", err)
	}
	defer rows.Close()
	var out []Refund
	for rows.Next() {
		var packed []byte
		if err := rows.Scan(&packed); err != nil {
			return out, fmt.Errorf("store: read refunds: %w", err)
		}
		var r Refund
		js, err := unpackDoc(packed)
		if err == nil {
			err = json.Unmarshal(js, &r)
		}
		if err != nil {
			s.log.Warn("refund left out: this version cannot read it", "err", err)
			continue
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("store: read refunds: %w", err)
	}
	return out, nil
}

// GetRefund returns the newest state of one refund.
func (s *Store) GetRefund(outRefundNo string) (Refund, bool, error) {
	rs, err := s.queryRefunds("SELECT doc FROM refunds WHERE out_refund_no = ?", outRefundNo)
	if err != nil || len(rs) == 0 {
		return Refund{}, false, err
	}
	return rs[0], true, nil
}

// RefundsOf returns the refunds of one order, oldest first.
func (s *Store) RefundsOf(outTradeNo string) ([]Refund, error) {
	return s.queryRefunds("SELECT doc FROM refunds WHERE out_trade_no = ? ORDER BY created_ns, id", outTradeNo)
}

// UnresolvedRefunds returns every refund whose state is not Terminal, oldest first.
func (s *Store) UnresolvedRefunds() ([]Refund, error) {
	return s.queryRefunds("SELECT doc FROM refunds WHERE terminal = 0 ORDER BY created_ns, id")
}

// RecentRefunds returns up to n refunds, newest first (n <= 0: all kept).
func (s *Store) RecentRefunds(n int) ([]Refund, error) {
	if n <= 0 {
		n = -1
	}
	return s.queryRefunds("SELECT doc FROM refunds ORDER BY created_ns DESC, id DESC LIMIT ?", n)
}

// RefundsBetween returns up to limit refunds created in [since, until),
// newest first (limit <= 0: all; a zero bound is open).
func (s *Store) RefundsBetween(since, until time.Time, limit int) ([]Refund, error) {
	lo, hi := bounds(since, until)
	if limit <= 0 {
		limit = -1
	}
	return s.queryRefunds("SELECT doc FROM refunds WHERE created_ns >= ? AND created_ns < ? ORDER BY created_ns DESC, id DESC LIMIT ?", lo, hi, limit)
}

// RefundsOnDate returns the refunds created on the China-time day of day, newest first.
func (s *Store) RefundsOnDate(day time.Time) ([]Refund, error) {
	from, to := DayBounds(day)
	return s.RefundsBetween(from, to, 0)
}

// RefundedFen is the sum of an order's refunds that are refunded or may
// still be (every state but failed): `orders --json`'s refunded_fen.
func (s *Store) RefundedFen(outTradeNo string) (money.Fen, error) {
	db, done, err := s.reader()
	if err != nil {
		return 0, err
	}
	defer done()
	var n int64
	err = db.QueryRow("SELECT coalesce(sum(refund_fen), 0) FROM refunds WHERE out_trade_no = ? AND state <> ?",
		outTradeNo, RefundFailed.String()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: read refunds of %s: %w", outTradeNo, err)
	}
	return money.Fen(n), nil
}
