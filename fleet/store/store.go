// Package store is the fleet server's storage: staff, sessions, audit log,
// enrollment codes, terminals and their latest state, hourly roll-ups,
// alerts, remote configuration, log bundles and releases, on SQLite (the
// default, embedded, pure Go) or PostgreSQL (several `serve` instances
// sharing one database).
//
// Every piece of state lives here, none in a server process, so any number
// of instances can serve behind a load balancer. The schema is migrated with
// goose from embedded SQL, one directory per dialect. The store never holds
// a private key: release manifests arrive signed and are kept as they came.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // SQLite driver "sqlite", pure Go
)

//go:embed migrations
var migrations embed.FS

// Sentinel errors.
var (
	ErrNotFound    = errors.New("store: not found")
	ErrCodeInvalid = errors.New("store: enrollment code unknown or already used")
	ErrReplay      = errors.New("store: request timestamp not newer than the last one")
	ErrExists      = errors.New("store: already exists")
)

// Dialect is the database flavour.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Store is the database handle. For SQLite, writes go through one
// connection (SQLite has one writer; queuing in Go is cheaper than
// busy-waiting) and reads through a pool in WAL mode.
type Store struct {
	d Dialect
	w *sql.DB // writes (and reads inside write transactions)
	r *sql.DB // reads

	// Prepared statements by query text, per pool: SQLite spends a third
	// of a heartbeat parsing SQL otherwise. The set of query texts is
	// finite (filters combine a few fixed conditions).
	mu    sync.Mutex
	stmts map[stmtKey]*sql.Stmt
}

type stmtKey struct {
	read  bool
	query string
}

// prep returns the prepared statement for query on the read or write pool.
func (s *Store) prep(ctx context.Context, read bool, query string) (*sql.Stmt, error) {
	k := stmtKey{read, query}
	s.mu.Lock()
	st, ok := s.stmts[k]
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	db := s.w
	if read {
		db = s.r
	}
	st, err := db.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.stmts[k]; ok {
		st.Close()
		return old, nil
	}
	s.stmts[k] = st
	return st, nil
}

// Open opens dsn ("" = SQLite file fleet.db in dataDir; "postgres://..."
// or "postgresql://..." = PostgreSQL; "sqlite:PATH" = that SQLite file) and
// migrates the schema.
func Open(ctx context.Context, dsn, dataDir string) (*Store, error) {
	s := &Store{stmts: map[stmtKey]*sql.Stmt{}}
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s.d = Postgres
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
		s.w, s.r = db, db
	default:
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			if dataDir == "" {
				dataDir = "."
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("store: data dir: %w", err)
			}
			path = filepath.Join(dataDir, "fleet.db")
		}
		// synchronous=NORMAL in WAL mode: a crash loses at most the last
		// transactions, never corrupts; heartbeats are re-sent by agents
		// (they queue until acked), so that is the right trade for 830
		// writes a second. Nothing here is a money record.
		q := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
		w, err := sql.Open("sqlite", q)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		w.SetMaxOpenConns(1)
		r, err := sql.Open("sqlite", q)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
		r.SetMaxOpenConns(readConns)
		r.SetMaxIdleConns(readConns)
		s.w, s.r = w, r
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+s.d.String())
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	dialect := goose.DialectSQLite3
	if s.d == Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, s.w, sub)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if s.d == SQLite {
		// Planner statistics, so that a filter picks the right index
		// (PostgreSQL's autovacuum keeps its own).
		if _, err := s.w.ExecContext(ctx, "ANALYZE"); err != nil {
			return fmt.Errorf("store: analyze: %w", err)
		}
	}
	return nil
}

// Dialect reports the database flavour.
func (s *Store) Dialect() Dialect { return s.d }

// Close closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = map[stmtKey]*sql.Stmt{}
	s.mu.Unlock()
	err := s.w.Close()
	if s.r != s.w {
		if e := s.r.Close(); err == nil {
			err = e
		}
	}
	return err
}

// q rewrites '?' placeholders to '$n' for PostgreSQL. Queries in this
// package never contain a literal '?'.
func (s *Store) q(query string) string {
	if s.d != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.prep(ctx, false, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.prep(ctx, true, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.prep(ctx, true, query)
	if err != nil {
		// A failed prepare surfaces at Scan, as QueryRowContext's would.
		return s.r.QueryRowContext(ctx, s.q(query), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// tx runs f in a write transaction.
func (s *Store) tx(ctx context.Context, f func(*txn) error) error {
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	x := &txn{t: t, s: s}
	err = f(x)
	if err != nil {
		t.Rollback()
	} else if err = t.Commit(); err != nil {
		err = fmt.Errorf("store: commit: %w", err)
	}
	for _, q := range x.later {
		s.prep(ctx, false, q) // best effort: the raw query still works
	}
	return err
}

type txn struct {
	t     *sql.Tx
	s     *Store
	later []string // queries to prepare after the transaction
}

// stmt returns the cached prepared statement bound to the transaction, or
// nil the first time a query is seen: preparing it on the pool here would
// wait for a connection the transaction itself holds (SQLite has one), so
// it is noted and prepared after the transaction ends.
func (t *txn) stmt(ctx context.Context, query string) *sql.Stmt {
	t.s.mu.Lock()
	st, ok := t.s.stmts[stmtKey{false, query}]
	t.s.mu.Unlock()
	if !ok {
		t.later = append(t.later, query)
		return nil
	}
	return t.t.StmtContext(ctx, st)
}

func (t *txn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.t.ExecContext(ctx, t.s.q(query), args...)
}

func (t *txn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.t.QueryRowContext(ctx, t.s.q(query), args...)
}

func (t *txn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.t.QueryContext(ctx, t.s.q(query), args...)
}

func unix(t time.Time) int64 { return t.Unix() }

func nullTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.Unix(n.Int64, 0).UTC()
	return &t
}

// Optimize refreshes the SQLite planner's statistics (a bounded sample,
// so it takes milliseconds even with millions of roll-up rows): the
// statistics taken at start describe the fleet as it was then, and a
// terminals page planned for an empty table reads all 50,000 rows.
// PostgreSQL's autovacuum does this itself.
func (s *Store) Optimize(ctx context.Context) error {
	if s.d != SQLite {
		return nil
	}
	c, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: optimize: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "PRAGMA analysis_limit=1000"); err != nil {
		return fmt.Errorf("store: optimize: %w", err)
	}
	if _, err := c.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("store: optimize: %w", err)
	}
	// A connection reads the statistics when it opens: let the read
	// pool's idle connections go so that new ones plan with these.
	s.r.SetMaxIdleConns(0)
	s.r.SetMaxIdleConns(readConns)
	return nil
}

// readConns is the size of the SQLite read pool.
const readConns = 4
