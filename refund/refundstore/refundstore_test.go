package refundstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
	"github.com/scanbox/scanbox/refund"
	"github.com/scanbox/scanbox/store"
)

func TestConvertRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for s := refund.StatePending; s <= refund.StateChange; s++ {
		r := refund.Refund{OutRefundNo: "RF1", OutTradeNo: "SB1", RefundFen: 12, State: s, RefundID: "R", Reason: "why",
			CreatedAt: now, UpdatedAt: now, SentAt: now, ErrCode: "E", Message: "M", MchID: "1", TerminalID: "T"}
		st := ToStore(r)
		if st.State.String() != s.String() || st.State.Terminal() != s.Terminal() || st.State.MayRefund() != s.MayRefund() {
			t.Errorf("%v became %v", s, st.State)
		}
		if back := FromStore(st); back != r {
			t.Errorf("round trip %+v → %+v", r, back)
		}
	}
}

type okPIN struct{}

func (okPIN) Check(string) error { return nil }

const simKey = "0123456789abcdef0123456789abcdef"

func client(t testing.TB, base string) *payclient.Client {
	c, err := payclient.New(payclient.Config{BaseURL: base, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID,
		Key: []byte(simKey), TerminalSN: banksim.TerminalSN(banksim.DefaultMchID, banksim.DefaultTerminalID),
		DeviceID: "5eed000000000000000000000000000000000000000000000000000000000002", HTTPTimeout: 2 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func simOpts(seed int64) banksim.Options {
	var fs []banksim.Fault
	for _, k := range []banksim.FaultKind{banksim.FaultRequestLost, banksim.FaultResponseLost, banksim.FaultHTTP5xx,
		banksim.FaultNotJSON, banksim.FaultBadSignature, banksim.FaultForgedSuccess, banksim.FaultSlow, banksim.FaultSystemError} {
		fs = append(fs, banksim.Fault{Kind: k})
	}
	return banksim.Options{TerminalKeys: map[string]string{banksim.DefaultTerminalID: simKey}, RefundDelay: 120 * time.Millisecond,
		SlowDelay: 40 * time.Millisecond, Seed: seed, FaultRate: 0.2, Faults: fs}
}

var cfg = refund.Config{PollInterval: 20 * time.Millisecond, FollowFor: 400 * time.Millisecond, ResolveEvery: 50 * time.Millisecond}

func number(time.Time) string {
	var b [12]byte
	rand.Read(b[:])
	s := []byte("RFS")
	for _, c := range b {
		s = append(s, "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"[int(c)%34])
	}
	return string(append(s, "0478"[int(b[0])%4])) // at once, processing → success / failed / CHANGE
}

func attempt(rng *mrand.Rand, r *refund.Runner, orders []string) refund.Request {
	no := orders[rng.IntN(len(orders))]
	left, err := r.Remaining(no)
	if err != nil || left <= 0 {
		left = 1
	}
	amt := 1 + money.Fen(rng.IntN(int(max(left/2, 1))))
	if rng.IntN(5) == 0 {
		amt = left + 1
	}
	return refund.Request{OutTradeNo: no, Amount: amt}
}

const (
	envChild = "SCANBOX_REFUNDSTORE_CHILD"
	envBase  = "SCANBOX_REFUNDSTORE_BASE"
	envDir   = "SCANBOX_REFUNDSTORE_DIR"
)

// TestSQLiteCrashChild is the refunding process of TestCrashOnSQLite.
func TestSQLiteCrashChild(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		return
	}
	s, err := store.Open(os.Getenv(envDir))
	if err != nil {
		t.Fatal(err)
	}
	a := New(s)
	var orders []string
	for _, o := range s.Recent(0) {
		orders = append(orders, o.OutTradeNo)
	}
	r := refund.New(a, client(t, os.Getenv(envBase)), okPIN{}, cfg, nil, refund.WithNumbers(number))
	ctx := context.Background()
	go r.Background(ctx)
	fmt.Println("ready") // the parent counts its random delay from here
	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for {
		done := make(chan struct{}, 3)
		for range 3 {
			go func() {
				r.Refund(ctx, attempt(rng, r, orders))
				fmt.Println("done")
				done <- struct{}{}
			}()
		}
		for range 3 {
			<-done
		}
	}
}

// TestCrashOnSQLite: the refund runner on the real SQLite store (through
// this adapter), its process killed with SIGKILL 20 times at random
// moments, then resolved: the store agrees with the simulator's ledger,
// nothing executed twice, no order beyond its amount, nothing unresolved.
func TestCrashOnSQLite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL of a child: POSIX only")
	}
	const kills = 20
	rng := mrand.New(mrand.NewPCG(9, 9))
	sim, base := simtest.NewServer(t, simOpts(9))
	dir := t.TempDir()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	amounts := map[string]money.Fen{}
	for i := range 25 {
		no := fmt.Sprintf("SBSQL%06d", i)
		fen := money.Fen(200 + rng.IntN(3000))
		if err := sim.AddBankOnlyPayment(banksim.DefaultTerminalID, no, fen, order.ChannelWeChat, time.Time{}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if err := s.Append(order.Order{OutTradeNo: no, Kind: order.KindMicropay, AmountFen: fen, State: order.StatePaid,
			CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		amounts[no] = fen
	}
	s.Close()
	exe, _ := os.Executable()
	left := 0
	for i := range kills {
		cmd := exec.Command(exe, "-test.run=^TestSQLiteCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChild+"=1", envBase+"="+base, envDir+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a random moment after the child is up (start-up takes
		// long under -race; kills before it would prove nothing).
		ready := bufio.NewReader(out)
		if line, err := ready.ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("run %d: child not ready (%q, %v): %s", i, line, err, stderr.String())
		}
		// Then after 0–2 refunds the child finished, and a random delay:
		// kills land anywhere in refunding, however slow the machine.
		progress := make(chan struct{}, 1000)
		go func() {
			for {
				if _, err := ready.ReadString('\n'); err != nil {
					close(progress)
					return
				}
				progress <- struct{}{}
			}
		}()
		for range rng.IntN(3) {
			<-progress
		}
		time.Sleep(time.Duration(rng.IntN(250)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("run %d ended by itself (%v): %s", i, err, stderr.String())
		}
		s, err := store.Open(dir)
		if err != nil {
			t.Fatalf("after kill %d: %v", i, err)
		}
		un, _ := s.UnresolvedRefunds()
		left += len(un)
		s.Close()
	}
	sim.WaitIdle()
	s, err = store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := New(s)
	r := refund.New(a, client(t, base), okPIN{}, cfg, nil)
	for range 200 {
		un, err := a.UnresolvedRefunds()
		if err != nil {
			t.Fatal(err)
		}
		if len(un) == 0 {
			break
		}
		r.ResolveAll(context.Background())
	}
	mine, err := a.Recent(0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[payclient.RefundState]refund.State{payclient.RefundSuccess: refund.StateRefunded,
		payclient.RefundFailed: refund.StateFailed, payclient.RefundChange: refund.StateChange}
	bank := map[string]banksim.RefundEntry{}
	for _, e := range sim.Refunds() {
		bank[e.OutRefundNo] = e
	}
	byNo := map[string]refund.Refund{}
	sums := map[string]money.Fen{}
	for _, x := range mine {
		byNo[x.OutRefundNo] = x
		e, ok := bank[x.OutRefundNo]
		switch {
		case !x.State.Terminal():
			t.Errorf("refund %s unresolved", x.OutRefundNo)
		case !ok && x.State != refund.StateFailed:
			t.Errorf("refund %s %v here, unknown to the bank", x.OutRefundNo, x.State)
		case ok && want[e.State] != x.State:
			t.Errorf("refund %s: bank %v, store %v", x.OutRefundNo, e.State, x.State)
		case ok && e.RefundID != x.RefundID:
			t.Errorf("refund %s: refund_id bank %s, store %q", x.OutRefundNo, e.RefundID, x.RefundID)
		}
		if x.State.MayRefund() {
			sums[x.OutTradeNo] += x.RefundFen
		}
	}
	for no := range bank {
		if _, ok := byNo[no]; !ok {
			t.Errorf("the bank has refund %s, the store does not", no)
		}
	}
	for k, n := range sim.RefundExecutions() {
		if n != 1 {
			t.Errorf("refund %s executed %d times", k, n)
		}
	}
	for _, e := range sim.Ledger() {
		if e.Refunded > e.TotalFee || sums[e.OutTradeNo] != e.Refunded || sums[e.OutTradeNo] > amounts[e.OutTradeNo] {
			t.Errorf("order %s: bank refunded %v, store %v, amount %v", e.OutTradeNo, e.Refunded, sums[e.OutTradeNo], e.TotalFee)
		}
	}
	if len(mine) < 20 || left < kills/2 {
		t.Errorf("kills proved little: %d refunds, %d left unresolved by the kills", len(mine), left)
	}
	t.Logf("%d kills, %d refunds on SQLite, %d left unresolved by the kills (summed), faults %v", kills, len(mine), left, sim.FaultCounts())
}
