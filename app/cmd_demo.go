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
	commands["demo"] = command{"try the whole flow on the embedded bank simulator (tray app, or --headless)", cmdDemo}
}

// trayDemo opens the tray app on the simulator; the tray's file sets it.
// While it is nil, or with no display, the demo runs headless.
var trayDemo func(stdout, stderr io.Writer) int

func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fs, _ := newFlags("demo", stderr)
	headless := fs.Bool("headless", false, "take sample payments in the terminal instead of opening the tray app")
	if !parseFlags(fs, args, stderr) {
		return exitUsage
	}
	if !*headless && trayDemo != nil {
		if hasDisplay() {
			return trayDemo(stdout, stderr)
		}
		fmt.Fprintln(stderr, "scanbox demo: no display found, so the demo runs in the terminal (--headless)")
	}
	return runHeadlessDemo(stdout, stderr)
}

// hasDisplay reports whether a window can be opened.
func hasDisplay() bool {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// demoBank starts the embedded simulator on loopback and activates a
// throw-away data directory against it; both demos start this way. The
// caller runs cleanup (stops the simulator, removes the directory).
func demoBank(opts banksim.Options, stdout, stderr io.Writer) (dir string, info *payclient.MerchantInfo, cleanup func(), code int) {
	ctx, cancel := context.WithCancel(context.Background())
	dir, err := os.MkdirTemp("", "scanbox-demo-")
	if err != nil {
		cancel()
		fmt.Fprintf(stderr, "scanbox demo: cannot make a data directory: %v\n", err)
		return "", nil, nil, exitUsage
	}
	cleanup = func() { cancel(); os.RemoveAll(dir) }
	baseURL := make(chan string, 1)
	simErr := make(chan error, 1)
	go func() { simErr <- banksim.ListenAndServe(ctx, "127.0.0.1:0", opts, func(u string) { baseURL <- u }) }()
	var base string
	select {
	case base = <-baseURL:
	case err := <-simErr:
		cleanup()
		fmt.Fprintf(stderr, "scanbox demo: the bank simulator did not start: %v\n", err)
		return "", nil, nil, exitUsage
	}
	fmt.Fprintf(stdout, "Bank simulator listening at %s\nData directory (thrown away afterwards): %s\n", base, dir)
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
