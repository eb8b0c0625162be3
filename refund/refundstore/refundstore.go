// Package refundstore adapts the SQLite store (package store) to the refund
// runner's Store interface. It only converts records and errors; it must
// never decide anything about a refund, and it keeps store's guarantees as
// they are (AppendRefund durable before it returns, the remainder checked
// again in the insert's transaction).
package refundstore

import (
	"errors"
	"fmt"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/store"
)

// Adapter is a refund.Store over a *store.Store.
type Adapter struct{ s *store.Store }

var _ refund.Store = (*Adapter)(nil)

// New wraps s.
func New(s *store.Store) *Adapter { return &Adapter{s: s} }

// ToStore converts a refund to the store's record. The runner's
// drive-local fields (TotalFen, Deadline, Sends) are not kept: TotalFen is
// the order's amount, filled again from the order when the refund is taken
// up, and a resumed drive starts its own Deadline and Sends.
func ToStore(r refund.Refund) store.Refund {
	st, _ := store.ParseRefundState(r.State.String())
	return store.Refund{OutRefundNo: r.OutRefundNo, OutTradeNo: r.OutTradeNo, RefundFen: r.RefundFen, State: st,
		RefundID: r.RefundID, Reason: r.Reason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, SentAt: r.SentAt,
		ErrCode: r.ErrCode, Message: r.Message, MchID: r.MchID, TerminalID: r.TerminalID}
}

// FromStore converts the store's record to a refund.
func FromStore(r store.Refund) refund.Refund {
	st, _ := refund.ParseState(r.State.String())
	return refund.Refund{OutRefundNo: r.OutRefundNo, OutTradeNo: r.OutTradeNo, RefundFen: r.RefundFen, State: st,
		RefundID: r.RefundID, Reason: r.Reason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, SentAt: r.SentAt,
		ErrCode: r.ErrCode, Message: r.Message, MchID: r.MchID, TerminalID: r.TerminalID}
}

func fromStore(rs []store.Refund, err error) ([]refund.Refund, error) {
	if err != nil {
		return nil, err
	}
	out := make([]refund.Refund, len(rs))
	for i, r := range rs {
		out[i] = FromStore(r)
	}
	return out, nil
}

// AppendRefund stores r durably; the store's refusals match the runner's
// sentinels (refund.ErrOverRefund, refund.ErrNotPaid).
func (a *Adapter) AppendRefund(r refund.Refund) error {
	if r.State == refund.StateInvalid {
		return fmt.Errorf("refundstore: refund %s has no state", r.OutRefundNo)
	}
	err := a.s.AppendRefund(ToStore(r))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrOverRefund):
		return fmt.Errorf("%w (%w)", refund.ErrOverRefund, err)
	case errors.Is(err, store.ErrNotRefundable):
		return fmt.Errorf("%w (%w)", refund.ErrNotPaid, err)
	}
	return err
}

func (a *Adapter) GetRefund(no string) (refund.Refund, bool, error) {
	r, ok, err := a.s.GetRefund(no)
	return FromStore(r), ok, err
}

func (a *Adapter) RefundsOf(outTradeNo string) ([]refund.Refund, error) {
	return fromStore(a.s.RefundsOf(outTradeNo))
}

func (a *Adapter) UnresolvedRefunds() ([]refund.Refund, error) {
	return fromStore(a.s.UnresolvedRefunds())
}

func (a *Adapter) Order(outTradeNo string) (order.Order, bool) { return a.s.Get(outTradeNo) }

// Recent lists up to n refunds, newest first (`scanbox refunds`).
func (a *Adapter) Recent(n int) ([]refund.Refund, error) { return fromStore(a.s.RecentRefunds(n)) }
