package core

import (
	"errors"

	"github.com/scanbox/scanbox/store"
)

// ErrNoHistory: the money record in use keeps no history (an old journal
// swapped in through OpenJournal, as some tests do); summaries, shifts,
// refunds and date queries need the store.
var ErrNoHistory = errors.New("this data directory's record keeps no history (summaries, shifts, refunds); it needs the store")

// Store is the money record as the SQLite store, for history: summaries,
// shifts, refunds, date queries. It is the same object as Journal, not a
// second connection: one process, one writer.
func (c *Core) Store() (*store.Store, error) {
	if s, ok := c.journal.(*store.Store); ok {
		return s, nil
	}
	return nil, ErrNoHistory
}

// ShiftStatus is the open shift in `status --json`.
type ShiftStatus struct {
	ID       int64  `json:"id"`
	Cashier  string `json:"cashier"`
	OpenedAt string `json:"opened_at"` // RFC 3339, China time
}
