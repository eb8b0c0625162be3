package store

import (
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// Totals are the counts and sums of one channel, or of all.
type Totals struct {
	// PaidCount and PaidFen: orders in state paid.
	PaidCount int       `json:"paid_count"`
	PaidFen   money.Fen `json:"paid_fen"`
	// RefundCount and RefundedFen: refunds in state refunded.
	RefundCount int       `json:"refund_count"`
	RefundedFen money.Fen `json:"refunded_fen"`
	// NetFen is PaidFen less RefundedFen.
	NetFen money.Fen `json:"net_fen"`
	// Unresolved counts orders and refunds without a definite state yet:
	// the totals may still change by them.
	Unresolved int `json:"unresolved"`
	// ChangeCount and ChangeFen: refunds the bank's staff must settle by
	// hand (state change); in neither RefundedFen nor NetFen.
	ChangeCount int       `json:"change_count,omitempty"`
	ChangeFen   money.Fen `json:"change_fen,omitempty"`
}

// ChannelTotals are the Totals of one wallet (order.Channel's names; an order
// the bank has not named is counted under its guess, else OTHER).
type ChannelTotals struct {
	Channel string `json:"channel"`
	Totals
}

// Summary is a period's takings. Orders and refunds count in the period in
// which they were created.
type Summary struct {
	From     time.Time       `json:"from"`
	To       time.Time       `json:"to"`
	Total    Totals          `json:"total"`
	Channels []ChannelTotals `json:"channels"` // by channel name; only channels with rows
	// HourlyPaidFen is PaidFen by hour of the day, China time (a period
	// longer than a day folds onto the same 24 hours).
	HourlyPaidFen [24]money.Fen `json:"hourly_paid_fen"`
}

// Summary returns the totals of the orders and refunds created in [from, to).
func (s *Store) Summary(from, to time.Time) (Summary, error) {
	db, done, err := s.reader()
	if err != nil {
		return Summary{}, err
	}
	defer done()
	// One read transaction, so orders and refunds are of the same moment.
	tx, err := db.Begin()
	if err != nil {
		return Summary{}, fmt.Errorf("store: summary: %w", err)
	}
	defer tx.Rollback()
	return summarize(tx, from, to)
}

// SummaryOn returns the summary of the China-time calendar day of day.
func (s *Store) SummaryOn(day time.Time) (Summary, error) {
	from, to := DayBounds(day)
	return s.Summary(from, to)
}

const hourNs = int64(time.Hour)

func summarize(tx *sql.Tx, from, to time.Time) (Summary, error) {
	sum := Summary{From: from, To: to}
	lo, hi := bounds(from, to)
	by := map[string]*Totals{}
	get := func(ch string) *Totals {
		if ch == "" {
			ch = order.ChannelOther.String()
		}
		t := by[ch]
		if t == nil {
			t = &Totals{}
			by[ch] = t
		}
		return t
	}
	// Hour of day in China time: +8 h, then modulo a day.
	rows, err := tx.Query(`SELECT channel, state, terminal, ((created_ns / ?) + 8) % 24, count(*), sum(amount_fen)
		FROM orders WHERE created_ns >= ? AND created_ns < ? GROUP BY 1, 2, 3, 4`, hourNs, lo, hi)
	if err != nil {
		return sum, fmt.Errorf("store: summary of orders: %w", err)
	}
	for rows.Next() {
		var ch, state string
		var terminal bool
		var hour, n, fen int64
		if err := rows.Scan(&ch, &state, &terminal, &hour, &n, &fen); err != nil {
			rows.Close()
			return sum, fmt.Errorf("store: summary of orders: %w", err)
		}
		t := get(ch)
		switch {
		case state == order.StatePaid.String():
			t.PaidCount += int(n)
			t.PaidFen += money.Fen(fen)
			if hour >= 0 && hour < 24 {
				sum.HourlyPaidFen[hour] += money.Fen(fen)
			}
		case !terminal:
			t.Unresolved += int(n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sum, fmt.Errorf("store: summary of orders: %w", err)
	}
	rows, err = tx.Query(`SELECT coalesce(o.channel, ''), r.state, r.terminal, count(*), sum(r.refund_fen)
		FROM refunds r LEFT JOIN orders o ON o.out_trade_no = r.out_trade_no
		WHERE r.created_ns >= ? AND r.created_ns < ? GROUP BY 1, 2, 3`, lo, hi)
	if err != nil {
		return sum, fmt.Errorf("store: summary of refunds: %w", err)
	}
	for rows.Next() {
		var ch, state string
		var terminal bool
		var n, fen int64
		if err := rows.Scan(&ch, &state, &terminal, &n, &fen); err != nil {
			rows.Close()
			return sum, fmt.Errorf("store: summary of refunds: %w", err)
		}
		t := get(ch)
		switch {
		case state == RefundRefunded.String():
			t.RefundCount += int(n)
			t.RefundedFen += money.Fen(fen)
		case state == RefundChange.String():
			t.ChangeCount += int(n)
			t.ChangeFen += money.Fen(fen)
		case !terminal:
			t.Unresolved += int(n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sum, fmt.Errorf("store: summary of refunds: %w", err)
	}
	names := make([]string, 0, len(by))
	for ch := range by {
		names = append(names, ch)
	}
	sort.Strings(names)
	sum.Channels = make([]ChannelTotals, 0, len(names))
	for _, ch := range names {
		t := by[ch]
		t.NetFen = t.PaidFen - t.RefundedFen
		sum.Channels = append(sum.Channels, ChannelTotals{Channel: ch, Totals: *t})
		sum.Total.PaidCount += t.PaidCount
		sum.Total.PaidFen += t.PaidFen
		sum.Total.RefundCount += t.RefundCount
		sum.Total.RefundedFen += t.RefundedFen
		sum.Total.Unresolved += t.Unresolved
		sum.Total.ChangeCount += t.ChangeCount
		sum.Total.ChangeFen += t.ChangeFen
	}
	sum.Total.NetFen = sum.Total.PaidFen - sum.Total.RefundedFen
	return sum, nil
}
