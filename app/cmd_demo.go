package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payclient/banksim"
)

func init() {
	commands["demo"] = command{summary: "try the whole flow on the embedded bank simulator (tray app, or --headless)", run: cmdDemo}
}

// trayDemo opens the tray app on the simulator; the tray's file sets it.
// While it is nil, or with no display, the demo runs headless.
var trayDemo func(setup demoSetup, stdout, stderr io.Writer) int

// demoSetup is where the demo keeps its data and how it reaches its
// simulator; the zero value is a throw-away directory and a random port.
type demoSetup struct {
	// dir, if set, is the data directory (made if missing, kept afterwards,
	// so `scanbox orders --data-dir DIR` can be run against the demo).
	dir string
	// simAddr is the simulator's loopback HOST:PORT ("" = a free port).
	simAddr string
	// bankURL, if set, is the bank URL the data directory is activated
	// against instead of the simulator's own: a proxy in front of simAddr,
	// which a test or a trainer stops to cut the bank off.
	bankURL string
}

func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("demo", stdout, stderr)
	headless := fs.Bool("headless", false, "take sample payments in the terminal instead of opening the tray app")
	simAddr := fs.String("sim-addr", "", "loopback HOST:PORT the embedded bank simulator listens on (default: a free port)")
	bankURL := fs.String("bank-url", "", "activate against this URL instead of the simulator's own (a proxy in front of --sim-addr, to cut the bank off)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if *dir != "" && !*headless {
		// The demo already runs on DIR: show its pay window, like a
		// second start of the tray app.
		if code, ok := handOver(*dir, stderr); ok {
			return code
		}
	}
	setup := demoSetup{dir: *dir, simAddr: *simAddr, bankURL: *bankURL}
	if !*headless && trayDemo != nil {
		if hasDisplay() {
			return trayDemo(setup, stdout, stderr)
		}
		fmt.Fprintln(stderr, "scanbox demo: no display found, so the demo runs in the terminal (--headless)")
	}
	return runHeadlessDemo(setup, stdout, stderr)
}

// hasDisplay reports whether a window can be opened.
func hasDisplay() bool {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// demoBank starts the embedded simulator on loopback and activates a data
// directory against it (throw-away unless setup.dir names one); both demos
// start this way. The caller runs cleanup (stops the simulator, removes a
// throw-away directory).
func demoBank(setup demoSetup, opts banksim.Options, stdout, stderr io.Writer) (dir string, info *payclient.MerchantInfo, cleanup func(), code int) {
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	if setup.dir != "" {
		dir, err = setup.dir, os.MkdirAll(setup.dir, 0o700)
		cleanup = cancel
	} else {
		dir, err = os.MkdirTemp("", "scanbox-demo-")
		cleanup = func() { cancel(); os.RemoveAll(dir) }
	}
	if err != nil {
		cancel()
		fmt.Fprintf(stderr, "scanbox demo: cannot make a data directory: %v\n", err)
		return "", nil, nil, exitUsage
	}
	simAddr := setup.simAddr
	if simAddr == "" {
		simAddr = "127.0.0.1:0"
	}
	baseURL := make(chan string, 1)
	simErr := make(chan error, 1)
	go func() { simErr <- banksim.ListenAndServe(ctx, simAddr, opts, func(u string) { baseURL <- u }) }()
	var base string
	select {
	case base = <-baseURL:
	case err := <-simErr:
		cleanup()
		fmt.Fprintf(stderr, "scanbox demo: the bank simulator did not start: %v\n", err)
		return "", nil, nil, exitUsage
	}
	if setup.dir != "" {
		fmt.Fprintf(stdout, "Bank simulator listening at %s\nData directory (kept): %s\n", base, dir)
	} else {
		fmt.Fprintf(stdout, "Bank simulator listening at %s\nData directory (thrown away afterwards): %s\n", base, dir)
	}
	if setup.bankURL != "" {
		base = setup.bankURL
		fmt.Fprintf(stdout, "Bank URL (a proxy in front of the simulator): %s\n", base)
	}
	c, err := core.Open(dir, core.Options{Kind: core.KindCLI, Stderr: stderr})
	if err == nil {
		info, err = activate(ctx, c, core.ActivateRequest{URL: base, MchID: banksim.DefaultMchID,
			TerminalID: banksim.DefaultTerminalID, Code: banksim.DefaultActivationCode})
		c.Close()
	}
	if err != nil {
		cleanup()
		return "", nil, nil, report(stderr, "demo", err)
	}
	return dir, info, cleanup, exitOK
}
