package main

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

// Issue 11 item 13: `pay` with the bank cut off printed its "journaled" line
// twice and then nothing until the deadline. Now: one line per change of
// state, and a countdown line while the order is followed; the outcome is
// exit 3 with one line on stderr. With --json stdout is the one object.
func TestPayShowsProgressWithTheBankDown(t *testing.T) {
	old := progressEvery
	progressEvery = 300 * time.Millisecond
	defer func() { progressEvery = old }()
	sim := banksim.New(banksim.Options{})
	srv := httptest.NewServer(sim)
	dir := t.TempDir()
	if code, _, stderr := runCmd(t, "activate", "--data-dir", dir, "--url", srv.URL+sim.Options().BasePath, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != exitOK {
		t.Fatalf("activate: %d %q", code, stderr)
	}
	srv.Close() // connection refused from now on
	code, out, stderr := runCmd(t, "pay", "--data-dir", dir, "--amount", "3.00", "--code", "134567890123456780",
		"--poll-interval", "200ms", "--poll-timeout", "2s", "--http-timeout", "1s")
	if code != exitUnknown || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "run scanbox resolve") {
		t.Fatalf("pay with the bank down: exit %d, stderr %q\n%s", code, stderr, out)
	}
	if n := strings.Count(out, "journaled"); n != 1 {
		t.Errorf("%d journaled lines:\n%s", n, out)
	}
	// Said at once (payflow records the failed connection) and once.
	if n := strings.Count(out, "the bank cannot be reached"); n != 1 {
		t.Errorf("%d lines say the bank cannot be reached:\n%s", n, out)
	}
	if n := strings.Count(out, "left before the order is closed"); n < 2 {
		t.Errorf("%d countdown lines in 2 s at 300 ms:\n%s", n, out)
	}
	if !strings.Contains(out, "closing") || !strings.Contains(out, "unknown:") {
		t.Errorf("no closing and unknown lines:\n%s", out)
	}
	// Each line is news: no two lines alike but for their time stamp.
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		_, rest, _ := strings.Cut(l, "  ")
		if seen[rest] && !strings.Contains(rest, " left") && !strings.Contains(rest, "still closing") {
			t.Errorf("line repeated: %q", rest)
		}
		seen[rest] = true
	}

	code, out, _ = runCmd(t, "pay", "--data-dir", dir, "--amount", "4.00", "--code", "134567890123456781",
		"--poll-interval", "200ms", "--poll-timeout", "1s", "--http-timeout", "1s", "--json")
	if code != exitUnknown || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, `{"out_trade_no"`) {
		t.Errorf("--json with the bank down: exit %d, stdout %q", code, out)
	}
}

// A refused activation is the catalog's sentence, not the Go chain
// "activation failed: payclient: activate …: bank refused …: ACTIVATION_INVALID".
func TestActivateRefusalIsOneSentence(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	code, out, stderr := runCmd(t, "activate", "--data-dir", t.TempDir(), "--url", url, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", "WRONG-CODE")
	if code != exitFailed || out != "" || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "payclient") ||
		strings.Contains(stderr, "ACTIVATION_INVALID") || !strings.Contains(stderr, "activation code") {
		t.Fatalf("refused activation: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// Issue 11 item 13: resolve with nothing to do says so in one sentence, not
// a bare table header; with --json it is an empty array.
func TestResolveWithNothingToDo(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	dir := t.TempDir()
	if code, _, stderr := runCmd(t, "activate", "--data-dir", dir, "--url", url, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != exitOK {
		t.Fatalf("activate: %d %q", code, stderr)
	}
	code, out, stderr := runCmd(t, "resolve", "--data-dir", dir)
	if code != exitOK || stderr != "" || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "Nothing to resolve") {
		t.Errorf("resolve: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code, out, _ := runCmd(t, "resolve", "--data-dir", dir, "--json"); code != exitOK || strings.TrimSpace(out) != "[]" {
		t.Errorf("resolve --json: exit %d, %q", code, out)
	}
}
