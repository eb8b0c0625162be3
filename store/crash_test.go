package store

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// The tests here re-execute the test binary as a child (STORE_HELPER=…)
// and kill it with SIGKILL, as journal's tests do.

func helperOpen(dir string) {
	s, err := Open(dir)
	if err != nil {
		fmt.Println("ERR", errors.Is(err, ErrLocked), err)
		os.Exit(0)
	}
	s.Close()
	fmt.Println("OK")
	os.Exit(0)
}

// helperAppend appends orders (pending, then paid) and, for every third, a
// refund (pending, then refunded), printing a line after every write that
// returned nil, until it is killed. STORE_STOP_AFTER=n makes it stop after n
// orders and wait to be killed (the WAL tests), printing the WAL's size after
// each acknowledged write. STORE_CKPT sets wal_autocheckpoint.
func helperAppend(dir, run string) {
	ckpt, _ := strconv.Atoi(os.Getenv("STORE_CKPT"))
	s, err := Open(dir, withCheckpointPages(ckpt))
	if err != nil {
		fmt.Println("OPENERR", err)
		os.Exit(1)
	}
	stopAfter, _ := strconv.Atoi(os.Getenv("STORE_STOP_AFTER"))
	wal := s.Path() + "-wal"
	w := bufio.NewWriter(os.Stdout)
	ack := func(kind, no string, created time.Time) {
		size := int64(-1)
		if stopAfter > 0 {
			if st, err := os.Stat(wal); err == nil {
				size = st.Size()
			}
		}
		fmt.Fprintf(w, "%s %s %d %d\n", kind, no, created.UnixNano(), size)
		w.Flush()
	}
	die := func(err error) {
		fmt.Println("APPENDERR", err)
		os.Exit(1)
	}
	for i := 0; stopAfter == 0 || i < stopAfter; i++ {
		now := time.Now()
		o := order.Order{OutTradeNo: fmt.Sprintf("K%s-%d", run, i), AmountFen: money.Fen(100 + i),
			State: order.StatePending, Guess: order.ChannelAlipay, CodeHash: fmt.Sprintf("h%s-%d", run, i),
			CreatedAt: now, UpdatedAt: now}
		if err := s.Append(o); err != nil {
			die(err)
		}
		ack("P", o.OutTradeNo, o.CreatedAt)
		o.State, o.Channel, o.UpdatedAt = order.StatePaid, order.ChannelAlipay, time.Now()
		if err := s.Append(o); err != nil {
			die(err)
		}
		ack("D", o.OutTradeNo, o.CreatedAt)
		if i%3 == 0 {
			r := Refund{OutRefundNo: "R" + o.OutTradeNo, OutTradeNo: o.OutTradeNo, RefundFen: 50,
				State: RefundPending, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := s.AppendRefund(r); err != nil {
				die(err)
			}
			ack("RP", r.OutRefundNo, r.CreatedAt)
			r.State, r.UpdatedAt = RefundRefunded, time.Now()
			if err := s.AppendRefund(r); err != nil {
				die(err)
			}
			ack("RD", r.OutRefundNo, r.CreatedAt)
		}
	}
	fmt.Fprintln(w, "DONE")
	w.Flush()
	select {} // wait for the kill, so nothing is checkpointed on Close
}

func helperCmd(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the kill tests send SIGKILL; they run on Linux")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func TestSecondProcessIsLocked(t *testing.T) {
	dir := testDir(t)
	s := mustOpen(t, dir)
	mustAppend(t, s, mk("A", order.StatePending, 1))
	run := func() string {
		out, err := helperCmd(t, "STORE_HELPER=open", "STORE_DIR="+dir).CombinedOutput()
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	out := run()
	if !strings.HasPrefix(out, "ERR true") || !strings.Contains(out, "another ScanBox is using the data directory") ||
		!strings.Contains(out, fmt.Sprintf("process %d", os.Getpid())) {
		t.Fatalf("second process got %q, want ErrLocked naming this process", out)
	}
	s.Close()
	if out := run(); out != "OK" {
		t.Fatalf("after Close the second process got %q", out)
	}
}

type acked struct {
	kind    string
	created time.Time
	wal     int64
}

// startHelper runs helperAppend and returns a channel of its parsed lines.
func startHelper(t *testing.T, dir string, run int, env ...string) (*exec.Cmd, <-chan []string) {
	t.Helper()
	cmd := helperCmd(t, append([]string{"STORE_HELPER=append", "STORE_DIR=" + dir, fmt.Sprintf("STORE_RUN=%d", run)}, env...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan []string, 4096)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- strings.Fields(sc.Text())
		}
		close(lines)
	}()
	return cmd, lines
}

func parseAck(t *testing.T, f []string) (string, acked) {
	t.Helper()
	if len(f) != 4 {
		t.Fatalf("helper said %q", f)
	}
	ns, err1 := strconv.ParseInt(f[2], 10, 64)
	wal, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("helper said %q", f)
	}
	return f[1], acked{kind: f[0], created: time.Unix(0, ns), wal: wal}
}

// TestKill9WhileAppending kills a child that appends orders and refunds with
// SIGKILL at 25 random moments (with checkpoints every 16 pages, so kills
// also land inside checkpoints); after each, every write acknowledged before
// the kill must be there, in at least the acknowledged state.
func TestKill9WhileAppending(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary 25 times")
	}
	dir := testDir(t)
	ack := map[string]acked{}
	const runs = 25
	for run := range runs {
		cmd, lines := startHelper(t, dir, run, "STORE_CKPT=16")
		first, ok := <-lines
		if !ok || len(first) == 0 || first[0] != "P" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("run %d: helper said %q", run, first)
		}
		// Kill anywhere within the next 150 ms: inside a write, an fsync,
		// a commit or a checkpoint.
		time.Sleep(time.Duration(rand.IntN(150_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		all := [][]string{first}
		for l := range lines {
			all = append(all, l)
		}
		cmd.Wait()
		for _, f := range all {
			if len(f) > 0 && f[0] == "APPENDERR" || len(f) > 0 && f[0] == "OPENERR" {
				t.Fatalf("run %d: helper said %q", run, f)
			}
			no, a := parseAck(t, f)
			ack[no] = a
		}
		s, err := Open(dir)
		if err != nil {
			t.Fatalf("run %d: reopen after kill: %v", run, err)
		}
		for no, a := range ack {
			switch a.kind {
			case "P", "D":
				o, ok := s.Get(no)
				switch {
				case !ok:
					t.Fatalf("run %d: acknowledged order %s (%s) lost", run, no, a.kind)
				case a.kind == "D" && o.State != order.StatePaid:
					t.Fatalf("run %d: acknowledged paid order %s is %v", run, no, o.State)
				case o.State != order.StatePending && o.State != order.StatePaid:
					t.Fatalf("run %d: %s in state %v", run, no, o.State)
				}
			case "RP", "RD":
				r, ok, err := s.GetRefund(no)
				switch {
				case err != nil || !ok:
					t.Fatalf("run %d: acknowledged refund %s (%s) lost: %v", run, no, a.kind, err)
				case a.kind == "RD" && r.State != RefundRefunded:
					t.Fatalf("run %d: acknowledged refunded %s is %v", run, no, r.State)
				}
			}
		}
		// Each kill may leave the one order it interrupted pending, nothing else.
		if n := len(s.Unresolved()); n > run+1 {
			t.Fatalf("run %d: %d unresolved orders", run, n)
		}
		var ic string
		if err := s.r.QueryRow("PRAGMA integrity_check").Scan(&ic); err != nil || ic != "ok" {
			t.Fatalf("run %d: integrity_check = %q %v", run, ic, err)
		}
		s.Close()
	}
	t.Logf("%d kills, %d writes acknowledged and found", runs, len(ack))
}

// TestTornWAL: a child writes orders and is killed with the WAL not yet
// checkpointed; the WAL's last transaction is then torn (cut short at a
// random byte) or damaged (bytes flipped), as a power cut mid-write would
// leave it. Open must still work and hold every transaction before it.
func TestTornWAL(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	for _, mode := range []string{"cut", "flip", "garbage"} {
		t.Run(mode, func(t *testing.T) {
			dir := testDir(t)
			cmd, lines := startHelper(t, dir, 0, "STORE_STOP_AFTER=12")
			ack := map[string]acked{}
			for f := range lines {
				if len(f) == 1 && f[0] == "DONE" {
					break
				}
				no, a := parseAck(t, f)
				ack[no+"/"+a.kind] = a
			}
			cmd.Process.Kill()
			cmd.Wait()
			wal := filepath.Join(dir, subdir, dbName+"-wal")
			st, err := os.Stat(wal)
			if err != nil {
				t.Fatal(err)
			}
			// The last acknowledged write is the last transaction in the
			// WAL; the one before it ended at prev.
			var last, prev int64
			for _, a := range ack {
				if a.wal > last {
					prev, last = last, a.wal
				} else if a.wal > prev && a.wal < last {
					prev = a.wal
				}
			}
			if last != st.Size() || prev <= 0 || prev >= last {
				t.Fatalf("WAL is %d bytes; last transaction %d..%d", st.Size(), prev, last)
			}
			pos := prev + 1 + rand.Int64N(last-prev-1)
			f, err := os.OpenFile(wal, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			switch mode {
			case "cut":
				err = f.Truncate(pos)
			case "flip":
				b := make([]byte, 1)
				f.ReadAt(b, pos)
				b[0] ^= 0x5a
				_, err = f.WriteAt(b, pos)
			case "garbage":
				// A tail that was never written: zeros after the cut. The
				// cut starts at a byte that is not zero already (page free
				// space is zeros, and zeroing zeros tears nothing).
				pos, err = nonZeroAt(f, prev+1, last)
				if err == nil {
					err = f.Truncate(pos)
				}
				if err == nil {
					_, err = f.WriteAt(make([]byte, 3000), pos)
				}
			}
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir)
			if err != nil {
				t.Fatalf("Open after a torn WAL: %v", err)
			}
			defer s.Close()
			missing := 0
			for key, a := range ack {
				no, kind, _ := strings.Cut(key, "/")
				var found bool
				switch kind {
				case "P":
					_, found = s.Get(no)
				case "D":
					o, ok := s.Get(no)
					found = ok && o.State == order.StatePaid
				case "RP":
					_, found, _ = s.GetRefund(no)
				case "RD":
					r, ok, _ := s.GetRefund(no)
					found = ok && r.State == RefundRefunded
				}
				switch {
				case !found && a.wal < last:
					t.Fatalf("%s (%s, WAL end %d) lost though only the transaction after %d was damaged", no, kind, a.wal, prev)
				case !found:
					missing++
				}
			}
			if missing != 1 {
				t.Fatalf("%d writes missing, want exactly the damaged last one", missing)
			}
			var ic string
			if err := s.r.QueryRow("PRAGMA integrity_check").Scan(&ic); err != nil || ic != "ok" {
				t.Fatalf("integrity_check = %q %v", ic, err)
			}
			// And the store takes new orders after the repair.
			mustAppend(t, s, mk("after", order.StatePending, 1))
		})
	}
}

// nonZeroAt picks at random a position in [from, to) of f whose byte is not
// zero, so that writing zeros from there on really damages the data.
func nonZeroAt(f *os.File, from, to int64) (int64, error) {
	b := make([]byte, to-from)
	if _, err := f.ReadAt(b, from); err != nil {
		return 0, err
	}
	var at []int64
	for i, c := range b {
		if c != 0 {
			at = append(at, from+int64(i))
		}
	}
	if len(at) == 0 {
		return 0, fmt.Errorf("the last transaction (%d..%d) is all zeros", from, to)
	}
	return at[rand.IntN(len(at))], nil
}
