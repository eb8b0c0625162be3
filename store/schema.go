package store

import (
	"fmt"
)

// migrations is the schema's history: migrations[i] takes the database from
// user_version i to i+1. Entries are only ever appended, never edited: a
// database in the field may stand at any of them. Each runs in one
// transaction together with its user_version bump, so a kill leaves the
// schema at a whole version. (A migration tool would bring a dependency and
// its own bookkeeping table for what is a handful of DDL statements.)
var migrations = []string{
	// 1: orders, refunds, shifts, meta.
	//
	// doc holds the whole record (see doc.go) so that fields this version
	// does not know survive; the other columns are what queries need.
	// extra=1 marks a doc with keys unknown to this version, which an
	// update must carry over. terminal=1 means resolved (a definite answer).
	`CREATE TABLE orders (
		id INTEGER PRIMARY KEY,
		out_trade_no TEXT NOT NULL UNIQUE,
		state TEXT NOT NULL,
		terminal INTEGER NOT NULL,
		channel TEXT NOT NULL,
		amount_fen INTEGER NOT NULL,
		created_ns INTEGER NOT NULL,
		updated_ns INTEGER NOT NULL,
		extra INTEGER NOT NULL DEFAULT 0,
		doc BLOB NOT NULL
	);
	CREATE INDEX orders_created ON orders(created_ns);
	CREATE INDEX orders_unresolved ON orders(created_ns) WHERE terminal = 0;
	CREATE INDEX orders_extra ON orders(out_trade_no) WHERE extra = 1;
	CREATE TABLE refunds (
		id INTEGER PRIMARY KEY,
		out_refund_no TEXT NOT NULL UNIQUE,
		out_trade_no TEXT NOT NULL,
		state TEXT NOT NULL,
		terminal INTEGER NOT NULL,
		refund_fen INTEGER NOT NULL,
		created_ns INTEGER NOT NULL,
		updated_ns INTEGER NOT NULL,
		extra INTEGER NOT NULL DEFAULT 0,
		doc BLOB NOT NULL
	);
	CREATE INDEX refunds_order ON refunds(out_trade_no);
	CREATE INDEX refunds_created ON refunds(created_ns);
	CREATE INDEX refunds_unresolved ON refunds(created_ns) WHERE terminal = 0;
	CREATE TABLE shifts (
		id INTEGER PRIMARY KEY,
		cashier TEXT NOT NULL,
		opened_ns INTEGER NOT NULL,
		closed_ns INTEGER,
		summary TEXT
	);
	CREATE UNIQUE INDEX shifts_one_open ON shifts(closed_ns IS NULL) WHERE closed_ns IS NULL;
	CREATE INDEX shifts_opened ON shifts(opened_ns);
	CREATE TABLE meta (
		key TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) WITHOUT ROWID;`,
}

// schemaVersion is the version this build writes.
var schemaVersion = len(migrations)

// migrateSchema brings the database to schemaVersion, refusing one that is newer.
func (s *Store) migrateSchema() error {
	var v int
	if err := s.w.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("%w (schema %d, this version knows %d); install the newer ScanBox again", ErrTooNew, v, schemaVersion)
	}
	for ; v < schemaVersion; v++ {
		tx, err := s.w.Begin()
		if err != nil {
			return fmt.Errorf("store: migrate to schema %d: %w", v+1, err)
		}
		if _, err := tx.Exec(migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migrate to schema %d: %w", v+1, err)
		}
		// PRAGMA cannot take a bound parameter; v+1 is our own integer.
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migrate to schema %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migrate to schema %d: %w", v+1, err)
		}
		s.log.Info("database schema migrated", "version", v+1)
	}
	return nil
}
