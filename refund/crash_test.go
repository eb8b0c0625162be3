package refund

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

// Environment of the crash child (TestCrashChild in a re-executed test
// binary).
const (
	envChild  = "SCANBOX_REFUND_CRASH_CHILD"
	envBase   = "SCANBOX_REFUND_CRASH_BASE"
	envFile   = "SCANBOX_REFUND_CRASH_FILE"
	envOrders = "SCANBOX_REFUND_CRASH_ORDERS"
)

// TestCrashChild is the refunding process of TestRefundCrashSafety: it
// resolves what an earlier run left and refunds without end until killed.
// Run on its own (without the environment) it has nothing to do.
func TestCrashChild(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		return
	}
	st, err := openFileStore(os.Getenv(envFile))
	if err != nil {
		t.Fatal(err)
	}
	var orders []order.Order
	if err := json.Unmarshal([]byte(os.Getenv(envOrders)), &orders); err != nil {
		t.Fatal(err)
	}
	bank := simClient(t, os.Getenv(envBase), nil)
	r := New(st, bank, okPIN{}, Config{PollInterval: 20 * time.Millisecond, FollowFor: 400 * time.Millisecond,
		ResolveEvery: 50 * time.Millisecond}, nil, WithNumbers(randomBehaviourNumber))
	ctx := context.Background()
	go r.Background(ctx)
	fmt.Println("ready") // the parent counts its random delay from here
	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for {
		errs := make(chan error, 3)
		for range 3 {
			go func() {
				_, err := r.Refund(ctx, refundAttempt(rng, r, orders))
				fmt.Println("done")
				errs <- err
			}()
		}
		for range 3 {
			if err := <-errs; err != nil && !errors.Is(err, ErrOverRefund) && !errors.Is(err, ErrUnresolved) {
				fmt.Fprintln(os.Stderr, "refund refused:", err)
			}
		}
	}
}

// randomBehaviourNumber is unique across processes (random) and picks the
// simulator's behaviour by its last character.
func randomBehaviourNumber(time.Time) string {
	var b [12]byte
	rand.Read(b[:])
	s := []byte("RFC")
	for _, c := range b {
		s = append(s, noAlphabet[int(c)%len(noAlphabet)])
	}
	return string(append(s, behaviourChars[int(b[0])%len(behaviourChars)]))
}

// TestRefundCrashSafety kills a refunding process with SIGKILL at random
// moments (≥ 20 times: mid-request, mid-store, mid-follow), then resolves
// from what is on disk: every refund's final state equals the simulator's
// ledger, none was executed twice, no order refunded beyond its amount,
// no forged success recorded, nothing unresolved.
func TestRefundCrashSafety(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL of a child: POSIX only (the refund logic is the same on Windows)")
	}
	const kills = 22
	rng := mrand.New(mrand.NewPCG(3, 5))
	sim, base := simtest.NewServer(t, simOptions(3, 0.2))
	file := dataFile(t)
	st, err := openFileStore(file)
	if err != nil {
		t.Fatal(err)
	}
	orders := soakOrders(t, sim, st, 40, rng)
	st.Close()
	js, _ := json.Marshal(orders)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	leftStates := map[State]int{}
	for i := range kills {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChild+"=1", envBase+"="+base, envFile+"="+file, envOrders+"="+string(js))
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
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("run %d: child ended by itself (%v): %s", i, err, stderr.String())
		}
		if stderr.Len() > 0 {
			t.Logf("run %d stderr: %s", i, stderr.String())
		}
		// What this kill left behind, for the figures (the next run, or
		// the final resolve, must finish it).
		left, err := openFileStore(file)
		if err != nil {
			t.Fatalf("after kill %d the store does not open: %v", i, err)
		}
		un, _ := left.UnresolvedRefunds()
		for _, x := range un {
			leftStates[x.State]++
		}
		left.Close()
	}
	// Every request the killed processes sent has been answered by now
	// (the simulator's slow fault is 40 ms).
	sim.WaitIdle()
	st, err = openFileStore(file)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	unresolvedAfterKills, _ := st.UnresolvedRefunds()
	r := New(st, simClient(t, base, nil), okPIN{}, Config{PollInterval: 20 * time.Millisecond,
		FollowFor: 400 * time.Millisecond}, nil)
	resolveUntilDone(t, r, st)
	refunds, multi := checkAgainstLedger(t, sim, st, orders)
	sumLeft := 0
	for _, n := range leftStates {
		sumLeft += n
	}
	if refunds < 20 || sumLeft < kills/2 {
		t.Errorf("kills proved little: %d refunds, %d left unresolved by the kills", refunds, sumLeft)
	}
	info, _ := os.Stat(file)
	t.Logf("%d kills; %d refunds (%d orders refunded ≥2 times); left unresolved by the kills: %v (%d after the last); store %d bytes in %s",
		kills, refunds, multi, leftStates, len(unresolvedAfterKills), info.Size(), filepath.Base(file))
}
