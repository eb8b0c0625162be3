package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim"
)

// servePacing makes the served runner quick enough for a test: a running
// instance uses its configuration's pacing, not a client's flags.
func servePacing(t *testing.T, dir string) {
	t.Helper()
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PollInterval = config.Duration(50 * time.Millisecond)
	cfg.PollTimeout = config.Duration(1500 * time.Millisecond)
	cfg.HTTPTimeout = config.Duration(400 * time.Millisecond)
	if err := config.Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
}

// startServe runs `scanbox serve` and waits for its "serving DIR" line.
func startServe(t *testing.T, bin, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data-dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "serving "+dir {
		t.Fatalf("serve's first line is %q, want %q", sc.Text(), "serving "+dir)
	}
	go io.Copy(io.Discard, out)
	return cmd
}

type statusJSON struct {
	Activated bool `json:"activated"`
	Owner     *struct {
		PID  int    `json:"pid"`
		Kind string `json:"kind"`
	} `json:"owner"`
	Unresolved int `json:"unresolved_orders"`
	InFlight   int `json:"payments_in_flight"`
}

func status(t *testing.T, bin, dir string) statusJSON {
	t.Helper()
	out, code := run(t, bin, "status", "--data-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("status exit %d", code)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return st
}

// journalEqualsLedger checks every journal order against the bank's ledger
// and the other way round, and that no code was paid twice.
func journalEqualsLedger(t *testing.T, bin, dir, base string) int {
	t.Helper()
	out, code := run(t, bin, "orders", "--data-dir", dir, "--json", "--limit", "1000")
	if code != 0 {
		t.Fatalf("orders exit %d", code)
	}
	var orders []cliOrder
	if err := json.Unmarshal([]byte(out), &orders); err != nil {
		t.Fatalf("orders --json: %v\n%s", err, out)
	}
	rep, err := banksim.FetchLedger(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	ledger := map[string]*banksim.LedgerEntry{}
	for i := range rep.Entries {
		ledger[rep.Entries[i].OutTradeNo] = &rep.Entries[i]
	}
	seen := map[string]bool{}
	for _, o := range orders {
		seen[o.OutTradeNo] = true
		st, err := order.ParseState(o.State)
		if err != nil || !st.Terminal() {
			t.Errorf("order %s left %q after resolve", o.OutTradeNo, o.State)
			continue
		}
		if !ledgerMatches(order.Order{State: st, TransactionID: o.TransactionID, ErrCode: o.ErrCode}, ledger[o.OutTradeNo]) {
			t.Errorf("order %s: journal %s, ledger %+v", o.OutTradeNo, o.State, ledger[o.OutTradeNo])
		}
	}
	for no, e := range ledger {
		if !seen[no] {
			t.Errorf("the bank has order %s (%v) that the journal never recorded", no, e.State)
		}
	}
	for c, n := range rep.PaidCountByCode {
		if n > 1 {
			t.Errorf("code %s…%s paid %d times", c[:4], c[len(c)-4:], n)
		}
	}
	return len(orders)
}

func resolveUntilClean(t *testing.T, bin, dir string) int {
	t.Helper()
	rounds, code := 0, 3
	for ; code == 3 && rounds < 10; rounds++ {
		_, code = run(t, bin, "resolve", "--data-dir", dir, "--json")
	}
	if code != 0 {
		t.Fatalf("resolve exit %d after %d rounds", code, rounds)
	}
	return rounds
}

// TestServeManyClients: `scanbox serve` owns a data directory; 24 `scanbox
// pay` processes, 4 at a time, against a simulator that drops, slows and
// tampers with answers. None is refused for the lock: each is carried out
// by the running instance. After resolve the journal equals the bank's
// ledger; SIGTERM with payments in flight stops serve within 10 s, and what
// it leaves is journaled: resolve without it brings the journal and the
// ledger together again.
func TestServeManyClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildScanbox(t)
	base := startBanksim(t, bin, "--password-delay", "300ms", "--fault-rate", "0.15", "--slow", "700ms", "--seed", "11")
	dir := t.TempDir()
	if out, code := run(t, bin, "activate", "--data-dir", dir, "--url", base, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != 0 {
		t.Fatalf("activate exit %d: %s", code, out)
	}
	servePacing(t, dir)
	srv := startServe(t, bin, dir)

	if st := status(t, bin, dir); st.Owner == nil || st.Owner.Kind != "serve" || st.Owner.PID != srv.Process.Pid || !st.Activated {
		t.Fatalf("status while serve runs: %+v", st)
	}

	type result struct {
		code   int
		stderr string
		res    struct {
			OutTradeNo string `json:"out_trade_no"`
			State      string `json:"state"`
		}
	}
	pay := func(i int) result {
		cmd := exec.Command(bin, "pay", "--data-dir", dir, "--amount", fmt.Sprintf("%d.%02d", 1+i, i%100),
			"--code", randomCode(t, i), "--json")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		r := result{stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Errorf("pay %d: %v", i, err)
		}
		if err := json.Unmarshal(out, &r.res); err != nil {
			t.Errorf("pay %d printed no JSON (exit %d, stderr %q): %s", i, r.code, r.stderr, out)
		}
		return r
	}
	const total, parallel = 24, 4
	results := make([]result, total)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range total {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = pay(i)
		}()
	}
	wg.Wait()
	counts := map[string]int{}
	for i, r := range results {
		counts[r.res.State]++
		if r.code != 0 && r.code != 1 && r.code != 3 {
			t.Errorf("pay %d: exit %d (stderr %q)", i, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "using this data directory") || strings.Contains(r.stderr, "lock") {
			t.Errorf("pay %d refused for the lock: %q", i, r.stderr)
		}
		want := map[string]int{"paid": 0, "failed": 1, "closed": 1, "revoked": 1, "unknown": 3}[r.res.State]
		if r.res.State != "" && r.code != want {
			t.Errorf("pay %d: state %s but exit %d", i, r.res.State, r.code)
		}
	}
	if counts["paid"] == 0 {
		t.Fatalf("no payment was paid: %v", counts)
	}
	rounds := resolveUntilClean(t, bin, dir)
	n := journalEqualsLedger(t, bin, dir, base)
	if n != total {
		t.Errorf("journal has %d orders, want %d", n, total)
	}

	// Payers still confirming when the stop comes.
	var late sync.WaitGroup
	for i := range 4 {
		late.Add(1)
		go func() {
			defer late.Done()
			r := pay(100 + i*10 + 4) // last digit 4: the payer types a password
			if r.code == 2 {
				t.Errorf("late pay: exit 2 (%q)", r.stderr)
			}
		}()
	}
	time.Sleep(400 * time.Millisecond)
	start := time.Now()
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(10 * time.Second): // the contract's bound, not a speed target
		t.Fatal("serve did not stop within 10 s of SIGTERM")
	}
	stopped := time.Since(start)
	late.Wait()
	if _, err := os.Stat(filepath.Join(dir, "scanbox.sock")); !os.IsNotExist(err) {
		t.Errorf("the socket is left behind: %v", err)
	}
	// With no owner the commands open the directory themselves.
	if st := status(t, bin, dir); st.Owner != nil {
		t.Errorf("status after stop names an owner: %+v", st.Owner)
	}
	resolveUntilClean(t, bin, dir)
	n = journalEqualsLedger(t, bin, dir, base)
	t.Logf("%d payments (%v), %d resolve rounds; serve stopped %v after SIGTERM; %d orders journaled and at the bank",
		total, counts, rounds, stopped.Round(time.Millisecond), n)
}

// TestServeRefusesSecondOwner: a second serve (or a tray) on the same data
// directory is refused in one line, and activation goes through the owner,
// which refuses it while an order is open.
func TestServeRefusesSecondOwner(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildScanbox(t)
	base := startBanksim(t, bin, "--password-delay", "1h")
	dir := t.TempDir()
	act := func() (string, int) {
		return run(t, bin, "activate", "--data-dir", dir, "--url", base, "--mch", banksim.DefaultMchID,
			"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode)
	}
	if _, code := act(); code != 0 {
		t.Fatalf("activate exit %d", code)
	}
	srv := startServe(t, bin, dir)
	cmd := exec.Command(bin, "serve", "--data-dir", dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 ||
		!strings.Contains(stderr.String(), "serve, process") {
		t.Errorf("second serve: %v, stderr %q", err, stderr.String())
	}
	// Re-activating the same terminal through the owner works while nothing is open.
	if _, code := act(); code != 0 {
		t.Fatalf("activate through serve exit %d", code)
	}
	// A payer who never finishes typing: activation must wait for it.
	p := exec.Command(bin, "pay", "--data-dir", dir, "--amount", "5.00", "--code", "134567890123456784")
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Process.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for status(t, bin, dir).InFlight == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the payment never got in flight")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, code := act(); code != 3 {
		t.Errorf("activation with a payment in flight: exit %d, want 3", code)
	}
	// SIGTERM while that payer is still typing: serve gives it 5 s, then
	// stops following it and exits; the order stays in the journal, open,
	// for the next owner or resolve, and the client hears "unresolved".
	start := time.Now()
	srv.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v", err)
		}
	case <-time.After(10 * time.Second): // the contract's bound
		t.Fatal("serve did not stop within 10 s of SIGTERM")
	}
	stopped := time.Since(start)
	if err := p.Wait(); err == nil || err.(*exec.ExitError).ExitCode() != 3 {
		t.Errorf("the pay client of a payment stopped by shutdown: %v, want exit 3", err)
	}
	out, code := run(t, bin, "orders", "--data-dir", dir, "--json")
	var orders []cliOrder
	if code != 0 || json.Unmarshal([]byte(out), &orders) != nil || len(orders) != 1 {
		t.Fatalf("orders after stop: %d %s", code, out)
	}
	if st, _ := order.ParseState(orders[0].State); st.Terminal() {
		t.Errorf("the stopped payment is %s in the journal; the payer had not confirmed", orders[0].State)
	}
	rep, err := banksim.FetchLedger(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Entries) != 1 || rep.Entries[0].OutTradeNo != orders[0].OutTradeNo {
		t.Errorf("bank ledger %+v, journal %+v", rep.Entries, orders)
	}
	t.Logf("serve stopped %v after SIGTERM with a payer confirming; the order is %s in the journal", stopped.Round(time.Millisecond), orders[0].State)
}
