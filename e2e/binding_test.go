package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/deviceid"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
)

// runOn runs the scanbox binary as if on the PC named pc (the test-hook
// build's machine identity).
func runOn(t *testing.T, pc, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), deviceid.TestHookEnv+"="+pc)
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

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		if !fi.Mode().IsRegular() || strings.HasSuffix(p, ".lock") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBindingCopiedDataDir (issue 9, anti-switching): an activated data
// directory copied to another PC is refused by the bank (DEVICE_MISMATCH,
// exit 1, nothing charged); after re-activation there with a new code the
// copy pays and the original PC is refused, charging nothing.
func TestBindingCopiedDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildScanbox(t)
	base := startBanksim(t, bin, "--activation-code", "MOVE-A,MOVE-B", "--single-use")
	orig, copied := t.TempDir(), t.TempDir()
	if out, errs, code := runOn(t, "pc-a", bin, "activate", "--data-dir", orig, "--url", base, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", "MOVE-A"); code != 0 {
		t.Fatalf("activate: exit %d: %s %s", code, out, errs)
	}
	pay := func(pc, dir, code string) (cliOrder, string, int) {
		out, errs, exit := runOn(t, pc, bin, "pay", "--data-dir", dir, "--amount", "8.80", "--code", code, "--json",
			"--poll-interval", "50ms", "--poll-timeout", "600ms", "--http-timeout", "2s")
		var o cliOrder
		json.Unmarshal([]byte(out), &o)
		var msg struct {
			Error string `json:"error"`
		}
		json.Unmarshal([]byte(out), &msg)
		return o, msg.Error + errs, exit
	}
	if o, errs, exit := pay("pc-a", orig, "134567890123456780"); exit != 0 || o.State != "paid" {
		t.Fatalf("the original PC: exit %d %+v %s", exit, o, errs)
	}
	copyDir(t, orig, copied)
	o, errs, exit := pay("pc-b", copied, "134567890123456781")
	if exit != 1 || o.State != "failed" || !strings.Contains(errs, "bound to another PC") {
		t.Fatalf("the copy on another PC: exit %d %+v %s", exit, o, errs)
	}
	out, _, _ := runOn(t, "pc-b", bin, "orders", "--data-dir", copied, "--json", "--limit", "10")
	var orders []cliOrder
	if err := json.Unmarshal([]byte(out), &orders); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, jo := range orders {
		if jo.OutTradeNo == o.OutTradeNo {
			found = jo.ErrCode == "DEVICE_MISMATCH"
		}
	}
	if !found {
		t.Fatalf("the copy's journal does not record DEVICE_MISMATCH: %s", out)
	}
	rep, err := banksim.FetchLedger(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Entries) != 1 || rep.PaidCountByCode["134567890123456781"] != 0 {
		t.Fatalf("the copy left %+v at the bank", rep.Entries)
	}

	// 换机: the bank's staff give a new code; activated on PC B.
	if out, errs, code := runOn(t, "pc-b", bin, "activate", "--data-dir", copied, "--url", base, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", "MOVE-B"); code != 0 {
		t.Fatalf("re-activation on PC B: exit %d: %s %s", code, out, errs)
	}
	if o, errs, exit := pay("pc-b", copied, "134567890123456782"); exit != 0 || o.State != "paid" {
		t.Fatalf("PC B after the move: exit %d %+v %s", exit, o, errs)
	}
	// The original PC's key is gone at the bank: SIGNERROR, unsigned, so
	// the order stays unresolved (exit 3) and nothing is charged.
	o, errs, exit = pay("pc-a", orig, "134567890123456783")
	if exit == 0 || o.State == "paid" {
		t.Fatalf("the original PC after the move: exit %d %+v %s", exit, o, errs)
	}
	rep, err = banksim.FetchLedger(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	paid := 0
	for _, e := range rep.Entries {
		if e.State == payclient.TradeSuccess {
			paid++
		}
	}
	if paid != 2 || rep.PaidCountByCode["134567890123456783"] != 0 || rep.PaidCountByCode["134567890123456781"] != 0 {
		t.Errorf("ledger after the move: %+v", rep)
	}
}
