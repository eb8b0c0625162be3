package main

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

// While the tray runs, the CLI's commands on its data directory are carried
// out by the tray through the local API: none is refused for the journal
// lock (before 1.1 `scanbox pay` waited 3 s and gave up), and activation
// goes through the tray too.
func TestTrayCarriesOutCLICommands(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	dir := t.TempDir()
	c, err := newTrayController(dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	code, out, stderr := runCmd(t, "activate", "--data-dir", dir, "--url", url, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode)
	if code != exitOK || !strings.Contains(out, "merchant_name") {
		t.Fatalf("activate through the tray: %d %q %q", code, out, stderr)
	}
	if !c.Status().Activated {
		t.Fatal("the tray did not take the activation its client asked for")
	}
	code, out, stderr = runCmd(t, "pay", "--data-dir", dir, "--amount", "12.50", "--code", "134567890123456780", "--json")
	var res payResult
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || res.State != "paid" || res.AmountFen != 1250 {
		t.Fatalf("pay through the tray: %d %q %q", code, out, stderr)
	}
	if r := c.Recent(10); len(r) != 1 || r[0].OutTradeNo != res.OutTradeNo {
		t.Fatalf("the tray's journal has %+v", r)
	}
	code, out, _ = runCmd(t, "status", "--data-dir", dir, "--json")
	var st struct {
		Owner struct{ Kind string } `json:"owner"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || st.Owner.Kind != "tray" {
		t.Fatalf("status: %d %s", code, out)
	}
	// The same code again: the tray's runner refuses it, with pay's exit code.
	if code, _, stderr = runCmd(t, "pay", "--data-dir", dir, "--amount", "1.00", "--code", "134567890123456780"); code != exitFailed ||
		!strings.Contains(stderr, "already paid") {
		t.Errorf("second pay of a paid code: %d %q", code, stderr)
	}
	// A second owner is refused while the tray runs.
	if code, _, stderr = runCmd(t, "serve", "--data-dir", dir); code != exitUsage || !strings.Contains(stderr, "tray, process") {
		t.Errorf("serve beside the tray: %d %q", code, stderr)
	}
}
