package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

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
