package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/core"
)

// shortTempDir is a data directory whose socket path fits in sun_path.
func shortTempDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "sbho")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Issue 11 item 6: starting the tray app again on a data directory whose
// tray runs brings that tray's pay window to the front (its show hook, set
// by the tray once the pay window exists) and the second start exits 0,
// without opening anything of its own.
func TestSecondTrayStartShowsTheRunningPayWindow(t *testing.T) {
	dir := shortTempDir(t)
	c, err := newTrayController(dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	shown := make(chan struct{}, 2)
	// Registered late, as the tray does from OnStarted: a start in between
	// waits for it.
	time.AfterFunc(300*time.Millisecond, func() { c.owner.onShow(func() { shown <- struct{}{} }) })
	for i := range 2 {
		var stderr bytes.Buffer
		if code := runTrayIn(dir, trayOptions{}, &stderr); code != exitOK || stderr.Len() != 0 {
			t.Fatalf("start %d beside the tray: exit %d, %q", i+2, code, stderr.String())
		}
		select {
		case <-shown:
		default:
			t.Fatalf("start %d: the running tray was not asked to show its pay window", i+2)
		}
	}
	// The running tray still owns the directory, untouched.
	if code, out, _ := runCmd(t, "status", "--data-dir", dir, "--json"); code != exitOK || !strings.Contains(out, `"kind": "tray"`) {
		t.Fatalf("status after the hand-over: %d %s", code, out)
	}
}

// `scanbox serve` has no window: the tray app is refused in one line naming
// it, exit 2, and serve goes on.
func TestTrayStartBesideServeIsRefused(t *testing.T) {
	dir := shortTempDir(t)
	o, err := startOwner(dir, core.KindServe, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer o.stop()
	var stderr bytes.Buffer
	code := runTrayIn(dir, trayOptions{}, &stderr)
	if code != exitUsage || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "scanbox serve (process") ||
		!strings.Contains(stderr.String(), "no window") {
		t.Fatalf("tray beside serve: exit %d, %q", code, stderr.String())
	}
	if code, out, _ := runCmd(t, "status", "--data-dir", dir, "--json"); code != exitOK || !strings.Contains(out, `"kind": "serve"`) {
		t.Fatalf("serve after the refusal: %d %s", code, out)
	}
}
