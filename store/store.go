// Package store owns ScanBox's one durable record: orders, refunds and
// shifts, kept for at least 400 days in an SQLite database (pure-Go driver
// modernc.org/sqlite, WAL, synchronous=FULL). It keeps the journal's rule
// "durable before the bank hears of it": Append and AppendRefund return only
// after their transaction is committed and the WAL is fsynced. It answers the
// history, summary and shift queries. It must never talk to the bank, decide
// a payment's or refund's outcome, or drop an unresolved order or refund.
//
// Layout: DATA_DIR/store/scanbox.db (+ -wal, -shm while open) and
// DATA_DIR/store/lock, held with an exclusive OS lock while a Store is open,
// so a second ScanBox on the same data directory gets ErrLocked. When
// DATA_DIR/journal exists (a data directory of an older ScanBox), its lock is
// held as well, so an old ScanBox cannot start writing a journal beside us.
//
// Migration: on Open, an old DATA_DIR/journal/orders.log is imported (the
// newest record of every out_trade_no, in one transaction, unknown fields
// kept) and then renamed aside to orders.log.migrated-<time>; it is never
// deleted. A kill between the steps is harmless: the import is an upsert that
// never replaces a newer state, and the rename is retried on the next Open.
//
// Retention: resolved orders, refunds and closed shifts older than the
// horizon (WithRetention, default 431 days, never below 400) are pruned on
// Open and by Prune; unresolved ones are kept however old, and an order is
// kept while any of its refunds is.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scanbox/scanbox/internal/filelock"
	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/order"

	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
)

var (
	// ErrLocked means another process (or another Store in this process)
	// has the data directory open. It is journal.ErrLocked, so callers that
	// check for the journal's sentinel keep working after the swap.
	ErrLocked = journal.ErrLocked
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("store: closed")
	// ErrInvalid is returned for a record that cannot be stored.
	ErrInvalid = errors.New("store: invalid record")
	// ErrBroken means an earlier write failed in a way that leaves the
	// database's durable content unknown; the process must restart.
	ErrBroken = errors.New("store: unusable since an earlier write failure (restart ScanBox)")
	// ErrTooNew means the database was written by a newer ScanBox whose
	// schema this version does not know.
	ErrTooNew = errors.New("store: the database was written by a newer ScanBox")
	// ErrShiftOpen: OpenShift while a shift is open.
	ErrShiftOpen = errors.New("a shift is already open")
	// ErrNoShift: CloseShift or SummaryForShift without such a shift.
	ErrNoShift = errors.New("no such shift")
)

const (
	// MinRetention is the shortest history kept: every day's summary and
	// reconciliation must stay possible for a year and a bit.
	MinRetention = 400 * 24 * time.Hour
	// DefaultRetention adds a month of margin to MinRetention.
	DefaultRetention = MinRetention + 31*24*time.Hour

	subdir     = "store"
	dbName     = "scanbox.db"
	lockName   = "lock"
	journalDir = "journal"
)

// Option configures Open.
type Option func(*options)

type options struct {
	retention time.Duration
	logger    *slog.Logger
	now       func() time.Time
	// checkpointPages is SQLite's wal_autocheckpoint (0: its default of
	// 1000 pages); the kill tests lower it so kills land in checkpoints.
	checkpointPages int
}

// WithRetention sets how long resolved rows are kept (raised to MinRetention).
func WithRetention(d time.Duration) Option {
	return func(o *options) { o.retention = max(d, MinRetention) }
}

// WithLogger sets where migrations, pruning and damage are reported.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithClock replaces time.Now for pruning and shifts (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// withCheckpointPages sets wal_autocheckpoint (tests).
func withCheckpointPages(n int) Option { return func(o *options) { o.checkpointPages = n } }

// Store is the open database. It is safe for concurrent use.
type Store struct {
	dir   string // DATA_DIR/store
	data  string // DATA_DIR
	opts  options
	log   *slog.Logger
	locks []*os.File

	// w is the one writing connection; wmu serialises writers so that a
	// Go-level error (e.g. a failed commit) is seen by exactly one caller
	// and the sticky broken state is set before the next write starts.
	w      *sql.DB
	wmu    sync.Mutex
	broken error
	// r serves reads from other connections: in WAL mode readers never
	// wait for a writer's fsync.
	r *sql.DB

	closeMu sync.RWMutex
	closed  bool

	win window // the newest orders, decoded (window.go)

	// unres holds every unresolved order, decoded: the runner asks for them
	// (FindUnresolvedByCodeHash) before every payment. Updated after each
	// commit under wmu, like win.
	unresMu sync.RWMutex
	unres   map[string]*wEntry
	// unresSorted is Unresolved's answer, nil once unres has changed.
	unresSorted []order.Order
	// extraOrders are the orders whose stored document has fields this
	// version does not know (few or none): only their Appends read the old
	// document to carry those fields over. Guarded by wmu.
	extraOrders map[string]bool
	// stUpsertID is the order upsert, prepared once on the writing connection.
	stUpsertID *sql.Stmt
	// stUpdate rewrites a row known by its id (Append's second write of a
	// payment), prepared likewise.
	stUpdate *sql.Stmt
	// stInsert adds a new order (Append's first write of a payment).
	stInsert *sql.Stmt
	// packedBefore: every resolved order created before it (ns) has a
	// deflated document; newer ones may be plain JSON until Prune's
	// compaction passes them (compact.go). Guarded by wmu.
	packedBefore int64
}

// Open opens (creating if needed) the store in DATA_DIR dir, takes the
// exclusive lock, applies schema migrations, imports an old journal, and
// prunes rows past the retention horizon.
func Open(dir string, opts ...Option) (*Store, error) {
	o := options{retention: DefaultRetention, logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, fn := range opts {
		fn(&o)
	}
	sdir := filepath.Join(dir, subdir)
	if _, err := os.Stat(sdir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(sdir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", sdir, err)
		}
		// The directory's own entry must be durable, or a power cut could
		// take the database (and its first orders) away.
		if err := filelock.SyncDir(dir); err != nil {
			return nil, fmt.Errorf("store: sync %s: %w", dir, err)
		}
	}
	s := &Store{dir: sdir, data: dir, opts: o, log: o.logger.With("component", "store")}
	lock, err := takeLock(filepath.Join(sdir, lockName), dir)
	if err != nil {
		return nil, err
	}
	s.locks = append(s.locks, lock)
	fail := func(err error) (*Store, error) {
		s.release()
		return nil, err
	}
	if err := s.openDB(); err != nil {
		return fail(err)
	}
	if err := s.migrateSchema(); err != nil {
		return fail(err)
	}
	if err := s.importJournal(); err != nil {
		return fail(err)
	}
	// Hold the old journal's lock too (if that directory exists), so an old
	// ScanBox started on this data directory is refused instead of taking
	// payments into a journal nobody reads.
	if _, err := os.Stat(filepath.Join(dir, journalDir)); err == nil && len(s.locks) == 1 {
		jl, err := takeLock(filepath.Join(dir, journalDir, lockName), dir)
		if err != nil {
			return fail(err)
		}
		s.locks = append(s.locks, jl)
	}
	if err := s.loadMemory(); err != nil {
		return fail(err)
	}
	// A failed prune is a failed write (the store would refuse every later
	// one, see writeThen): better to say so now than at the first payment.
	if _, err := s.Prune(); err != nil {
		return fail(err)
	}
	return s, nil
}

// loadMemory prepares the hot statement and loads the in-memory sets.
func (s *Store) loadMemory() error {
	var err error
	if s.stUpsertID, err = s.w.Prepare(upsertOrderSQL + " RETURNING id"); err != nil {
		return fmt.Errorf("store: prepare: %w", err)
	}
	if s.stUpdate, err = s.w.Prepare(updateOrderSQL); err != nil {
		return fmt.Errorf("store: prepare: %w", err)
	}
	if s.stInsert, err = s.w.Prepare(insertOrderSQL); err != nil {
		return fmt.Errorf("store: prepare: %w", err)
	}
	if err := s.loadPackedBefore(); err != nil {
		return err
	}
	s.extraOrders = map[string]bool{}
	rows, err := s.w.Query("SELECT out_trade_no FROM orders WHERE extra = 1")
	if err != nil {
		return fmt.Errorf("store: read orders: %w", err)
	}
	for rows.Next() {
		var no string
		if err := rows.Scan(&no); err != nil {
			rows.Close()
			return fmt.Errorf("store: read orders: %w", err)
		}
		s.extraOrders[no] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: read orders: %w", err)
	}
	s.unres = map[string]*wEntry{}
	rows, err = s.w.Query("SELECT id, created_ns, doc FROM orders WHERE terminal = 0")
	if err != nil {
		return fmt.Errorf("store: read unresolved orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := &wEntry{}
		var packed []byte
		if err := rows.Scan(&e.id, &e.created, &packed); err != nil {
			return fmt.Errorf("store: read unresolved orders: %w", err)
		}
		o, err := decodeOrder(packed)
		if err != nil {
			s.log.Warn("unresolved order left out: this version cannot read it", "err", err)
			continue
		}
		e.o = o
		s.unres[o.OutTradeNo] = e
	}
	return rows.Err()
}

// takeLock opens and locks path, writing our PID into it as a hint.
func takeLock(path, dataDir string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open lock file: %w", err)
	}
	if err := filelock.Lock(f); err != nil {
		owner := readOwner(f)
		f.Close()
		if errors.Is(err, filelock.ErrWouldBlock) {
			return nil, fmt.Errorf("store: %w %s%s; close it first", ErrLocked, dataDir, owner)
		}
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	// The PID is only a hint for the ErrLocked message; failure is harmless.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())), 0)
	}
	return f, nil
}

func readOwner(f *os.File) string {
	b := make([]byte, 16)
	n, _ := f.ReadAt(b, 0)
	if pid, err := strconv.Atoi(string(b[:n])); err == nil && pid > 0 {
		return fmt.Sprintf(" (process %d)", pid)
	}
	return ""
}

// dsn builds the connection string. Every connection gets the pragmas:
// WAL (readers never block the writer), synchronous=FULL (the WAL is fsynced
// at every commit: a returned Append survives a power cut, not only a
// crash), a busy timeout for the moment a checkpoint and a reader meet, and
// secure_delete=FAST (what an update or delete frees inside a page is zeroed,
// so e.g. a dropped legacy code hash does not linger in the page).
func (s *Store) dsn(readOnly bool) string {
	// A URI filename: '%', '?' and '#' in a data directory's path (a
	// Windows user name may hold them) must be escaped, or SQLite would
	// read them as escapes, the query or the fragment.
	path := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(filepath.Join(s.dir, dbName)))
	q := "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)" +
		"&_pragma=cache_size(-8000)&_pragma=secure_delete(FAST)"
	if s.opts.checkpointPages > 0 {
		q += fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", s.opts.checkpointPages)
	}
	if readOnly {
		q += "&_pragma=query_only(1)"
	} else {
		q += "&_txlock=immediate"
	}
	return "file:" + path + q
}

func (s *Store) openDB() error {
	// Commit with fdatasync(2) rather than fsync(2) where there is one
	// (Linux and the BSDs; elsewhere this is refused and nothing changes).
	// fdatasync writes the data and the metadata needed to read it back,
	// the file's size included, and skips only the timestamps: what it
	// makes durable is what fsync makes durable for SQLite, which syncs
	// with fdatasync in every Linux distribution's build (this transpiled
	// library keeps the source default, fsync). On ext4 a WAL commit then
	// no longer waits for a journal commit of the file's mtime. The switch
	// is process-wide; the store is the only SQLite user in ScanBox.
	sqlite.Fdatasync(true)
	w, err := sql.Open("sqlite", s.dsn(false))
	if err != nil {
		return fmt.Errorf("store: open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	s.w = w
	// The first connection creates the file, switches it to WAL and reads
	// (or replays) the WAL: a damaged database surfaces here.
	var mode string
	if err := w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("store: open %s: %w", filepath.Join(s.dir, dbName), err)
	}
	if mode != "wal" {
		return fmt.Errorf("store: %s is in journal mode %q, want wal", dbName, mode)
	}
	var syncMode int
	if err := w.QueryRow("PRAGMA synchronous").Scan(&syncMode); err != nil || syncMode != 2 {
		return fmt.Errorf("store: synchronous is %d (%v), want FULL (2)", syncMode, err)
	}
	r, err := sql.Open("sqlite", s.dsn(true))
	if err != nil {
		return fmt.Errorf("store: open database: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.r = r
	return nil
}

// write is writeThen without an after step.
func (s *Store) write(fn func(tx *sql.Tx) error) error { return s.writeThen(fn, nil) }

// writeThen runs fn in one immediate transaction on the writing connection and
// commits it. Any failure of the statements or of the commit leaves the
// store broken (sticky): after a failed write or fsync the durable content
// is unknown, and carrying on could acknowledge an order that is not on disk.
// Validation errors must be returned before calling write.
//
// after, if not nil, runs once the commit succeeded, still under the write
// lock, so in-memory state follows the commits in their order.
func (s *Store) writeThen(fn func(tx *sql.Tx) error, after func()) error {
	return s.writeLocked(func() error { return s.inTx(fn) }, after)
}

// inTx runs fn in one immediate transaction on the writing connection and
// commits it. Called with wmu held.
func (s *Store) inTx(fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// writeLocked runs the write fn under the write lock with writeThen's rules:
// a refusal leaves the store usable, any other error makes it broken, and
// after runs only once fn succeeded. fn must have committed (and so fsynced)
// everything it wrote when it returns nil; Append's single-statement path
// uses it directly, its statement being its own transaction.
func (s *Store) writeLocked(fn func() error, after func()) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.broken != nil {
		return fmt.Errorf("%w: %w", ErrBroken, s.broken)
	}
	if err := fn(); err != nil {
		if !isRefusal(err) {
			s.broken = err
		}
		return err
	}
	if after != nil {
		after()
	}
	return nil
}

// isRefusal tells a record refused before anything was written (the store
// stays usable) from a failed write.
func isRefusal(err error) bool {
	for _, e := range []error{ErrInvalid, ErrOverRefund, ErrNotRefundable, ErrShiftOpen, ErrNoShift} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// reader returns the read pool, or ErrClosed.
func (s *Store) reader() (*sql.DB, func(), error) {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, nil, ErrClosed
	}
	return s.r, s.closeMu.RUnlock, nil
}

// Close checkpoints and closes the database and releases the locks.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.r != nil {
		err = s.r.Close()
	}
	if s.w != nil {
		if cerr := s.w.Close(); err == nil {
			err = cerr
		}
	}
	s.release()
	return err
}

func (s *Store) release() {
	if s.r != nil && !s.closed {
		s.r.Close()
	}
	if s.w != nil && !s.closed {
		s.w.Close()
	}
	for _, f := range s.locks {
		filelock.Unlock(f)
		f.Close()
	}
	s.locks = nil
}

// Path is the database file (for support and the size benchmark).
func (s *Store) Path() string { return filepath.Join(s.dir, dbName) }
