// Package pin owns the manager PIN that authorises refunds: its rules (6–12
// digits), its storage as a slow salted hash (argon2id) in DATA_DIR/pin.json
// with mode 0600, and the lockout (5 wrong PINs in a row lock refunds for 15
// minutes, persisted so a restart does not lift it). It must never store,
// log or return a PIN in clear, and it must never decide anything about a
// refund beyond "this PIN may authorise it now".
package pin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Rules of the PIN and the lockout.
const (
	MinLen      = 6
	MaxLen      = 12
	MaxFailures = 5
	LockFor     = 15 * time.Minute
	// FileName is the PIN file inside the data directory.
	FileName = "pin.json"
)

// Params are argon2id's cost parameters. They are stored with each hash, so
// a later version can raise them without invalidating a PIN already set.
type Params struct {
	Time    uint32 `json:"time"`     // passes over memory
	Memory  uint32 `json:"memory"`   // KiB
	Threads uint8  `json:"threads"`  // lanes
	KeyLen  uint32 `json:"key_len"`  // hash bytes
	SaltLen int    `json:"salt_len"` // salt bytes
}

// DefaultParams: argon2id with t=3 passes over 64 MiB in 2 lanes, a 16-byte
// random salt and a 32-byte hash (RFC 9106 §4's second recommended option is
// t=3, 64 MiB; 2 lanes because a POS PC may have 2 cores). One check costs
// about 0.1–0.3 s on such a PC: unnoticeable for a manager, and with 10^6 to
// 10^12 possible PINs and the lockout, guessing on the PC is hopeless; an
// attacker who copies pin.json pays 64 MiB and the passes per guess.
var DefaultParams = Params{Time: 3, Memory: 64 * 1024, Threads: 2, KeyLen: 32, SaltLen: 16}

// Errors. Each is one sentence a cashier or manager can read.
var (
	ErrNotSet   = errors.New("no manager PIN is set, so refunds are refused; set one with \"scanbox pin set\"")
	ErrFormat   = errors.New("the manager PIN must be 6 to 12 digits")
	ErrWrong    = errors.New("the manager PIN is wrong")
	ErrLocked   = errors.New("refunds are locked for 15 minutes after 5 wrong manager PINs")
	ErrMismatch = errors.New("the two PINs entered differ")
	ErrStorage  = errors.New("the manager PIN file could not be read or written")
)

// WrongError is ErrWrong with how many tries are left before the lockout.
type WrongError struct{ Left int }

func (e *WrongError) Error() string {
	return fmt.Sprintf("the manager PIN is wrong (%d tries left before refunds are locked for 15 minutes)", e.Left)
}
func (e *WrongError) Is(target error) bool { return target == ErrWrong }

// LockedError is ErrLocked with when the lock ends.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return fmt.Sprintf("refunds are locked after 5 wrong manager PINs, until %s", e.Until.Format("15:04"))
}
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// file is pin.json. Only the hash and its salt are kept, never the PIN.
type file struct {
	Version  int    `json:"version"`
	Algo     string `json:"algo"`
	Params   Params `json:"params"`
	Salt     []byte `json:"salt"`
	Hash     []byte `json:"hash"`
	Failures int    `json:"failures"`
	// LockedAt is when the lock started (wall clock); zero: not locked.
	LockedAt time.Time `json:"locked_at,omitzero"`
}

// Manager guards refunds with the PIN of one data directory. Safe for
// concurrent use within a process (the data directory's owner is one
// process; see store's lock).
type Manager struct {
	path   string
	params Params
	now    func() time.Time
	// mono is the process's monotonic clock; lockMono its reading when a
	// lock started in this process (-1: none). See lockedLocked.
	mono     func() time.Duration
	mu       sync.Mutex
	lockMono time.Duration
}

// Option adjusts a Manager.
type Option func(*Manager)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(m *Manager) { m.now = now } }

// WithMonotonic replaces the monotonic clock (time since the Manager was
// opened) for tests.
func WithMonotonic(mono func() time.Duration) Option { return func(m *Manager) { m.mono = mono } }

// WithParams sets argon2id's cost for new hashes (tests use a cheap one;
// the program keeps DefaultParams).
func WithParams(p Params) Option { return func(m *Manager) { m.params = p } }

// Open returns the Manager for dataDir (nothing is read yet).
func Open(dataDir string, opts ...Option) *Manager {
	started := time.Now()
	m := &Manager{path: filepath.Join(dataDir, FileName), params: DefaultParams, now: time.Now,
		mono: func() time.Duration { return time.Since(started) }, lockMono: -1}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Valid reports whether pin follows the rules (6–12 ASCII digits).
func Valid(pin string) bool {
	if len(pin) < MinLen || len(pin) > MaxLen {
		return false
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return false
		}
	}
	return true
}

// IsSet reports whether a PIN has been set.
func (m *Manager) IsSet() (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := m.load()
	if err != nil {
		return false, err
	}
	return f != nil, nil
}

// Set stores a new PIN (replacing any). A lockout in force is kept: a new
// PIN does not lift it (whoever knows the old one waits like anyone).
func (m *Manager) Set(pin string) error {
	if !Valid(pin) {
		return ErrFormat
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, err := m.load()
	if err != nil {
		return err
	}
	f := &file{Version: 1, Algo: "argon2id", Params: m.params, Salt: make([]byte, m.params.SaltLen)}
	if _, err := rand.Read(f.Salt); err != nil {
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	f.Hash = derive(pin, f.Salt, f.Params)
	if old != nil && m.lockedLocked(old) {
		f.LockedAt = old.LockedAt
	}
	return m.save(f)
}

// SetTwice is `scanbox pin set`: the PIN read twice must agree.
func (m *Manager) SetTwice(first, second string) error {
	if subtle.ConstantTimeCompare([]byte(first), []byte(second)) != 1 {
		return ErrMismatch
	}
	return m.Set(first)
}

// Check verifies pin. It returns nil, ErrNotSet, ErrLocked (a *LockedError),
// ErrWrong (a *WrongError) or ErrStorage. A wrong or malformed PIN counts
// towards the lockout; a right one resets the count. While locked, no PIN
// is even compared (a right one does not open the lock early).
func (m *Manager) Check(pin string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := m.load()
	if err != nil {
		return err
	}
	if f == nil {
		return ErrNotSet
	}
	if m.lockedLocked(f) {
		return &LockedError{Until: m.lockEnd(f)}
	}
	dirty := false
	if !f.LockedAt.IsZero() { // a lock that has run out: a fresh count
		f.LockedAt, f.Failures = time.Time{}, 0
		m.lockMono = -1
		dirty = true
	}
	// Always derive, even for a malformed PIN, so that timing does not say
	// which PINs are well-formed; compare in constant time.
	sum := derive(pin, f.Salt, f.Params)
	ok := subtle.ConstantTimeCompare(sum, f.Hash) == 1 && Valid(pin)
	if ok {
		if f.Failures != 0 || dirty {
			f.Failures = 0
			if err := m.save(f); err != nil {
				return err
			}
		}
		return nil
	}
	f.Failures++
	if f.Failures >= MaxFailures {
		f.LockedAt = m.now().Round(0)
		m.lockMono = m.mono()
	}
	// The failure is durable before the answer: killing the process after
	// a wrong PIN must not give a free try.
	if err := m.save(f); err != nil {
		return err
	}
	if f.Failures >= MaxFailures {
		return &LockedError{Until: m.lockEnd(f)}
	}
	return &WrongError{Left: MaxFailures - f.Failures}
}

// Locked reports whether refunds are locked now and until when.
func (m *Manager) Locked() (bool, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := m.load()
	if err != nil || f == nil {
		return false, time.Time{}, err
	}
	if m.lockedLocked(f) {
		return true, m.lockEnd(f), nil
	}
	return false, time.Time{}, nil
}

// lockedLocked is the clock-step-safe lock rule. A lock lasts until LockFor
// has passed on the wall clock since LockedAt AND, when it was started in
// this process, on the monotonic clock too: setting the clock forward does
// not lift it early. A wall clock now before LockedAt (set back, or the
// lock written by a PC whose clock was fast) re-anchors the lock at now, so
// setting the clock back cannot make it last for hours either, only 15
// minutes from the moment it is noticed.
func (m *Manager) lockedLocked(f *file) bool {
	if f.LockedAt.IsZero() {
		return false
	}
	now := m.now().Round(0)
	if now.Before(f.LockedAt) {
		f.LockedAt = now
		m.save(f) // best effort: an unsaved re-anchor is redone next time
	}
	if now.Sub(f.LockedAt) < LockFor {
		return true
	}
	return m.lockMono >= 0 && m.mono()-m.lockMono < LockFor
}

func (m *Manager) lockEnd(f *file) time.Time {
	end := f.LockedAt.Add(LockFor)
	if m.lockMono >= 0 {
		if e := m.now().Add(LockFor - (m.mono() - m.lockMono)); e.After(end) {
			end = e
		}
	}
	return end
}

func derive(pin string, salt []byte, p Params) []byte {
	k := argon2.IDKey([]byte(pin), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if p.Memory >= 8*1024 {
		// argon2id's working area (64 MiB by default) is garbage the moment
		// IDKey returns. The tray runs all day: hand it back to the OS now
		// (one extra GC, a few ms, on a PIN check) instead of keeping the
		// process that much bigger until the runtime's scavenger gets to it
		// (docs/ui.md, "Weight": 94 MiB of resident memory after the demo
		// set its PIN).
		debug.FreeOSMemory()
	}
	return k
}

// load reads pin.json; nil, nil when no PIN is set.
func (m *Manager) load() (*file, error) {
	b, err := os.ReadFile(m.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil || f.Algo != "argon2id" || len(f.Hash) == 0 || len(f.Salt) == 0 ||
		f.Params.Time == 0 || f.Params.Memory == 0 || f.Params.Threads == 0 || int(f.Params.KeyLen) != len(f.Hash) {
		// A damaged file must not read as "no PIN" (that would refuse
		// refunds, which is safe) nor as any PIN: it is an error.
		return nil, fmt.Errorf("%w: %s is damaged", ErrStorage, m.path)
	}
	return &f, nil
}

// save writes pin.json atomically (temp file, fsync, rename, fsync dir),
// mode 0600 (on Windows the data directory's ACL protects it).
func (m *Manager) save(f *file) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	dir := filepath.Dir(m.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	tmp, err := os.CreateTemp(dir, ".pin-*.tmp")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && !isWindows() {
		tmp.Close()
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if err := os.Rename(tmp.Name(), m.path); err != nil {
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // not supported on Windows; harmless
		d.Close()
	}
	return nil
}

func isWindows() bool { return runtime.GOOS == "windows" }
