// Package journal owns the durable order log behind "no money lost, none
// taken twice": every state change of an order is appended as a checksummed
// record and fsynced before Append returns, so an order is on disk before the
// first byte of its micropay leaves. It must never talk to the bank, decide a
// payment's outcome, or drop an unresolved order.
//
// Layout: DATA_DIR/journal/orders.log (the log) and DATA_DIR/journal/lock
// (held with an exclusive OS lock while a Journal is open, so a second
// ScanBox on the same data directory gets ErrLocked instead of interleaving
// writes).
//
// Repair policy on Open. "Intact" is the checksum's verdict: a record whose
// checksum holds is never dropped, whatever its JSON says.
//   - Damage at the end of the file (a record torn by a crash or power cut, or
//     one whose checksum fails and that no intact record follows) is cut away:
//     the file is first copied to orders.log.torn-<time> (the newest 5 such
//     copies are kept), then truncated to the end of the last intact record
//     and fsynced. The torn record's Append never returned, so nobody relied
//     on it.
//   - An intact record holding values this version does not know (a newer
//     version's pay channel or state, new fields: after a downgrade) is
//     read as far as it can be (an unknown channel shows as OTHER, an
//     unknown state counts as not definite, so the resolver asks the bank
//     first) and the unknown values are written back on every later record
//     of that order and on compaction. An intact record that is not an
//     order at all is kept verbatim.
//   - Damage in the middle (intact records follow it) is skipped: reading
//     resyncs at the next intact record, so later good records are never
//     dropped. The damaged file is first copied to orders.log.corrupt-<time>
//     for support, then the journal is rewritten clean. An order whose newest
//     record was in the damaged range falls back to its previous record
//     (e.g. pending instead of paid), which the resolver then re-queries.
//     That is safe; losing later records would not be.
//   - A file that is not a journal at all is refused with ErrCorrupt.
//
// Retention: unresolved orders (state not Terminal) are kept until resolved;
// of the resolved ones at least the newest N (WithRetain, default 1000,
// never below 100) are kept. Compaction rewrites the log to a temp file,
// fsyncs it, renames it over the log and fsyncs the directory, so a crash at
// any step leaves either the old or the new complete log.
package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/scanbox/scanbox/internal/filelock"
	"github.com/scanbox/scanbox/order"
	codescan "github.com/scanbox/scanbox/scan"
)

var (
	// ErrLocked means another process (or another Journal in this process)
	// has the data directory open.
	ErrLocked = errors.New("another ScanBox is using the data directory")
	// ErrClosed is returned by Append after Close.
	ErrClosed = errors.New("journal: closed")
	// ErrCorrupt means the log file is not a ScanBox journal; it is left untouched.
	ErrCorrupt = errors.New("journal: file is not a ScanBox journal")
	// ErrInvalid is returned by Append for an order that cannot be stored.
	ErrInvalid = errors.New("journal: invalid order")
)

const (
	// DefaultRetain is how many resolved orders are kept at least.
	DefaultRetain = 1000
	// MinRetain is the floor for WithRetain.
	MinRetain = 100

	subdir   = "journal"
	logName  = "orders.log"
	lockName = "lock"
	tmpName  = "orders.log.tmp"
)

// Option configures Open.
type Option func(*options)

type options struct {
	retain    int
	logger    *slog.Logger
	compactAt int // records in file that trigger compaction; 0 = derived from retain
}

// WithRetain sets how many resolved orders are kept at least (values below
// MinRetain are raised to MinRetain).
func WithRetain(n int) Option {
	return func(o *options) { o.retain = max(n, MinRetain) }
}

// WithLogger sets where repairs and compactions are reported.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// withCompactAt makes compaction run once the file holds n records (tests).
func withCompactAt(n int) Option { return func(o *options) { o.compactAt = n } }

// entry is one order in the in-memory index.
type entry struct {
	o   order.Order
	x   *extras // what this version could not read of its record; written back
	seq uint64  // order of first appearance: a stable tie-break for equal CreatedAt
}

// Journal is the open order log. It is safe for concurrent use.
type Journal struct {
	dir    string // DATA_DIR/journal
	path   string
	opts   options
	log    *slog.Logger
	lockF  *os.File
	nowFn  func() time.Time
	nextSq uint64

	// wmu serialises everything that writes the file (Append, Compact, Close),
	// so records reach the file in the order their index updates happen.
	wmu     sync.Mutex
	f       *os.File
	size    int64
	records int
	broken  error // sticky: a failed fsync leaves the file's content unknown
	closed  bool

	// mu guards the index; readers never wait for an fsync.
	mu        sync.RWMutex
	byNo      map[string]*entry
	byCreated []*entry // sorted by (CreatedAt, seq), oldest first
	// opaque holds intact records that are not orders this version can
	// read at all (wmu guards it); they are kept verbatim, never dropped.
	opaque [][]byte
}

// Open opens (creating if needed) the journal in DATA_DIR dir, takes the
// exclusive lock, and repairs the file as the package comment describes.
func Open(dir string, opts ...Option) (*Journal, error) {
	o := options{retain: DefaultRetain, logger: slog.New(slog.DiscardHandler)}
	for _, fn := range opts {
		fn(&o)
	}
	jdir := filepath.Join(dir, subdir)
	if _, err := os.Stat(jdir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(jdir, 0o700); err != nil {
			return nil, fmt.Errorf("journal: create %s: %w", jdir, err)
		}
		// Crash safety: the new directory's own entry must be durable too,
		// or a power cut could take the journal (and its first orders) away.
		if err := filelock.SyncDir(dir); err != nil {
			return nil, fmt.Errorf("journal: sync %s: %w", dir, err)
		}
	}
	lockF, err := os.OpenFile(filepath.Join(jdir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: open lock file: %w", err)
	}
	if err := filelock.Lock(lockF); err != nil {
		owner := readOwner(lockF)
		lockF.Close()
		if errors.Is(err, filelock.ErrWouldBlock) {
			return nil, fmt.Errorf("journal: %w %s%s; close it first", ErrLocked, dir, owner)
		}
		return nil, fmt.Errorf("journal: lock %s: %w", jdir, err)
	}
	// The PID is only a hint for the ErrLocked message; failure is harmless.
	if err := lockF.Truncate(0); err == nil {
		lockF.WriteAt([]byte(strconv.Itoa(os.Getpid())), 0)
	}

	j := &Journal{
		dir:   jdir,
		path:  filepath.Join(jdir, logName),
		opts:  o,
		log:   o.logger.With("component", "journal"),
		lockF: lockF,
		nowFn: time.Now,
		byNo:  make(map[string]*entry),
	}
	if err := j.load(); err != nil {
		filelock.Unlock(lockF)
		lockF.Close()
		return nil, err
	}
	return j, nil
}

func readOwner(f *os.File) string {
	b := make([]byte, 16)
	n, _ := f.ReadAt(b, 0)
	if pid, err := strconv.Atoi(string(b[:n])); err == nil && pid > 0 {
		return fmt.Sprintf(" (process %d)", pid)
	}
	return ""
}

// load reads and repairs the log and builds the index. Called with the lock held.
func (j *Journal) load() error {
	// A temp file is a compaction that crashed before its rename: the log it
	// was meant to replace is still complete.
	if err := os.Remove(filepath.Join(j.dir, tmpName)); err == nil {
		j.log.Warn("removed unfinished compaction file", "file", tmpName)
	}
	data, err := os.ReadFile(j.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal: read %s: %w", j.path, err)
	}
	res := scan(data)
	if res.badHeader && len(res.records) == 0 {
		return fmt.Errorf("%w: %s (%d bytes) left untouched; move it away to start a new journal", ErrCorrupt, j.path, len(data))
	}
	unreadable, legacy := 0, 0
	j.redactCopies()
	for _, r := range res.records {
		if r.opaque != nil {
			j.opaque = append(j.opaque, r.opaque)
			continue
		}
		if r.x != nil {
			unreadable++
		}
		if codescan.IsLegacyHash(r.o.CodeHash) {
			legacy++
		}
		j.applyRecord(r.o, r.x, true)
	}
	j.records = len(res.records)
	if len(j.opaque) > 0 || unreadable > 0 {
		// A newer version wrote these (or an older one); they are kept
		// as they are and written back on every compaction.
		j.log.Warn("journal holds records this version cannot fully read; kept as they are",
			"records_not_orders", len(j.opaque), "records_with_unknown_values", unreadable)
	}

	rewrite := res.badHeader || len(res.skipped) > 0
	if rewrite {
		// Keep the damaged original for support before rewriting it.
		copyName := logName + ".corrupt-" + j.nowFn().UTC().Format("20060102T150405.000000000Z")
		if err := writeFileSync(filepath.Join(j.dir, copyName), redactLegacy(data)); err != nil {
			return fmt.Errorf("journal: save damaged log: %w", err)
		}
		for _, s := range res.skipped {
			j.log.Error("journal damaged in the middle; skipped to the next intact record",
				"from_offset", s[0], "to_offset", s[1], "copy", copyName)
		}
		if res.badHeader {
			j.log.Error("journal header damaged; records recovered", "records", len(res.records), "copy", copyName)
		}
	}
	if res.tornTail && !rewrite && len(data) > len(fileMagic) {
		// Keep the file as it was before cutting anything (support may
		// want to see what was cut; only the newest few copies are kept,
		// as every power cut during an append leaves one).
		copyName := logName + ".torn-" + j.nowFn().UTC().Format("20060102T150405.000000000Z")
		if err := writeFileSync(filepath.Join(j.dir, copyName), redactLegacy(data)); err != nil {
			return fmt.Errorf("journal: save log before cutting its torn tail: %w", err)
		}
		pruneCopies(j.dir, logName+".torn-*", keepTornCopies)
		j.log.Warn("journal tail torn or damaged; cut away",
			"offset", res.validEnd, "bytes_dropped", len(data)-res.validEnd, "copy", copyName)
	} else if res.tornTail {
		j.log.Warn("journal tail torn or damaged; cut away",
			"offset", res.validEnd, "bytes_dropped", len(data)-res.validEnd)
	}

	if rewrite || len(data) < len(fileMagic) {
		// Fresh, torn-at-creation, or damaged: write a clean file from the index.
		return j.rewrite(j.keepAll())
	}
	f, err := os.OpenFile(j.path, os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("journal: open %s: %w", j.path, err)
	}
	if res.tornTail {
		if err := f.Truncate(int64(res.validEnd)); err != nil {
			f.Close()
			return fmt.Errorf("journal: cut torn tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("journal: sync after cutting tail: %w", err)
		}
	}
	j.f = f
	j.size = int64(res.validEnd)
	if legacy > j.legacyNeeded() {
		// Records of an earlier version hold the unkeyed hash of a code
		// whose order is resolved (or superseded): rewrite them away now.
		j.log.Info("dropping unkeyed payment-code hashes of resolved orders", "records", legacy)
		if err := j.compactLocked(); err != nil {
			j.log.Error("compaction failed; the log stays as it is", "err", err)
		}
	} else if j.records >= j.compactAt() {
		if err := j.compactLocked(); err != nil {
			j.log.Error("compaction failed; the log stays as it is", "err", err)
		}
	}
	return nil
}

// Append stores o as the newest record for o.OutTradeNo and fsyncs it before
// returning nil. An error means the record may not be durable: the caller must
// not send the order to the bank.
func (j *Journal) Append(o order.Order) error {
	if o.OutTradeNo == "" {
		return fmt.Errorf("%w: empty out_trade_no", ErrInvalid)
	}
	if o.State == order.StateInvalid {
		return fmt.Errorf("%w: %s has no state", ErrInvalid, o.OutTradeNo)
	}
	// An earlier version's unkeyed code hash guards a rescan only while
	// the order is open; once it is resolved the hash goes (and so do the
	// older records that hold it: see dropLegacy below).
	dropLegacy := o.State.Terminal() && codescan.IsLegacyHash(o.CodeHash)
	if dropLegacy {
		o.CodeHash = ""
	}
	j.wmu.Lock()
	defer j.wmu.Unlock()
	// What an earlier record held that this version cannot read is
	// written back on this one too (see extras).
	j.mu.RLock()
	var x *extras
	if e, ok := j.byNo[o.OutTradeNo]; ok {
		x = e.x
	}
	j.mu.RUnlock()
	rec, err := encodeWith(o, x)
	if err != nil {
		return err
	}
	if j.closed {
		return ErrClosed
	}
	if j.broken != nil {
		return fmt.Errorf("journal: unusable since an earlier failure (restart ScanBox): %w", j.broken)
	}
	// WriteAt at our own idea of the end (not O_APPEND): after a failed write
	// we cut back to it, so a half-written record never sits between good ones.
	if _, err := j.f.WriteAt(rec, j.size); err != nil {
		if terr := j.f.Truncate(j.size); terr != nil {
			j.broken = err
		}
		return fmt.Errorf("journal: append %s: %w", o.OutTradeNo, err)
	}
	if err := j.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages;
		// nothing written since can be trusted (the PostgreSQL fsync lesson).
		j.broken = err
		return fmt.Errorf("journal: sync %s: %w", o.OutTradeNo, err)
	}
	j.size += int64(len(rec))
	j.records++
	j.mu.Lock()
	j.apply(o)
	j.mu.Unlock()
	if dropLegacy || j.records >= j.compactAt() {
		// The append above is already durable; a failed compaction only
		// means the file stays longer.
		if err := j.compactLocked(); err != nil {
			j.log.Error("compaction failed; the log stays as it is", "err", err)
		}
	}
	return nil
}

// apply puts an appended o into the index; the entry keeps what its
// records held that this version cannot read. Called with mu held (or
// before j is shared).
func (j *Journal) apply(o order.Order) { j.applyRecord(o, nil, false) }

// applyRecord puts a loaded record into the index: with setX, x replaces
// what the entry kept unread (the newest record says what is left).
func (j *Journal) applyRecord(o order.Order, x *extras, setX bool) {
	if e, ok := j.byNo[o.OutTradeNo]; ok {
		moved := !e.o.CreatedAt.Equal(o.CreatedAt)
		if moved {
			j.removeCreated(e)
		}
		e.o = o
		if setX {
			e.x = x
		}
		if moved {
			j.insertCreated(e)
		}
		return
	}
	j.nextSq++
	e := &entry{o: o, x: x, seq: j.nextSq}
	j.byNo[o.OutTradeNo] = e
	j.insertCreated(e)
}

func less(a, b *entry) bool {
	if !a.o.CreatedAt.Equal(b.o.CreatedAt) {
		return a.o.CreatedAt.Before(b.o.CreatedAt)
	}
	return a.seq < b.seq
}

func (j *Journal) insertCreated(e *entry) {
	// New orders nearly always go at the end: check that first.
	n := len(j.byCreated)
	if n == 0 || less(j.byCreated[n-1], e) {
		j.byCreated = append(j.byCreated, e)
		return
	}
	i := sort.Search(n, func(i int) bool { return less(e, j.byCreated[i]) })
	j.byCreated = append(j.byCreated, nil)
	copy(j.byCreated[i+1:], j.byCreated[i:])
	j.byCreated[i] = e
}

func (j *Journal) removeCreated(e *entry) {
	for i, x := range j.byCreated {
		if x == e {
			j.byCreated = append(j.byCreated[:i], j.byCreated[i+1:]...)
			return
		}
	}
}

// Get returns the newest state of one order.
func (j *Journal) Get(outTradeNo string) (order.Order, bool) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if e, ok := j.byNo[outTradeNo]; ok {
		return e.o, true
	}
	return order.Order{}, false
}

// Unresolved returns every order whose state is not Terminal, oldest first.
func (j *Journal) Unresolved() []order.Order {
	j.mu.RLock()
	defer j.mu.RUnlock()
	var out []order.Order
	for _, e := range j.byCreated {
		if !e.o.State.Terminal() {
			out = append(out, e.o)
		}
	}
	return out
}

// Recent returns up to n orders, newest first by CreatedAt (n <= 0: all kept).
func (j *Journal) Recent(n int) []order.Order {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if n <= 0 || n > len(j.byCreated) {
		n = len(j.byCreated)
	}
	out := make([]order.Order, 0, n)
	for i := len(j.byCreated) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, j.byCreated[i].o)
	}
	return out
}

// FindUnresolvedByCodeHash returns the oldest unresolved order that was paid
// with the code whose scan.Hash is h: a rescan of that code must not start a
// second charge while it is open.
func (j *Journal) FindUnresolvedByCodeHash(h string) (order.Order, bool) {
	if h == "" {
		return order.Order{}, false
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	for _, e := range j.byCreated {
		if e.o.CodeHash == h && !e.o.State.Terminal() {
			return e.o, true
		}
	}
	return order.Order{}, false
}

// Compact rewrites the log now, keeping what the retention rule keeps.
// Append runs it by itself when the file has grown (and Open when it finds
// a file that has); nothing else needs to call it.
func (j *Journal) Compact() error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.closed {
		return ErrClosed
	}
	if j.broken != nil {
		return j.broken
	}
	return j.compactLocked()
}

// compactAt is the record count that triggers compaction: twice what the
// retention rule keeps, so compaction cost stays amortised O(1) per Append.
func (j *Journal) compactAt() int {
	if j.opts.compactAt > 0 {
		return j.opts.compactAt
	}
	j.mu.RLock()
	unresolved := 0
	for _, e := range j.byCreated {
		if !e.o.State.Terminal() {
			unresolved++
		}
	}
	j.mu.RUnlock()
	return 2 * (j.opts.retain + unresolved)
}

// keep selects what the retention rule keeps, oldest first: every unresolved
// order and the newest opts.retain resolved ones.
func (j *Journal) keep() []*entry {
	j.mu.RLock()
	defer j.mu.RUnlock()
	resolvedLeft := j.opts.retain
	kept := make([]*entry, 0, len(j.byCreated))
	for i := len(j.byCreated) - 1; i >= 0; i-- {
		e := j.byCreated[i]
		if !e.o.State.Terminal() {
			kept = append(kept, e)
		} else if resolvedLeft > 0 {
			kept = append(kept, e)
			resolvedLeft--
		}
	}
	for a, b := 0, len(kept)-1; a < b; a, b = a+1, b-1 {
		kept[a], kept[b] = kept[b], kept[a]
	}
	return kept
}

func (j *Journal) keepAll() []*entry {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return append([]*entry(nil), j.byCreated...)
}

// legacyNeeded counts the orders whose unkeyed code hash must stay: the
// unresolved ones (it refuses a rescan of their code).
func (j *Journal) legacyNeeded() int {
	j.mu.RLock()
	defer j.mu.RUnlock()
	n := 0
	for _, e := range j.byCreated {
		if !e.o.State.Terminal() && codescan.IsLegacyHash(e.o.CodeHash) {
			n++
		}
	}
	return n
}

// compactLocked rewrites the log with what keep selects and drops the rest
// from the index. A resolved order's unkeyed code hash (an earlier
// version's) is not written again. Called with wmu held.
func (j *Journal) compactLocked() error {
	kept := j.keep()
	before := j.records
	if err := j.rewrite(kept); err != nil {
		return err
	}
	j.mu.Lock()
	keepSet := make(map[*entry]bool, len(kept))
	for _, e := range kept {
		keepSet[e] = true
	}
	for no, e := range j.byNo {
		if !keepSet[e] {
			delete(j.byNo, no)
		}
	}
	j.byCreated = append(j.byCreated[:0:0], kept...)
	j.mu.Unlock()
	j.log.Info("journal compacted", "records_before", before, "records_after", len(kept))
	return nil
}

// rewrite replaces the log with one record per entry.
//
// Crash safety: the new content goes to a temp file that is fsynced before
// the rename, and the directory is fsynced after it; until the rename the
// old log is complete, after it the new one is. Open deletes a leftover temp
// file. The old file is closed before the rename because Windows cannot
// rename over a file that is open.
func (j *Journal) rewrite(entries []*entry) error {
	j.mu.Lock()
	for _, e := range entries {
		if e.o.State.Terminal() && codescan.IsLegacyHash(e.o.CodeHash) {
			e.o.CodeHash = ""
		}
	}
	j.mu.Unlock()
	tmp := filepath.Join(j.dir, tmpName)
	size, err := func() (int64, error) {
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		buf := append([]byte(nil), fileMagic...)
		for _, rec := range j.opaque {
			buf = append(buf, rec...)
		}
		for _, e := range entries {
			rec, err := encodeWith(e.o, e.x)
			if err != nil {
				return 0, err
			}
			buf = append(buf, rec...)
		}
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		return int64(len(buf)), f.Close()
	}()
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("journal: write %s: %w", tmpName, err)
	}
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
	renameErr := os.Rename(tmp, j.path)
	if renameErr == nil {
		renameErr = filelock.SyncDir(j.dir)
	} else {
		os.Remove(tmp)
	}
	// Reopen whichever file is now the log (no O_CREATE: a missing log here
	// must surface as an error, not become a headerless file).
	f, err := os.OpenFile(j.path, os.O_RDWR, 0o600)
	if err != nil {
		j.broken = err
		return fmt.Errorf("journal: reopen %s: %w", j.path, err)
	}
	j.f = f
	if renameErr != nil {
		st, err := f.Stat()
		if err != nil {
			j.broken = err
			return fmt.Errorf("journal: stat %s: %w", j.path, err)
		}
		j.size = st.Size()
		return fmt.Errorf("journal: replace log: %w", renameErr)
	}
	j.size = size
	j.records = len(entries) + len(j.opaque)
	return nil
}

// legacyHashKey precedes a code hash in a record's JSON.
var legacyHashKey = []byte(`"code_hash":"`)

// redactLegacy returns data with every unkeyed code hash (an earlier
// version's, see scan.LegacyHash) overwritten by 'x's of the same length:
// a copy kept for support must not hold what confirms a code guessed from
// its masked digits. The checksums of those records then fail; the copy is
// for people to read, not for the journal to load.
func redactLegacy(data []byte) []byte {
	out := data
	copied := false
	for i := 0; ; {
		k := bytes.Index(out[i:], legacyHashKey)
		if k < 0 {
			return out
		}
		start := i + k + len(legacyHashKey)
		end := start + 64
		if end < len(out) && out[end] == '"' && codescan.IsLegacyHash(string(out[start:end])) {
			if !copied {
				out, copied = bytes.Clone(out), true
			}
			for p := start; p < end; p++ {
				out[p] = 'x'
			}
		}
		i = start
	}
}

// redactCopies applies redactLegacy to the copies kept beside the log (an
// earlier version kept them unredacted).
func (j *Journal) redactCopies() {
	for _, pat := range []string{logName + ".corrupt-*", logName + ".torn-*"} {
		m, _ := filepath.Glob(filepath.Join(j.dir, pat))
		for _, p := range m {
			data, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if red := redactLegacy(data); !bytes.Equal(red, data) {
				if err := writeFileSync(p, red); err != nil {
					j.log.Error("could not redact a kept copy of the journal", "file", filepath.Base(p), "err", err)
				}
			}
		}
	}
}

// keepTornCopies is how many copies of logs with a torn tail are kept.
const keepTornCopies = 5

// pruneCopies deletes all but the newest keep files matching pattern (their
// names end in a sortable UTC time).
func pruneCopies(dir, pattern string, keep int) {
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(m) <= keep {
		return
	}
	sort.Strings(m)
	for _, p := range m[:len(m)-keep] {
		os.Remove(p)
	}
}

// Close releases the file and the lock. Further Appends return ErrClosed.
func (j *Journal) Close() error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	var err error
	if j.f != nil {
		err = j.f.Close()
	}
	filelock.Unlock(j.lockF)
	if cerr := j.lockF.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeFileSync writes a new file and fsyncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var _ io.Closer = (*Journal)(nil)
