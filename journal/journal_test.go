package journal

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// The test binary re-executes itself as a helper process for the lock and
// kill -9 tests; JOURNAL_HELPER selects the role.
func TestMain(m *testing.M) {
	switch os.Getenv("JOURNAL_HELPER") {
	case "":
		os.Exit(m.Run())
	case "open":
		helperOpen(os.Getenv("JOURNAL_DIR"))
	case "append":
		helperAppend(os.Getenv("JOURNAL_DIR"), os.Getenv("JOURNAL_RUN"))
	default:
		fmt.Fprintln(os.Stderr, "unknown helper")
		os.Exit(2)
	}
}

var t0 = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

func mk(no string, st order.State, minute int) order.Order {
	return order.Order{
		OutTradeNo: no,
		AmountFen:  money.Fen(100 + minute),
		CodeMasked: "1345**********6789",
		CodeHash:   "hash-" + no,
		Guess:      order.ChannelWeChat,
		State:      st,
		CreatedAt:  t0.Add(time.Duration(minute) * time.Minute),
		UpdatedAt:  t0.Add(time.Duration(minute) * time.Minute),
	}
}

func mustOpen(t testing.TB, dir string, opts ...Option) *Journal {
	t.Helper()
	j, err := Open(dir, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return j
}

func mustAppend(t testing.TB, j *Journal, o order.Order) {
	t.Helper()
	if err := j.Append(o); err != nil {
		t.Fatalf("Append(%s): %v", o.OutTradeNo, err)
	}
}

func logPath(dir string) string { return filepath.Join(dir, subdir, logName) }

func sameOrder(a, b order.Order) bool {
	return a.OutTradeNo == b.OutTradeNo && a.State == b.State && a.AmountFen == b.AmountFen &&
		a.CreatedAt.Equal(b.CreatedAt) && a.CodeHash == b.CodeHash
}

func TestAppendGetReopen(t *testing.T) {
	dir := testDir(t)
	j := mustOpen(t, dir)
	a := mk("A0001", order.StatePending, 1)
	mustAppend(t, j, a)
	a.State = order.StateWaiting
	mustAppend(t, j, a)
	b := mk("B0002", order.StatePending, 2)
	mustAppend(t, j, b)
	a.State = order.StatePaid
	a.TransactionID = "420000"
	mustAppend(t, j, a)

	check := func(j *Journal) {
		t.Helper()
		got, ok := j.Get("A0001")
		if !ok || got.State != order.StatePaid || got.TransactionID != "420000" {
			t.Fatalf("Get(A0001) = %+v, %v; want the latest record (paid)", got, ok)
		}
		if _, ok := j.Get("nope"); ok {
			t.Fatal("Get(nope) found something")
		}
		un := j.Unresolved()
		if len(un) != 1 || un[0].OutTradeNo != "B0002" {
			t.Fatalf("Unresolved = %v", un)
		}
		rec := j.Recent(10)
		if len(rec) != 2 || rec[0].OutTradeNo != "B0002" || rec[1].OutTradeNo != "A0001" {
			t.Fatalf("Recent = %v, want B0002, A0001", rec)
		}
		if r := j.Recent(1); len(r) != 1 || r[0].OutTradeNo != "B0002" {
			t.Fatalf("Recent(1) = %v", r)
		}
		if o, ok := j.FindUnresolvedByCodeHash("hash-B0002"); !ok || o.OutTradeNo != "B0002" {
			t.Fatalf("FindUnresolvedByCodeHash(B) = %v, %v", o, ok)
		}
		if _, ok := j.FindUnresolvedByCodeHash("hash-A0001"); ok {
			t.Fatal("FindUnresolvedByCodeHash found a resolved order")
		}
		if _, ok := j.FindUnresolvedByCodeHash(""); ok {
			t.Fatal("FindUnresolvedByCodeHash(\"\") found something")
		}
	}
	check(j)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(b); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
	j = mustOpen(t, dir)
	defer j.Close()
	check(j)
}

func TestAppendRefusesInvalid(t *testing.T) {
	j := mustOpen(t, testDir(t))
	defer j.Close()
	if err := j.Append(order.Order{State: order.StatePending}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty out_trade_no: %v", err)
	}
	if err := j.Append(order.Order{OutTradeNo: "X1"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid state: %v", err)
	}
}

func TestUnresolvedOldestFirstAndRecentNewestFirst(t *testing.T) {
	j := mustOpen(t, testDir(t))
	defer j.Close()
	// Appended out of CreatedAt order on purpose.
	for _, m := range []int{5, 1, 3, 2, 4} {
		st := order.StatePending
		if m%2 == 0 {
			st = order.StateFailed
		}
		mustAppend(t, j, mk(fmt.Sprintf("N%04d", m), st, m))
	}
	var got []string
	for _, o := range j.Unresolved() {
		got = append(got, o.OutTradeNo)
	}
	if strings.Join(got, ",") != "N0001,N0003,N0005" {
		t.Errorf("Unresolved order = %v", got)
	}
	got = nil
	for _, o := range j.Recent(0) {
		got = append(got, o.OutTradeNo)
	}
	if strings.Join(got, ",") != "N0005,N0004,N0003,N0002,N0001" {
		t.Errorf("Recent order = %v", got)
	}
}

// buildLog writes orders and returns the file bytes and, for each record, its
// end offset and the order it carried.
func buildLog(t *testing.T, dir string) ([]byte, []int64, []order.Order) {
	j := mustOpen(t, dir)
	var ends []int64
	var recs []order.Order
	add := func(o order.Order) {
		mustAppend(t, j, o)
		ends = append(ends, j.size)
		recs = append(recs, o)
	}
	a := mk("A0001", order.StatePending, 1)
	add(a)
	add(mk("B0002", order.StatePending, 2))
	a.State = order.StatePaid
	add(a)
	add(mk("C0003", order.StateWaiting, 3))
	c := mk("C0003", order.StateClosed, 3)
	c.Message = "closed after the customer left"
	add(c)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(logPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	return data, ends, recs
}

// expected applies the records that lie wholly before cut.
func expected(ends []int64, recs []order.Order, cut int64) map[string]order.Order {
	m := map[string]order.Order{}
	for i, e := range ends {
		if e <= cut {
			m[recs[i].OutTradeNo] = recs[i]
		}
	}
	return m
}

func checkContents(t *testing.T, j *Journal, want map[string]order.Order) {
	t.Helper()
	all := j.Recent(0)
	if len(all) != len(want) {
		t.Fatalf("journal has %d orders, want %d (%v)", len(all), len(want), all)
	}
	for no, w := range want {
		got, ok := j.Get(no)
		if !ok || !sameOrder(got, w) || got.Message != w.Message {
			t.Fatalf("Get(%s) = %+v, %v; want %+v", no, got, ok, w)
		}
	}
}

func TestTruncateAtEveryOffset(t *testing.T) {
	data, ends, recs := buildLog(t, testDir(t))
	for cut := 0; cut <= len(data); cut++ {
		dir := testDir(t)
		os.MkdirAll(filepath.Join(dir, subdir), 0o700)
		if err := os.WriteFile(logPath(dir), data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(dir)
		if err != nil {
			t.Fatalf("cut %d: Open: %v", cut, err)
		}
		want := expected(ends, recs, int64(cut))
		checkContents(t, j, want)
		// The file must be usable: append, reopen, everything there.
		extra := mk("Z9999", order.StatePending, 99)
		mustAppend(t, j, extra)
		j.Close()
		j = mustOpen(t, dir)
		want["Z9999"] = extra
		checkContents(t, j, want)
		j.Close()
		if m, _ := filepath.Glob(filepath.Join(dir, subdir, "*.corrupt-*")); len(m) != 0 {
			t.Fatalf("cut %d: a torn tail was treated as mid-file damage: %v", cut, m)
		}
	}
}

func TestBitFlipInTail(t *testing.T) {
	data, ends, recs := buildLog(t, testDir(t))
	last := ends[len(ends)-2] // start of the last record
	want := expected(ends, recs, last)
	for off := last; off < int64(len(data)); off++ {
		for _, bit := range []byte{0x01, 0x80} {
			dir := testDir(t)
			os.MkdirAll(filepath.Join(dir, subdir), 0o700)
			bad := append([]byte(nil), data...)
			bad[off] ^= bit
			os.WriteFile(logPath(dir), bad, 0o600)
			j, err := Open(dir)
			if err != nil {
				t.Fatalf("flip at %d: Open: %v", off, err)
			}
			checkContents(t, j, want)
			j.Close()
			st, _ := os.Stat(logPath(dir))
			if st.Size() != last {
				t.Fatalf("flip at %d: file is %d bytes after repair, want %d", off, st.Size(), last)
			}
		}
	}
}

func TestBitFlipInMiddleKeepsLaterRecords(t *testing.T) {
	data, ends, recs := buildLog(t, testDir(t))
	// Damage record 2 (B0002's only record) and record 3 (A0001 -> paid).
	for _, rec := range []int{1, 2} {
		start, end := ends[rec-1], ends[rec]
		for _, off := range []int64{start, start + 5, start + 9, (start + end) / 2, end - 1} {
			dir := testDir(t)
			os.MkdirAll(filepath.Join(dir, subdir), 0o700)
			bad := append([]byte(nil), data...)
			bad[off] ^= 0x04
			os.WriteFile(logPath(dir), bad, 0o600)
			j, err := Open(dir)
			if err != nil {
				t.Fatalf("rec %d flip at %d: Open: %v", rec, off, err)
			}
			// Every record except the damaged one survives.
			want := map[string]order.Order{}
			for i := range recs {
				if i != rec {
					want[recs[i].OutTradeNo] = recs[i]
				}
			}
			checkContents(t, j, want)
			j.Close()
			copies, _ := filepath.Glob(filepath.Join(dir, subdir, logName+".corrupt-*"))
			if len(copies) != 1 {
				t.Fatalf("damaged original not kept: %v", copies)
			}
			if kept, _ := os.ReadFile(copies[0]); string(kept) != string(bad) {
				t.Fatal("the kept copy differs from the damaged file")
			}
			// The rewritten journal is clean: reopening finds no damage.
			j = mustOpen(t, dir)
			checkContents(t, j, want)
			j.Close()
			if c, _ := filepath.Glob(filepath.Join(dir, subdir, logName+".corrupt-*")); len(c) != 1 {
				t.Fatalf("second open found damage again: %v", c)
			}
		}
	}
}

func TestDamagedHeaderRecovers(t *testing.T) {
	data, ends, recs := buildLog(t, testDir(t))
	dir := testDir(t)
	os.MkdirAll(filepath.Join(dir, subdir), 0o700)
	bad := append([]byte(nil), data...)
	bad[2] ^= 0xff
	os.WriteFile(logPath(dir), bad, 0o600)
	j := mustOpen(t, dir)
	checkContents(t, j, expected(ends, recs, int64(len(data))))
	j.Close()
}

func TestForeignFileRefused(t *testing.T) {
	dir := testDir(t)
	os.MkdirAll(filepath.Join(dir, subdir), 0o700)
	foreign := []byte("this is somebody else's file, not a journal\n")
	os.WriteFile(logPath(dir), foreign, 0o600)
	_, err := Open(dir)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open on a foreign file = %v, want ErrCorrupt", err)
	}
	if got, _ := os.ReadFile(logPath(dir)); string(got) != string(foreign) {
		t.Fatal("the foreign file was modified")
	}
	// The lock was released on failure.
	if err := os.Remove(logPath(dir)); err != nil {
		t.Fatal(err)
	}
	j := mustOpen(t, dir)
	j.Close()
}

func TestStaleCompactionTempRemoved(t *testing.T) {
	dir := testDir(t)
	j := mustOpen(t, dir)
	mustAppend(t, j, mk("A0001", order.StatePending, 1))
	j.Close()
	tmp := filepath.Join(dir, subdir, tmpName)
	os.WriteFile(tmp, []byte("half a compaction"), 0o600)
	j = mustOpen(t, dir)
	defer j.Close()
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file still there: %v", err)
	}
	if _, ok := j.Get("A0001"); !ok {
		t.Fatal("order lost")
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	dir := testDir(t)
	j := mustOpen(t, dir)
	_, err := Open(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "another ScanBox is using the data directory") {
		t.Errorf("message %q", err)
	}
	j.Close()
	j2 := mustOpen(t, dir)
	j2.Close()
}

func helperOpen(dir string) {
	j, err := Open(dir)
	if err != nil {
		fmt.Println("ERR", errors.Is(err, ErrLocked), err)
		os.Exit(0)
	}
	j.Close()
	fmt.Println("OK")
	os.Exit(0)
}

func runHelper(t *testing.T, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestSecondProcessIsLocked(t *testing.T) {
	dir := testDir(t)
	j := mustOpen(t, dir)
	mustAppend(t, j, mk("A0001", order.StatePending, 1))
	out := runHelper(t, "JOURNAL_HELPER=open", "JOURNAL_DIR="+dir)
	if !strings.HasPrefix(out, "ERR true") || !strings.Contains(out, "another ScanBox is using the data directory") ||
		!strings.Contains(out, fmt.Sprintf("process %d", os.Getpid())) {
		t.Fatalf("second process got %q, want ErrLocked naming this process", out)
	}
	j.Close()
	if out := runHelper(t, "JOURNAL_HELPER=open", "JOURNAL_DIR="+dir); out != "OK" {
		t.Fatalf("after Close the second process got %q", out)
	}
}

func TestCompactionKeepsUnresolved(t *testing.T) {
	dir := testDir(t)
	j := mustOpen(t, dir, WithRetain(10)) // raised to MinRetain
	if j.opts.retain != MinRetain {
		t.Fatalf("retain = %d, want %d", j.opts.retain, MinRetain)
	}
	// 30 unresolved among 300 resolved, the unresolved ones the oldest.
	for i := range 330 {
		st := order.StatePaid
		if i%11 == 0 {
			st = order.StateUnknown
		}
		mustAppend(t, j, mk(fmt.Sprintf("O%05d", i), st, i))
	}
	if err := j.Compact(); err != nil {
		t.Fatal(err)
	}
	check := func(j *Journal) {
		t.Helper()
		un := j.Unresolved()
		if len(un) != 30 {
			t.Fatalf("%d unresolved after compaction, want 30", len(un))
		}
		resolved := 0
		for _, o := range j.Recent(0) {
			if o.State.Terminal() {
				resolved++
			}
		}
		if resolved != MinRetain {
			t.Fatalf("%d resolved kept, want %d", resolved, MinRetain)
		}
		// The kept resolved orders are the newest ones.
		if _, ok := j.Get("O00329"); !ok {
			t.Fatal("newest resolved order dropped")
		}
		if _, ok := j.Get("O00001"); ok {
			t.Fatal("oldest resolved order kept")
		}
		if _, ok := j.Get("O00000"); !ok {
			t.Fatal("oldest unresolved order dropped")
		}
	}
	check(j)
	j.Close()
	j = mustOpen(t, dir)
	check(j)
	if j.records != 130 {
		t.Fatalf("file holds %d records after compaction, want 130", j.records)
	}
	// A compacted-away order's later update is just a new order.
	j.Close()
	if m, _ := filepath.Glob(filepath.Join(dir, subdir, "*.tmp")); len(m) != 0 {
		t.Fatalf("temp files left: %v", m)
	}
}

func TestAutomaticCompactionBoundsTheFile(t *testing.T) {
	dir := testDir(t)
	j := mustOpen(t, dir, WithRetain(MinRetain))
	defer j.Close()
	mustAppend(t, j, mk("U0000", order.StateUnknown, 0))
	for i := 1; i < 600; i++ {
		o := mk(fmt.Sprintf("O%05d", i), order.StatePending, i)
		mustAppend(t, j, o)
		o.State = order.StateFailed
		mustAppend(t, j, o)
	}
	if j.records >= j.compactAt() {
		t.Fatalf("file holds %d records, compaction threshold %d", j.records, j.compactAt())
	}
	if _, ok := j.Get("U0000"); !ok {
		t.Fatal("unresolved order dropped by automatic compaction")
	}
	if n := len(j.Recent(0)); n < MinRetain+1 {
		t.Fatalf("only %d orders kept", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	dir := testDir(t)
	j := mustOpen(t, dir)
	const writers, each = 6, 25
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				j.Recent(20)
				j.Unresolved()
				j.Get("W0-0")
				j.FindUnresolvedByCodeHash("hash-W1-1")
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				o := mk(fmt.Sprintf("W%d-%d", w, i), order.StatePending, w*100+i)
				if err := j.Append(o); err != nil {
					t.Error(err)
					return
				}
				o.State = order.StatePaid
				if err := j.Append(o); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	j.Close()
	j = mustOpen(t, dir)
	defer j.Close()
	for w := range writers {
		for i := range each {
			o, ok := j.Get(fmt.Sprintf("W%d-%d", w, i))
			if !ok || o.State != order.StatePaid {
				t.Fatalf("W%d-%d = %+v, %v", w, i, o, ok)
			}
		}
	}
}

// helperAppend appends in a loop and prints a line after every Append that
// returned nil; the parent kills it with SIGKILL at a random moment.
func helperAppend(dir, run string) {
	j, err := Open(dir, WithRetain(MinRetain), withCompactAt(40))
	if err != nil {
		fmt.Println("OPENERR", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		o := order.Order{
			OutTradeNo: fmt.Sprintf("K%s-%d", run, i),
			AmountFen:  money.Fen(i + 1),
			State:      order.StatePending,
			CreatedAt:  time.Now(),
			UpdatedAt:  time.Now(),
		}
		if err := j.Append(o); err != nil {
			fmt.Println("APPENDERR", err)
			os.Exit(1)
		}
		fmt.Fprintf(w, "P %s %d\n", o.OutTradeNo, o.CreatedAt.UnixNano())
		w.Flush()
		o.State = order.StatePaid
		o.UpdatedAt = time.Now()
		if err := j.Append(o); err != nil {
			fmt.Println("APPENDERR", err)
			os.Exit(1)
		}
		fmt.Fprintf(w, "D %s %d\n", o.OutTradeNo, o.CreatedAt.UnixNano())
		w.Flush()
	}
}

type ack struct {
	kind    string // P: pending acknowledged, D: paid acknowledged
	created time.Time
}

func countKind(m map[string]ack, kind string) int {
	n := 0
	for _, a := range m {
		if a.kind == kind {
			n++
		}
	}
	return n
}

func TestKill9WhileAppending(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test re-executes the test binary 25 times")
	}
	dir := testDir(t)
	acked := map[string]ack{} // out_trade_no -> last acknowledged Append
	// Start with more resolved orders than retention keeps, so that every
	// compaction in the helper also drops orders while it may be killed.
	j := mustOpen(t, dir)
	base := time.Now().Add(-time.Hour)
	for i := range MinRetain + 20 {
		o := mk(fmt.Sprintf("PRE%03d", i), order.StatePaid, 0)
		o.CreatedAt = base.Add(time.Duration(i) * time.Millisecond)
		mustAppend(t, j, o)
		acked[o.OutTradeNo] = ack{kind: "D", created: o.CreatedAt}
	}
	j.Close()
	const runs = 25
	for run := range runs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "JOURNAL_HELPER=append", "JOURNAL_DIR="+dir, fmt.Sprintf("JOURNAL_RUN=%d", run))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Wait for the first acknowledged Append, then kill at a random
		// moment within the next 100 ms: the kill lands anywhere in a write,
		// an fsync or a compaction.
		first, ok := <-lines
		if !ok || !(strings.HasPrefix(first, "P ") || strings.HasPrefix(first, "D ")) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("run %d: helper said %q", run, first)
		}
		time.Sleep(time.Duration(rand.IntN(100_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		all := []string{first}
		for l := range lines {
			all = append(all, l)
		}
		cmd.Wait()
		for _, l := range all {
			f := strings.Fields(l)
			if len(f) != 3 || (f[0] != "P" && f[0] != "D") {
				t.Fatalf("run %d: helper said %q", run, l)
			}
			ns, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				t.Fatalf("run %d: helper said %q", run, l)
			}
			acked[f[1]] = ack{kind: f[0], created: time.Unix(0, ns)}
		}

		j, err = Open(dir)
		if err != nil {
			t.Fatalf("run %d: reopen after kill: %v", run, err)
		}
		resolved := 0
		for _, x := range j.Recent(0) {
			if x.State.Terminal() {
				resolved++
			}
		}
		for no, a := range acked {
			got, ok := j.Get(no)
			switch {
			case a.kind == "P" && ok && got.State != order.StatePending && got.State != order.StatePaid:
				t.Fatalf("run %d: %s in state %v", run, no, got.State)
			case a.kind == "D" && ok && got.State != order.StatePaid:
				t.Fatalf("run %d: acknowledged paid order %s is %v", run, no, got.State)
			case !ok:
				// Only retention may drop an order, and only a resolved one
				// (an order acknowledged pending may have had its paid record
				// written just before the kill) once MinRetain newer resolved
				// orders are kept. An unresolved order dropped fails here.
				newer := 0
				for _, x := range j.Recent(0) {
					if x.State.Terminal() && x.CreatedAt.After(a.created) {
						newer++
					}
				}
				if newer < MinRetain {
					t.Fatalf("run %d: acknowledged order %s (%s) lost; only %d newer resolved orders kept", run, no, a.kind, newer)
				}
			}
		}
		// Each kill may leave the order it interrupted pending; nothing else.
		if n := len(j.Unresolved()); n > run+1 {
			t.Fatalf("run %d: %d unresolved orders", run, n)
		}
		for _, o := range j.Unresolved() {
			if a, ok := acked[o.OutTradeNo]; ok && a.kind == "D" {
				t.Fatalf("run %d: %s acknowledged paid but journal says %v", run, o.OutTradeNo, o.State)
			}
		}
		if resolved < min(MinRetain, countKind(acked, "D")) {
			t.Fatalf("run %d: only %d resolved orders kept", run, resolved)
		}
		j.Close()
		if m, _ := filepath.Glob(filepath.Join(dir, subdir, "*.corrupt-*")); len(m) != 0 {
			t.Fatalf("run %d: a kill produced mid-file damage: %v", run, m)
		}
	}
	j = mustOpen(t, dir)
	kept := len(j.Recent(0))
	j.Close()
	if kept >= len(acked) {
		t.Fatalf("retention never dropped an order (%d kept of %d): compaction was not exercised", kept, len(acked))
	}
	t.Logf("%d kills, %d orders acknowledged, %d kept", runs, len(acked), kept)
}

func BenchmarkAppend(b *testing.B) {
	j := mustOpen(b, testDir(b))
	defer j.Close()
	o := mk("B0000", order.StatePending, 0)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		o.OutTradeNo = fmt.Sprintf("B%07d", i)
		if err := j.Append(o); err != nil {
			b.Fatal(err)
		}
	}
}
