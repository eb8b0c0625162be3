package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Shift is one cashier's shift (交接班). At most one is open at a time.
type Shift struct {
	ID       int64     `json:"id"`
	Cashier  string    `json:"cashier"`
	OpenedAt time.Time `json:"opened_at"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// Summary is the summary shown and printed at close, kept as it was
	// then (SummaryForShift recomputes it with today's states).
	Summary *Summary `json:"summary,omitempty"`
}

// Open reports whether the shift has not been closed.
func (sh Shift) Open() bool { return sh.ClosedAt.IsZero() }

// MaxCashierLen bounds a cashier's name (in characters).
const MaxCashierLen = 64

// OpenShift opens a shift for cashier; ErrShiftOpen while another is open.
func (s *Store) OpenShift(cashier string) (Shift, error) {
	cashier = strings.TrimSpace(cashier)
	if cashier == "" || utf8.RuneCountInString(cashier) > MaxCashierLen || !utf8.ValidString(cashier) {
		return Shift{}, fmt.Errorf("%w: a cashier's name is 1 to %d characters", ErrInvalid, MaxCashierLen)
	}
	sh := Shift{Cashier: cashier, OpenedAt: s.opts.now()}
	err := s.write(func(tx *sql.Tx) error {
		var id int64
		switch err := tx.QueryRow("SELECT id FROM shifts WHERE closed_ns IS NULL").Scan(&id); {
		case err == nil:
			return fmt.Errorf("%w (shift %d)", ErrShiftOpen, id)
		case err != sql.ErrNoRows:
			return fmt.Errorf("store: read shifts: %w", err)
		}
		res, err := tx.Exec("INSERT INTO shifts (cashier, opened_ns) VALUES (?, ?)", cashier, sh.OpenedAt.UnixNano())
		if err != nil {
			return fmt.Errorf("store: open shift: %w", err)
		}
		sh.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return Shift{}, err
	}
	return s.shift(sh.ID)
}

// CloseShift ends the open shift, keeping its summary; ErrNoShift if none is open.
func (s *Store) CloseShift() (Shift, error) {
	var id int64
	err := s.write(func(tx *sql.Tx) error {
		var opened int64
		switch err := tx.QueryRow("SELECT id, opened_ns FROM shifts WHERE closed_ns IS NULL").Scan(&id, &opened); {
		case err == sql.ErrNoRows:
			return fmt.Errorf("%w: no shift is open", ErrNoShift)
		case err != nil:
			return fmt.Errorf("store: read shifts: %w", err)
		}
		closed := s.opts.now()
		if closed.UnixNano() <= opened {
			closed = time.Unix(0, opened+1)
		}
		sum, err := summarize(tx, time.Unix(0, opened).In(China), closed.In(China))
		if err != nil {
			return err
		}
		js, err := json.Marshal(sum)
		if err != nil {
			return fmt.Errorf("store: encode shift summary: %w", err)
		}
		if _, err := tx.Exec("UPDATE shifts SET closed_ns = ?, summary = ? WHERE id = ?", closed.UnixNano(), string(js), id); err != nil {
			return fmt.Errorf("store: close shift %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Shift{}, err
	}
	return s.shift(id)
}

// CurrentShift returns the open shift, if any.
func (s *Store) CurrentShift() (Shift, bool, error) {
	list, err := s.queryShifts("WHERE closed_ns IS NULL")
	if err != nil || len(list) == 0 {
		return Shift{}, false, err
	}
	return list[0], true, nil
}

// Shifts returns up to limit shifts, newest first (limit <= 0: all kept).
func (s *Store) Shifts(limit int) ([]Shift, error) {
	if limit <= 0 {
		limit = -1
	}
	return s.queryShifts("ORDER BY opened_ns DESC, id DESC LIMIT ?", limit)
}

// SummaryForShift returns the summary of shift id as the store stands now:
// from its opening to its close (an open shift: to now).
func (s *Store) SummaryForShift(id int64) (Summary, error) {
	sh, err := s.shift(id)
	if err != nil {
		return Summary{}, err
	}
	to := sh.ClosedAt
	if sh.Open() {
		to = s.opts.now()
	}
	return s.Summary(sh.OpenedAt, to)
}

func (s *Store) shift(id int64) (Shift, error) {
	list, err := s.queryShifts("WHERE id = ?", id)
	if err != nil {
		return Shift{}, err
	}
	if len(list) == 0 {
		return Shift{}, fmt.Errorf("%w: %d", ErrNoShift, id)
	}
	return list[0], nil
}

func (s *Store) queryShifts(where string, args ...any) ([]Shift, error) {
	db, done, err := s.reader()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := db.Query("SELECT id, cashier, opened_ns, closed_ns, summary FROM shifts "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query shifts: %w", err)
	}
	defer rows.Close()
	var out []Shift
	for rows.Next() {
		var sh Shift
		var opened int64
		var closed sql.NullInt64
		var summary sql.NullString
		if err := rows.Scan(&sh.ID, &sh.Cashier, &opened, &closed, &summary); err != nil {
			return out, fmt.Errorf("store: read shifts: %w", err)
		}
		sh.OpenedAt = time.Unix(0, opened).In(China)
		if closed.Valid {
			sh.ClosedAt = time.Unix(0, closed.Int64).In(China)
		}
		if summary.Valid {
			var sum Summary
			if err := json.Unmarshal([]byte(summary.String), &sum); err == nil {
				sh.Summary = &sum
			}
		}
		out = append(out, sh)
	}
	return out, rows.Err()
}
