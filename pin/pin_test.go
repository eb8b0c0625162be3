package pin

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// cheap keeps the tests fast; TestDefaultParams checks the real cost once.
var cheap = Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

type clocks struct {
	mu   sync.Mutex
	wall time.Time
	mono time.Duration
}

func (c *clocks) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}
func (c *clocks) monotonic() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

// advance moves both clocks (time passing); step moves only the wall clock
// (someone sets the PC's clock).
func (c *clocks) advance(d time.Duration) {
	c.mu.Lock()
	c.wall = c.wall.Add(d)
	c.mono += d
	c.mu.Unlock()
}
func (c *clocks) step(d time.Duration) { c.mu.Lock(); c.wall = c.wall.Add(d); c.mu.Unlock() }

func open(dir string, c *clocks) *Manager {
	return Open(dir, WithParams(cheap), WithClock(c.now), WithMonotonic(c.monotonic))
}

func newClocks() *clocks { return &clocks{wall: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)} }

func TestValid(t *testing.T) {
	for pin, want := range map[string]bool{"123456": true, "123456789012": true, "12345": false, "1234567890123": false,
		"12345a": false, "１２３４５６": false, "": false, " 123456": false, "000000": true} {
		if Valid(pin) != want {
			t.Errorf("Valid(%q) = %v", pin, !want)
		}
	}
}

func TestNotSet(t *testing.T) {
	m := open(t.TempDir(), newClocks())
	if err := m.Check("123456"); !errors.Is(err, ErrNotSet) {
		t.Fatalf("check without a PIN: %v", err)
	}
	if set, err := m.IsSet(); set || err != nil {
		t.Errorf("IsSet %v %v", set, err)
	}
	if err := m.Set("12345"); !errors.Is(err, ErrFormat) {
		t.Errorf("short PIN set: %v", err)
	}
	if err := m.SetTwice("123456", "123457"); !errors.Is(err, ErrMismatch) {
		t.Errorf("mismatch: %v", err)
	}
}

func TestSetCheckFileProtected(t *testing.T) {
	dir := t.TempDir()
	m := open(dir, newClocks())
	const pin = "8273645190"
	if err := m.SetTwice(pin, pin); err != nil {
		t.Fatal(err)
	}
	if err := m.Check(pin); err != nil {
		t.Fatalf("right PIN: %v", err)
	}
	if err := m.Check("8273645191"); !errors.Is(err, ErrWrong) {
		t.Fatalf("wrong PIN: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
	assertNoPIN(t, dir, pin)
	// Another salt each time: the same PIN never gives the same file.
	b1, _ := os.ReadFile(filepath.Join(dir, FileName))
	m.Set(pin)
	b2, _ := os.ReadFile(filepath.Join(dir, FileName))
	if bytes.Equal(b1, b2) {
		t.Error("the same PIN hashed twice to the same file")
	}
}

// assertNoPIN fails if any file under dir holds the PIN in clear.
func assertNoPIN(t *testing.T, dir, pin string) {
	t.Helper()
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(pin)) {
				t.Errorf("%s holds the PIN in clear", p)
			}
		}
		return nil
	})
}

func TestLockoutPersistsAndEnds(t *testing.T) {
	dir := t.TempDir()
	c := newClocks()
	m := open(dir, c)
	const pin = "246810"
	if err := m.Set(pin); err != nil {
		t.Fatal(err)
	}
	// A right PIN resets the count: 4 wrong, right, 4 wrong do not lock.
	for range 4 {
		m.Check("000000")
	}
	if err := m.Check(pin); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		var we *WrongError
		if err := m.Check("000000"); !errors.As(err, &we) || we.Left != MaxFailures-1-i {
			t.Fatalf("wrong %d: %v", i, err)
		}
	}
	if err := m.Check(pin); err != nil {
		t.Fatalf("not locked after 4 wrong: %v", err)
	}
	for range 4 {
		m.Check("000000")
	}
	// The fifth wrong one in a row locks; a malformed PIN counts too.
	if err := m.Check("12"); !errors.Is(err, ErrLocked) {
		t.Fatalf("fifth wrong: %v", err)
	}
	if err := m.Check(pin); !errors.Is(err, ErrLocked) {
		t.Fatalf("right PIN while locked: %v", err)
	}
	// A restart does not lift it; setting a new PIN does not either.
	m2 := open(dir, c)
	if err := m2.Check(pin); !errors.Is(err, ErrLocked) {
		t.Fatalf("after restart: %v", err)
	}
	if err := m2.Set("135790"); err != nil {
		t.Fatal(err)
	}
	if err := m2.Check("135790"); !errors.Is(err, ErrLocked) {
		t.Fatalf("new PIN lifted the lock: %v", err)
	}
	c.advance(14 * time.Minute)
	if locked, until, _ := m2.Locked(); !locked || until.Sub(c.now()) > time.Minute+time.Second {
		t.Fatalf("at 14 min: locked %v until %v", locked, until)
	}
	c.advance(61 * time.Second)
	if err := m2.Check("135790"); err != nil {
		t.Fatalf("after 15 min: %v", err)
	}
	// The count starts afresh after the lock ran out.
	if err := m2.Check("000000"); !errors.Is(err, ErrWrong) || errors.Is(err, ErrLocked) {
		t.Fatalf("first wrong after the lock: %v", err)
	}
}

func TestLockoutClockStepSafe(t *testing.T) {
	dir := t.TempDir()
	c := newClocks()
	m := open(dir, c)
	m.Set("112233")
	for range MaxFailures {
		m.Check("999999")
	}
	// Clock set forward a day while running: still locked (monotonic).
	c.step(24 * time.Hour)
	if err := m.Check("112233"); !errors.Is(err, ErrLocked) {
		t.Fatalf("clock forward lifted the lock: %v", err)
	}
	c.advance(15 * time.Minute)
	if err := m.Check("112233"); err != nil {
		t.Fatalf("after 15 real minutes: %v", err)
	}
	// Locked again, then the clock is set back 3 hours: the lock lasts 15
	// minutes from when that is noticed, not 3 h 15 min.
	for range MaxFailures {
		m.Check("999999")
	}
	c.step(-3 * time.Hour)
	if err := m.Check("112233"); !errors.Is(err, ErrLocked) {
		t.Fatalf("clock back lifted the lock: %v", err)
	}
	c.advance(15*time.Minute + time.Second)
	if err := m.Check("112233"); err != nil {
		t.Fatalf("clock back stretched the lock: %v", err)
	}
	// And after a restart the lock (wall clock) is still honoured.
	for range MaxFailures {
		m.Check("999999")
	}
	c2 := &clocks{wall: c.now()} // a new process: monotonic from zero
	m2 := open(dir, c2)
	if err := m2.Check("112233"); !errors.Is(err, ErrLocked) {
		t.Fatalf("restart lifted the lock: %v", err)
	}
}

func TestDamagedFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte("{not json"), 0o600)
	m := open(dir, newClocks())
	if err := m.Check("123456"); !errors.Is(err, ErrStorage) {
		t.Fatalf("damaged file: %v", err)
	}
}

func TestDefaultParams(t *testing.T) {
	dir := t.TempDir()
	m := Open(dir)
	if err := m.Set("20261201"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !bytes.Contains(b, []byte(`"memory":65536`)) || !bytes.Contains(b, []byte(`"algo":"argon2id"`)) {
		t.Errorf("stored parameters: %s", b)
	}
	if err := m.Check("20261201"); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCheck measures one PIN check at the default cost.
func BenchmarkCheck(b *testing.B) {
	m := Open(b.TempDir())
	m.Set("20261201")
	b.ResetTimer()
	for range b.N {
		if err := m.Check("20261201"); err != nil {
			b.Fatal(err)
		}
	}
}
