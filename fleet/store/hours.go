package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Opening hours. A terminal raises the "offline" alert only while its shop
// is open: a shop that closed at night is not an incident. Hours are set
// per scope like the configuration (all terminals, a group, one terminal;
// the narrowest set scope wins) and default to DefaultOpeningHours. They
// are the same every day and in China Standard Time (UTC+8, no daylight
// saving), the bank's time. Whether a terminal is online is a fact and
// does not depend on them.

// ChinaTime is the zone opening hours are in.
var ChinaTime = time.FixedZone("CST", 8*3600)

// OpeningHours is a daily interval [Open, Close) in minutes after
// midnight. Close may be 1440 (24:00); Close < Open spans midnight
// (22:00-02:00); 00:00-24:00 is always open.
type OpeningHours struct{ Open, Close int }

// DefaultOpeningHours applies where no scope sets hours: 08:00-22:00.
var DefaultOpeningHours = OpeningHours{8 * 60, 22 * 60}

// ErrBadHours is returned for opening hours that do not parse.
var ErrBadHours = errors.New("store: opening hours must look like 08:00-22:00")

// ParseOpeningHours reads "HH:MM-HH:MM".
func ParseOpeningHours(s string) (OpeningHours, error) {
	a, b, ok := strings.Cut(strings.ReplaceAll(strings.TrimSpace(s), " ", ""), "-")
	if !ok {
		return OpeningHours{}, ErrBadHours
	}
	o, err1 := parseClock(a)
	c, err2 := parseClock(b)
	if err1 != nil || err2 != nil || o == c || o == 1440 {
		return OpeningHours{}, ErrBadHours
	}
	return OpeningHours{o, c}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(m) != 2 || len(h) < 1 || len(h) > 2 {
		return 0, ErrBadHours
	}
	hh, err := strconv.Atoi(h)
	if err != nil {
		return 0, ErrBadHours
	}
	mm, err := strconv.Atoi(m)
	if err != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, ErrBadHours
	}
	return hh*60 + mm, nil
}

func (h OpeningHours) String() string {
	f := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	return f(h.Open) + "-" + f(h.Close)
}

// Contains says whether the shop is open at t.
func (h OpeningHours) Contains(t time.Time) bool {
	return minuteInHours(minuteOfDay(t), h.Open, h.Close)
}

func minuteOfDay(t time.Time) int {
	c := t.In(ChinaTime)
	return c.Hour()*60 + c.Minute()
}

func minuteInHours(m, open, close int) bool {
	if open <= close {
		return m >= open && m < close
	}
	return m >= open || m < close
}

// inHoursSQL is minuteInHours on a terminal row; its four parameters are
// the minute of the day (minuteOfDay).
const inHoursSQL = `((open_min <= close_min AND ? >= open_min AND ? < close_min) OR (open_min > close_min AND (? >= open_min OR ? < close_min)))`

func inHoursArgs(now time.Time) []any {
	m := minuteOfDay(now)
	return []any{m, m, m, m}
}

// HoursEntry is the opening hours set on one scope.
type HoursEntry struct {
	Scope, Key string
	Hours      OpeningHours
	UpdatedBy  string
	UpdatedAt  time.Time
}

// SetOpeningHours sets (hours != nil) or removes (nil: the wider scope's
// apply again) the opening hours of a scope, and updates the effective
// hours of every terminal the scope covers in the same transaction.
func (s *Store) SetOpeningHours(ctx context.Context, scope, key string, hours *OpeningHours, by string) error {
	if scope != ScopeAll && scope != ScopeGroup && scope != ScopeTerminal {
		return fmt.Errorf("store: hours scope %q", scope)
	}
	if scope == ScopeAll {
		key = ""
	}
	err := s.tx(ctx, func(t *txn) error {
		var err error
		if hours == nil {
			_, err = t.exec(ctx, `DELETE FROM opening_hours WHERE scope=? AND scope_key=?`, scope, key)
		} else {
			_, err = t.exec(ctx, `INSERT INTO opening_hours(scope, scope_key, open_min, close_min, updated_by, updated_at) VALUES(?,?,?,?,?,?)
ON CONFLICT (scope, scope_key) DO UPDATE SET open_min=excluded.open_min, close_min=excluded.close_min, updated_by=excluded.updated_by, updated_at=excluded.updated_at`,
				scope, key, hours.Open, hours.Close, by, unix(time.Now()))
		}
		if err != nil {
			return err
		}
		switch scope {
		case ScopeAll:
			return t.refreshHours(ctx, "", nil)
		case ScopeGroup:
			return t.refreshHours(ctx, " WHERE group_name=?", []any{key})
		default:
			return t.refreshHours(ctx, " WHERE uid=?", []any{key})
		}
	})
	if err != nil {
		return fmt.Errorf("store: opening hours: %w", err)
	}
	return nil
}

// refreshHours recomputes the effective hours of the terminals matching
// where: the terminal's own, else its group's, else all terminals', else
// the default.
func (t *txn) refreshHours(ctx context.Context, where string, args []any) error {
	pick := func(col string, def int) string {
		return `COALESCE((SELECT ` + col + ` FROM opening_hours h WHERE h.scope='terminal' AND h.scope_key=terminals.uid),
(SELECT ` + col + ` FROM opening_hours h WHERE h.scope='group' AND terminals.group_name<>'' AND h.scope_key=terminals.group_name),
(SELECT ` + col + ` FROM opening_hours h WHERE h.scope='all' AND h.scope_key=''), ` + strconv.Itoa(def) + `)`
	}
	_, err := t.exec(ctx, `UPDATE terminals SET open_min=`+pick("open_min", DefaultOpeningHours.Open)+`, close_min=`+pick("close_min", DefaultOpeningHours.Close)+where, args...)
	return err
}

// ListOpeningHours returns every scope that sets hours.
func (s *Store) ListOpeningHours(ctx context.Context) ([]HoursEntry, error) {
	rows, err := s.query(ctx, `SELECT scope, scope_key, open_min, close_min, updated_by, updated_at FROM opening_hours ORDER BY scope, scope_key`)
	if err != nil {
		return nil, fmt.Errorf("store: opening hours: %w", err)
	}
	defer rows.Close()
	var out []HoursEntry
	for rows.Next() {
		var e HoursEntry
		var at int64
		if err := rows.Scan(&e.Scope, &e.Key, &e.Hours.Open, &e.Hours.Close, &e.UpdatedBy, &at); err != nil {
			return nil, err
		}
		e.UpdatedAt = time.Unix(at, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
