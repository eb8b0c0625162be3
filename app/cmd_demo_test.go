package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/payclient/banksim"
)

// TestDemoDataDirKept: `scanbox demo --data-dir DIR` activates DIR and keeps
// it (issue 11 item 7: the flag was silently ignored and a temp dir used).
func TestDemoDataDirKept(t *testing.T) {
	want := filepath.Join(t.TempDir(), "demo")
	var out, errb bytes.Buffer
	dir, _, cleanup, code := demoBank(demoSetup{dir: want}, banksim.Options{}, &out, &errb)
	if code != exitOK {
		t.Fatalf("demoBank = %d, stderr %q", code, errb.String())
	}
	cleanup()
	if dir != want {
		t.Fatalf("data directory %q, want %q", dir, want)
	}
	if !strings.Contains(out.String(), "Data directory (kept): "+want) {
		t.Errorf("stdout %q does not name the kept directory", out.String())
	}
	cfg, err := config.Load(want)
	if err != nil {
		t.Fatalf("config after the demo: %v", err)
	}
	if cfg.TerminalID != banksim.DefaultTerminalID {
		t.Errorf("terminal %q, want %q (not activated in DIR)", cfg.TerminalID, banksim.DefaultTerminalID)
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("DIR removed after the demo: %v", err)
	}
}

// TestDemoThrowAwayDirRemoved: without --data-dir the directory goes.
func TestDemoThrowAwayDirRemoved(t *testing.T) {
	var out, errb bytes.Buffer
	dir, _, cleanup, code := demoBank(demoSetup{}, banksim.Options{}, &out, &errb)
	if code != exitOK {
		t.Fatalf("demoBank = %d, stderr %q", code, errb.String())
	}
	cleanup()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("throw-away %q still there: %v", dir, err)
	}
}
