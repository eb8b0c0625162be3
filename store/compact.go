package store

import (
	"database/sql"
	"fmt"
	"strconv"
)

// Compaction. A payment writes its order twice (pending, then its outcome),
// and deflating the document (docDeflate) was about a fifth of the CPU of
// each of those durable writes, mostly compress/flate resetting its tables
// for a 550-byte input. So Append stores a recent order's document as plain
// JSON (docRaw, which every version of the reader has read), and Prune,
// daily and at Open, deflates the documents of the resolved orders written
// since its last run, which keeps a year of history as small as before.
//
// The mark packedBefore (meta key metaPackedBefore) says how far that has
// gone: every resolved order created before it has a deflated document.
// Append keeps that true by deflating the document of a resolved order
// created before the mark (an old order resolved late: rare), and Prune
// compacts [old mark, now) and moves the mark in the same transaction.
//
// A database without the mark was written by a version that deflated every
// document (or is new): the mark starts at the moment it is opened, and
// Open's Prune writes it before the first Append.
const metaPackedBefore = "packed_before_ns"

// loadPackedBefore reads the mark into s.packedBefore.
func (s *Store) loadPackedBefore() error {
	var v string
	err := s.w.QueryRow("SELECT value FROM meta WHERE key = ?", metaPackedBefore).Scan(&v)
	if err == sql.ErrNoRows {
		s.packedBefore = s.opts.now().UnixNano()
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read %s: %w", metaPackedBefore, err)
	}
	if s.packedBefore, err = strconv.ParseInt(v, 10, 64); err != nil {
		return fmt.Errorf("store: %s is %q: %w", metaPackedBefore, v, err)
	}
	return nil
}

// compact deflates the plain documents of the resolved orders created in
// [s.packedBefore, until) and stores until as the new mark (never moving it
// back, should the clock). It returns the new mark and how many documents
// it deflated; the caller sets s.packedBefore once tx is committed.
func (s *Store) compact(tx *sql.Tx, until int64) (int64, int64, error) {
	until = max(until, s.packedBefore)
	type raw struct {
		id  int64
		doc []byte
	}
	var todo []raw
	rows, err := tx.Query(`SELECT id, doc FROM orders WHERE created_ns >= ? AND created_ns < ? AND terminal = 1`,
		s.packedBefore, until)
	if err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	for rows.Next() {
		var r raw
		if err := rows.Scan(&r.id, &r.doc); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("store: compact: %w", err)
		}
		if len(r.doc) > 0 && r.doc[0] == '{' {
			todo = append(todo, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	if len(todo) > 0 {
		st, err := tx.Prepare("UPDATE orders SET doc = ? WHERE id = ?")
		if err != nil {
			return 0, 0, fmt.Errorf("store: compact: %w", err)
		}
		defer st.Close()
		for _, r := range todo {
			if _, err := st.Exec(packDoc(r.doc), r.id); err != nil {
				return 0, 0, fmt.Errorf("store: compact: %w", err)
			}
		}
	}
	if _, err := tx.Exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
		metaPackedBefore, strconv.FormatInt(until, 10)); err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	return until, int64(len(todo)), nil
}
