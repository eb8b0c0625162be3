package main

// Regression tests from the adversarial review before issue 8 was closed
// (each failed before its fix).

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

// A POS that runs `scanbox pay` again because the first run timed out on
// its side (or lost contact with the running instance, exit 3) must not be
// told "definite failure" (exit 1) when that first run charged the
// customer: it would ask for another payment. The same code for the same
// amount is the same sale sent again: exit 3, naming the paid order. For
// another amount it is another sale, refused with exit 1 as before.
func TestRegressionRepeatedPayOfPaidCodeNotFailed(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	dir := t.TempDir()
	if code, _, stderr := runCmd(t, "activate", "--data-dir", dir, "--url", url, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != exitOK {
		t.Fatalf("activate: %d %q", code, stderr)
	}
	code, out, stderr := runCmd(t, "pay", "--data-dir", dir, "--amount", "12.50", "--code", "134567890123456780", "--json")
	var res payResult
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || res.State != "paid" {
		t.Fatalf("pay: %d %q %q", code, out, stderr)
	}
	code, _, stderr = runCmd(t, "pay", "--data-dir", dir, "--amount", "12.50", "--code", "134567890123456780")
	if code != exitUnknown || !strings.Contains(stderr, res.OutTradeNo) {
		t.Errorf("the same pay again after it paid: exit %d, %q (want 3, naming %s)", code, stderr, res.OutTradeNo)
	}
	if code, _, stderr = runCmd(t, "pay", "--data-dir", dir, "--amount", "1.00", "--code", "134567890123456780"); code != exitFailed {
		t.Errorf("a paid code for another amount: exit %d, %q", code, stderr)
	}
}
