package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/localapi"
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

// An owner that takes the local API connection but never answers (Wine's
// named pipes did exactly that) must not leave a command waiting for ever:
// the command says in one line that the running ScanBox does not answer,
// sends nothing, and exits 2.
func TestForwardToSilentOwnerGivesUp(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the silent owner is faked with a Unix socket")
	}
	dir, err := os.MkdirTemp("", "sbsilent")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("unix", localapi.Address(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	var out, errb strings.Builder
	done := make(chan struct{})
	var code int
	var ok bool
	go func() {
		code, ok = forward(context.Background(), dir, "orders", []string{"--json"}, &out, &errb)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a guard against the hang itself, not a speed check
		t.Fatal("the command waited for ever on an owner that does not answer")
	}
	line := strings.TrimSpace(errb.String())
	if !ok || code != exitUsage || out.Len() != 0 || strings.Contains(line, "\n") || !strings.Contains(line, "does not answer") {
		t.Fatalf("forward = %d %v, stdout %q, stderr %q", code, ok, out.String(), errb.String())
	}
}
