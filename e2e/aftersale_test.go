package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/store"
)

// runFull runs the program and returns stdout, stderr and the exit code.
func runFull(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return string(out), stderr.String(), code
}

// mustJSON runs a command that must succeed and decodes its JSON.
func mustJSON(t *testing.T, v any, bin string, args ...string) {
	t.Helper()
	out, stderr, code := runFull(t, bin, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

type totalsJSON struct {
	PaidFen     int64 `json:"paid_fen"`
	RefundedFen int64 `json:"refunded_fen"`
	NetFen      int64 `json:"net_fen"`
	PaidCount   int   `json:"paid_count"`
	RefundCount int   `json:"refund_count"`
	Unresolved  int   `json:"unresolved"`
}

type summaryOut struct {
	Date  string `json:"date"`
	Shift *struct {
		ID      int64  `json:"id"`
		Cashier string `json:"cashier"`
	} `json:"shift"`
	Total    totalsJSON `json:"total"`
	Channels []struct {
		Channel string `json:"channel"`
		totalsJSON
	} `json:"channels"`
}

type historyStatus struct {
	Owner *struct {
		Kind string `json:"kind"`
	} `json:"owner"`
	UnresolvedRefunds int `json:"unresolved_refunds"`
	Shift             *struct {
		ID      int64  `json:"id"`
		Cashier string `json:"cashier"`
	} `json:"shift"`
}

// TestAftersaleHistory: with `scanbox serve` owning the data directory, a
// shift is opened, three payments are taken, and summary, shift, orders
// (by date) and refunds — all carried out by the owner — report exactly
// those payments; the shift closes with its summary kept; after serve stops
// the same commands, opening the directory themselves, say the same.
// Usage mistakes are exit 2 in one line pointing at --help.
func TestAftersaleHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildScanbox(t)
	base := startBanksim(t, bin)
	dir := t.TempDir()
	if out, code := run(t, bin, "activate", "--data-dir", dir, "--url", base, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != 0 {
		t.Fatalf("activate exit %d: %s", code, out)
	}
	servePacing(t, dir)
	slips := filepath.Join(t.TempDir(), "slips.bin")
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Receipt.Printer = "file:" + slips
	if err := config.Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, bin, dir)
	d := []string{"--data-dir", dir}
	with := func(args ...string) []string { return append(args, d...) }

	out, stderr, code := runFull(t, bin, with("shift", "open", "--cashier", "王芳")...)
	if code != 0 || !strings.Contains(out, "王芳") {
		t.Fatalf("shift open: exit %d, %q %q", code, out, stderr)
	}
	if _, stderr, code := runFull(t, bin, with("shift", "open", "--cashier", "李雷")...); code != 1 || !strings.Contains(stderr, "still open") {
		t.Errorf("second shift open: exit %d, %q", code, stderr)
	}
	var st historyStatus
	mustJSON(t, &st, bin, with("status", "--json")...)
	if st.Owner == nil || st.Owner.Kind != "serve" || st.Shift == nil || st.Shift.Cashier != "王芳" || st.UnresolvedRefunds != 0 {
		t.Fatalf("status: %+v", st)
	}

	// WeChat (13…), Alipay (28…), UnionPay (62…).
	pays := []struct {
		amount, code string
		fen          int64
	}{{"12.50", "134567890123456781", 1250}, {"3.00", "284567890123456782", 300}, {"100.05", "6212345678901234563", 10005}}
	var want int64
	for _, p := range pays {
		if _, stderr, code := runFull(t, bin, with("pay", "--amount", p.amount, "--code", p.code, "--json")...); code != 0 {
			t.Fatalf("pay %s: exit %d, %q", p.amount, code, stderr)
		}
		want += p.fen
	}

	check := func(what string, s summaryOut) {
		t.Helper()
		if s.Total.PaidCount != 3 || s.Total.PaidFen != want || s.Total.NetFen != want || s.Total.RefundCount != 0 || s.Total.Unresolved != 0 {
			t.Errorf("%s: total %+v, want 3 paid, %d fen", what, s.Total, want)
		}
		var sum int64
		for _, ch := range s.Channels {
			sum += ch.PaidFen
		}
		if len(s.Channels) != 3 || sum != want {
			t.Errorf("%s: channels %+v", what, s.Channels)
		}
	}
	today := time.Now().In(store.China).Format(time.DateOnly)
	var sum summaryOut
	mustJSON(t, &sum, bin, with("summary", "--json")...)
	if sum.Date != today {
		t.Errorf("summary date %q, want %q", sum.Date, today)
	}
	check("summary", sum)
	sum = summaryOut{}
	mustJSON(t, &sum, bin, with("summary", "--shift", "current", "--json")...)
	if sum.Shift == nil || sum.Shift.Cashier != "王芳" {
		t.Errorf("summary --shift current: shift %+v", sum.Shift)
	}
	check("summary --shift current", sum)
	text, _, _ := runFull(t, bin, with("summary")...)
	if !strings.Contains(text, "TOTAL") || !strings.Contains(text, "115.55") || !strings.Contains(text, "WeChat Pay") {
		t.Errorf("summary text lacks the total in yuan:\n%s", text)
	}

	var orders []struct {
		OutTradeNo  string `json:"out_trade_no"`
		RefundedFen *int64 `json:"refunded_fen"`
	}
	mustJSON(t, &orders, bin, with("orders", "--date", today, "--json")...)
	if len(orders) != 3 || orders[0].RefundedFen == nil || *orders[0].RefundedFen != 0 {
		t.Errorf("orders --date today: %+v", orders)
	}
	orders = nil
	mustJSON(t, &orders, bin, with("orders", "--date", "2020-01-01", "--json")...)
	if len(orders) != 0 {
		t.Errorf("orders on 2020-01-01: %d", len(orders))
	}
	orders = nil
	mustJSON(t, &orders, bin, with("orders", "--since", time.Now().Add(time.Hour).Format(time.RFC3339), "--json")...)
	if len(orders) != 0 {
		t.Errorf("orders since an hour ahead: %d", len(orders))
	}
	orders = nil
	mustJSON(t, &orders, bin, with("orders", "--since", time.Now().Add(-time.Hour).Format(time.RFC3339), "--until",
		time.Now().Add(time.Hour).Format(time.RFC3339), "--limit", "2", "--json")...)
	if len(orders) != 2 {
		t.Errorf("orders since an hour ago, limit 2: %d", len(orders))
	}
	var refunds []json.RawMessage
	mustJSON(t, &refunds, bin, with("refunds", "--json")...)
	if len(refunds) != 0 {
		t.Errorf("refunds before any: %s", refunds)
	}

	var closed struct {
		ID       int64     `json:"id"`
		ClosedAt time.Time `json:"closed_at"`
		Summary  *struct {
			Total totalsJSON `json:"total"`
		} `json:"summary"`
	}
	mustJSON(t, &closed, bin, with("shift", "close", "--json")...)
	if closed.ClosedAt.IsZero() || closed.Summary == nil || closed.Summary.Total.PaidFen != want || closed.Summary.Total.PaidCount != 3 {
		t.Errorf("shift close: %+v", closed)
	}
	// The shift summary slip: one slip, its total in yuan.
	if b, err := os.ReadFile(slips); err != nil || strings.Count(string(b), "\x1b@") != 1 || !strings.Contains(string(b), "115.55") {
		t.Errorf("shift slip: %v, %q", err, b)
	}
	if _, stderr, code := runFull(t, bin, with("shift", "close")...); code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("second shift close: exit %d, %q", code, stderr)
	}

	// Usage mistakes: exit 2, one line, pointing at the command's help.
	for _, args := range [][]string{
		{"summary", "--date", "2026-13-01"},
		{"summary", "--date", "2026-12-01", "--shift", "current"},
		{"summary", "--shift", "x"},
		{"orders", "--date", today, "--since", "2026-12-01T00:00:00+08:00"},
		{"orders", "--since", "yesterday"},
		{"refunds", "--until", "2026-12-01"},
		{"shift", "open"},
		{"shift", "nap"},
	} {
		_, stderr, code := runFull(t, bin, with(args...)...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, fmt.Sprintf("see `scanbox %s", args[0])) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}

	// Without an owner the commands open the directory themselves.
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	sum = summaryOut{}
	mustJSON(t, &sum, bin, with("summary", "--date", today, "--json")...)
	check("summary without serve", sum)
	var shifts []struct {
		ID      int64  `json:"id"`
		Cashier string `json:"cashier"`
		Summary *struct {
			Total totalsJSON `json:"total"`
		} `json:"summary"`
	}
	mustJSON(t, &shifts, bin, with("shift", "list", "--json")...)
	if len(shifts) != 1 || shifts[0].ID != closed.ID || shifts[0].Summary == nil || shifts[0].Summary.Total.PaidFen != want {
		t.Errorf("shift list: %+v", shifts)
	}
	st = historyStatus{}
	mustJSON(t, &st, bin, with("status", "--json")...)
	if st.Owner != nil || st.Shift != nil {
		t.Errorf("status after close without serve: %+v", st)
	}
}

// runIn runs the program with stdin and extra environment.
func runIn(t *testing.T, stdin string, env []string, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return string(out), stderr.String(), code
}

type refundOut struct {
	OutRefundNo string `json:"out_refund_no"`
	OutTradeNo  string `json:"out_trade_no"`
	State       string `json:"state"`
	RefundFen   int64  `json:"refund_fen"`
	RefundID    string `json:"refund_id"`
	Error       string `json:"error"`
}

// TestAftersaleRefundsAndReconcile: the manager PIN (set, checked, wrong,
// none set: refused with nothing stored), refunds carried out by `serve`
// (full and partial, over the remainder refused), a refund left processing
// when the command ends (exit 3, shown by status) and finished by resolve,
// the summary's refunded and net amounts, and reconciliation: a clean day
// agrees (exit 0); a payment only the bank knows and an order revoked at the
// bank are exactly two differences (exit 1); no bill is exit 3. The PIN is in
// no file of the data directory.
func TestAftersaleRefundsAndReconcile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	const thePIN = "246810"
	bin := buildScanbox(t)
	base := startBanksim(t, bin, "--refund-delay", "2500ms")
	dir := t.TempDir()
	if out, code := run(t, bin, "activate", "--data-dir", dir, "--url", base, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != 0 {
		t.Fatalf("activate exit %d: %s", code, out)
	}
	servePacing(t, dir)
	d := []string{"--data-dir", dir}
	with := func(args ...string) []string { return append(args, d...) }
	pay := func(amount, code string) string {
		t.Helper()
		var res struct {
			OutTradeNo string `json:"out_trade_no"`
			State      string `json:"state"`
		}
		mustJSON(t, &res, bin, with("pay", "--amount", amount, "--code", code, "--json")...)
		if res.State != "paid" {
			t.Fatalf("pay %s: %+v", amount, res)
		}
		return res.OutTradeNo
	}
	atOnce := []string{core.TestHookRefundSuffix + "=A"}
	refundCmd := func(pin string, env []string, args ...string) (refundOut, string, int) {
		t.Helper()
		out, stderr, code := runIn(t, pin+"\n", env, bin, with(append([]string{"refund", "--pin-stdin", "--json"}, args...)...)...)
		var r refundOut
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("refund %v printed no JSON (exit %d, stderr %q): %s", args, code, stderr, out)
		}
		return r, stderr, code
	}
	noRefunds := func(what string) {
		t.Helper()
		var rs []refundOut
		mustJSON(t, &rs, bin, with("refunds", "--json")...)
		if len(rs) != 0 {
			t.Fatalf("%s: refunds stored: %+v", what, rs)
		}
	}

	a := pay("12.50", "134567890123456781")
	// No PIN set: refused, nothing stored.
	if r, _, code := refundCmd(thePIN, atOnce, "--order", a, "--amount", "1.00"); code != 1 || !strings.Contains(r.Error, "PIN") {
		t.Fatalf("refund without a PIN set: exit %d, %+v", code, r)
	}
	noRefunds("no PIN set")
	if _, stderr, code := runIn(t, thePIN+"\n135790\n", nil, bin, with("pin", "set")...); code != 2 || !strings.Contains(stderr, "differ") {
		t.Errorf("pin set with two PINs: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runIn(t, "12345\n12345\n", nil, bin, with("pin", "set")...); code != 2 || !strings.Contains(stderr, "6 to 12 digits") {
		t.Errorf("pin set with 5 digits: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runIn(t, thePIN+"\n"+thePIN+"\n", nil, bin, with("pin", "set")...); code != 0 {
		t.Fatalf("pin set: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runIn(t, "111111\n", nil, bin, with("pin", "check")...); code != 1 || !strings.Contains(stderr, "wrong") {
		t.Errorf("pin check, wrong: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runIn(t, thePIN+"\n", nil, bin, with("pin", "check")...); code != 0 {
		t.Errorf("pin check, right: exit %d, %q", code, stderr)
	}

	// Refunds through serve, settled at once by the bank, with a receipt
	// printer (a file, as the demo's).
	slips := filepath.Join(t.TempDir(), "slips.bin")
	setPrinter := func(target string) {
		t.Helper()
		cfg, err := config.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Receipt.Printer = target
		if err := config.Save(dir, cfg); err != nil {
			t.Fatal(err)
		}
	}
	setPrinter("file:" + slips)
	srv := startServeEnv(t, bin, dir, atOnce)
	b := pay("30.00", "284567890123456782")
	if r, _, code := refundCmd("111111", nil, "--order", a, "--amount", "1.00"); code != 1 || !strings.Contains(r.Error, "wrong") {
		t.Fatalf("refund with a wrong PIN: exit %d, %+v", code, r)
	}
	noRefunds("wrong PIN")
	r1, stderr, code := refundCmd(thePIN, nil, "--order", a, "--amount", "5.00", "--reason", "退一半")
	if code != 0 || r1.State != "refunded" || r1.RefundFen != 500 || r1.RefundID == "" || r1.OutRefundNo == "" {
		t.Fatalf("refund 5.00: exit %d, %+v, %q", code, r1, stderr)
	}
	if r, _, code := refundCmd(thePIN, nil, "--order", a, "--amount", "7.51"); code != 1 || r.OutRefundNo != "" || !strings.Contains(r.Error, "7.50") {
		t.Errorf("refund over the remainder: exit %d, %+v", code, r)
	}
	if r, _, code := refundCmd(thePIN, nil, "--order", a, "--amount", "7.50"); code != 0 || r.State != "refunded" {
		t.Errorf("refund of the rest: exit %d, %+v", code, r)
	}
	// Two refund slips: ESC @ starts each, the cut ends each.
	if b, err := os.ReadFile(slips); err != nil || strings.Count(string(b), "\x1b@") != 2 || strings.Count(string(b), "\x1dVB\x03") != 2 ||
		!strings.Contains(string(b), r1.OutRefundNo) {
		t.Errorf("refund slips: %v, %q", err, b)
	}
	var orders []struct {
		OutTradeNo  string `json:"out_trade_no"`
		RefundedFen int64  `json:"refunded_fen"`
	}
	mustJSON(t, &orders, bin, with("orders", "--json")...)
	got := map[string]int64{}
	for _, o := range orders {
		got[o.OutTradeNo] = o.RefundedFen
	}
	if got[a] != 1250 || got[b] != 0 {
		t.Errorf("refunded_fen: %v", got)
	}
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	// Without serve, a refund the bank is still paying back when the
	// command's follow time ends: exit 3, followed by resolve. The printer
	// is gone: one sentence, and the refund's outcome is unchanged.
	setPrinter("file:" + filepath.Join(t.TempDir(), "no-such-dir", "slips.bin"))
	r3, stderr, code := refundCmd(thePIN, []string{core.TestHookRefundSuffix + "=4"}, "--order", b, "--amount", "10.00")
	if code != 3 || r3.State != "processing" || !strings.Contains(stderr, "收款不受影响") {
		t.Fatalf("refund left processing: exit %d, %+v, %q", code, r3, stderr)
	}
	var st historyStatus
	mustJSON(t, &st, bin, with("status", "--json")...)
	if st.UnresolvedRefunds != 1 {
		t.Errorf("status: %d unresolved refunds, want 1", st.UnresolvedRefunds)
	}
	if rounds := resolveUntilClean(t, bin, dir); rounds < 1 {
		t.Errorf("resolve rounds %d", rounds)
	}
	var rs []refundOut
	mustJSON(t, &rs, bin, with("refunds", "--json")...)
	if len(rs) != 3 || rs[0].OutRefundNo != r3.OutRefundNo || rs[0].State != "refunded" || rs[0].RefundID == "" {
		t.Fatalf("refunds after resolve: %+v", rs)
	}
	var sum summaryOut
	mustJSON(t, &sum, bin, with("summary", "--json")...)
	if sum.Total.PaidFen != 4250 || sum.Total.RefundedFen != 2250 || sum.Total.NetFen != 2000 || sum.Total.RefundCount != 3 || sum.Total.Unresolved != 0 {
		t.Errorf("summary after refunds: %+v", sum.Total)
	}

	// Reconciliation of today (the bank's day is not over, but its bill is
	// what it holds now).
	today := time.Now().In(store.China).Format(time.DateOnly)
	type reconOut struct {
		Date         string `json:"date"`
		BankLines    int    `json:"bank_lines"`
		JournalLines int    `json:"journal_lines"`
		Differences  []struct {
			OutTradeNo  string `json:"out_trade_no"`
			OutRefundNo string `json:"out_refund_no"`
			Kind        string `json:"kind"`
		} `json:"differences"`
	}
	recon := func() (reconOut, int) {
		t.Helper()
		out, stderr, code := runFull(t, bin, with("reconcile", "--date", today, "--json")...)
		var res reconOut
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("reconcile: exit %d, %q: %s", code, stderr, out)
		}
		return res, code
	}
	res, code := recon()
	if code != 0 || len(res.Differences) != 0 || res.Date != today || res.BankLines != 5 || res.JournalLines != 5 {
		t.Fatalf("clean day: exit %d, %+v", code, res)
	}
	c := pay("9.99", "134567890123456783")
	ctx := context.Background()
	if err := banksim.Admin(ctx, base, "bankpay", url.Values{"terminal_id": {banksim.DefaultTerminalID},
		"out_trade_no": {"SBBANKONLY0001"}, "total_fee": {"4200"}, "pay_channel": {"ALIPAY"}}); err != nil {
		t.Fatal(err)
	}
	if err := banksim.Admin(ctx, base, "revoke", url.Values{"terminal_id": {banksim.DefaultTerminalID}, "out_trade_no": {c}}); err != nil {
		t.Fatal(err)
	}
	res, code = recon()
	kinds := map[string]string{}
	for _, df := range res.Differences {
		kinds[df.OutTradeNo] = df.Kind
	}
	if code != 1 || len(res.Differences) != 2 || kinds["SBBANKONLY0001"] != "missing_in_journal" || kinds[c] != "state" {
		t.Errorf("reconcile with a bank-only payment and a revoked order: exit %d, %+v", code, res)
	}
	text, _, _ := runFull(t, bin, with("reconcile", "--date", today)...)
	if !strings.Contains(text, "2 difference(s)") || !strings.Contains(text, "SBBANKONLY0001") {
		t.Errorf("reconcile text:\n%s", text)
	}

	// The bank unreachable: no bill, exit 3 in one line.
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BankURL = "http://127.0.0.1:1/device/v1"
	if err := config.Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runFull(t, bin, with("reconcile", "--date", today)...); code != 3 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
		!strings.Contains(stderr, "could not be had") {
		t.Errorf("reconcile without the bank: exit %d, %q", code, stderr)
	}

	// The PIN is in no file of the data directory, logs included.
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), thePIN) {
			t.Errorf("%s holds the PIN in clear", p)
		}
		return nil
	})
}

// startServeEnv is startServe with extra environment (test hooks).
func startServeEnv(t *testing.T, bin, dir string, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data-dir", dir)
	cmd.Env = append(os.Environ(), env...)
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

// TestRefundKill9: 20 `scanbox refund` processes, each killed with SIGKILL
// at a random moment (half of them after the refund was stored, while the
// request is out or the bank is still paying back), against a bank that
// drops, slows, garbles and forges answers; then `resolve`. Every refund
// the bank executed is in the journal with the bank's state, none was
// executed twice, no order is refunded beyond its amount, and nothing is
// left unresolved.
func TestRefundKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	const thePIN = "864200"
	bin := buildScanbox(t)
	base := startBanksim(t, bin, "--fault-rate", "0.3", "--slow", "600ms", "--refund-delay", "400ms", "--seed", "31")
	dir := t.TempDir()
	if out, code := run(t, bin, "activate", "--data-dir", dir, "--url", base, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != 0 {
		t.Fatalf("activate exit %d: %s", code, out)
	}
	servePacing(t, dir)
	if _, stderr, code := runIn(t, thePIN+"\n"+thePIN+"\n", nil, bin, "pin", "set", "--data-dir", dir); code != 0 {
		t.Fatalf("pin set: exit %d, %q", code, stderr)
	}
	const nOrders = 5
	amount := map[string]int64{}
	var orders []string
	for i := 0; len(orders) < nOrders && i < 4*nOrders; i++ {
		out, _, code := runFull(t, bin, "pay", "--data-dir", dir, "--amount", "20.00", "--code", randomCode(t, 10*i), "--json")
		var res struct {
			OutTradeNo string `json:"out_trade_no"`
			State      string `json:"state"`
		}
		if json.Unmarshal([]byte(out), &res); code == 0 && res.State == "paid" {
			orders = append(orders, res.OutTradeNo)
			amount[res.OutTradeNo] = 2000
		}
	}
	if len(orders) < nOrders {
		t.Fatalf("only %d payments went through", len(orders))
	}
	resolveUntilClean(t, bin, dir)

	rng := rand.New(rand.NewPCG(29, 7))
	const kills = 20
	killedAfterStore := 0
	for i := range kills {
		no := orders[i%len(orders)]
		fen := 100 + rng.IntN(900) // 1.00 to 9.99: some attempts exceed what is left
		cmd := exec.Command(bin, "refund", "--data-dir", dir, "--order", no, "--amount", fmt.Sprintf("%d.%02d", fen/100, fen%100), "--pin-stdin")
		cmd.Stdin = strings.NewReader(thePIN + "\n")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stored := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(out)
			once := false
			for sc.Scan() {
				if !once && strings.Contains(sc.Text(), "stored") {
					once = true
					close(stored)
				}
			}
		}()
		if i%2 == 1 {
			// After the refund is durable: mid-request or mid-follow.
			select {
			case <-stored:
				time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
				killedAfterStore++
			case <-time.After(5 * time.Second):
			}
		} else {
			time.Sleep(time.Duration(rng.IntN(1200)) * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	if killedAfterStore < kills/4 {
		t.Errorf("only %d kills came after a refund was stored", killedAfterStore)
	}
	resolveUntilClean(t, bin, dir)

	var journal []refundOut
	mustJSON(t, &journal, bin, "refunds", "--data-dir", dir, "--json", "--limit", "1000")
	rep, err := banksim.FetchLedger(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	bank := map[string]banksim.RefundEntry{}
	for _, e := range rep.Refunds {
		bank[e.OutRefundNo] = e
	}
	want := map[payclient.RefundState]string{payclient.RefundSuccess: "refunded", payclient.RefundFailed: "failed",
		payclient.RefundChange: "change", payclient.RefundProcessing: "processing"}
	inJournal := map[string]bool{}
	taken := map[string]int64{}
	for _, r := range journal {
		inJournal[r.OutRefundNo] = true
		e, atBank := bank[r.OutRefundNo]
		switch {
		case r.State != "refunded" && r.State != "failed" && r.State != "change":
			t.Errorf("refund %s left %s after resolve", r.OutRefundNo, r.State)
		case atBank && want[e.State] != r.State:
			t.Errorf("refund %s: journal %s, bank %v", r.OutRefundNo, r.State, e.State)
		case !atBank && r.State != "failed":
			t.Errorf("refund %s is %s in the journal but unknown to the bank", r.OutRefundNo, r.State)
		}
		if r.State != "failed" {
			taken[r.OutTradeNo] += r.RefundFen
		}
	}
	for no, e := range bank {
		if !inJournal[no] {
			t.Errorf("the bank executed refund %s (%v) that the journal never recorded", no, e.State)
		}
	}
	for no, n := range rep.RefundExecutions {
		if n > 1 {
			t.Errorf("refund %s executed %d times", no, n)
		}
	}
	for no, fen := range taken {
		if fen > amount[no] {
			t.Errorf("order %s refunded %d fen of %d", no, fen, amount[no])
		}
	}
	var st historyStatus
	mustJSON(t, &st, bin, "status", "--data-dir", dir, "--json")
	if st.UnresolvedRefunds != 0 {
		t.Errorf("%d refunds unresolved", st.UnresolvedRefunds)
	}
	t.Logf("%d refunds in the journal, %d executed by the bank, %d kills after a refund was stored; faults %v",
		len(journal), len(bank), killedAfterStore, rep.FaultCounts)
	faults := 0
	for _, n := range rep.FaultCounts {
		faults += n
	}
	if faults < 3 {
		t.Errorf("only %d faults injected", faults)
	}
	if len(bank) < kills/4 {
		t.Errorf("only %d refunds reached the bank: the kills came too early to prove anything", len(bank))
	}
}
