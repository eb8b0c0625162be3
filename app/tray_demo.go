package main

import (
	"fmt"
	"io"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/pin"
)

func init() { trayDemo = runTrayDemo }

// runTrayDemo is `scanbox demo` with a display: the embedded simulator on
// loopback, a throw-away data directory activated against it, and the tray
// app with the pay window open and sample codes under it.
func runTrayDemo(setup demoSetup, stdout, stderr io.Writer) int {
	// The simulated payer takes 4 s over the password, and pays a dynamic QR
	// 8 s after it is shown, so every path can be watched.
	opts := banksim.Options{PasswordDelay: 4 * time.Second, AutoPayAfter: 8 * time.Second}
	dir, _, cleanup, code := demoBank(setup, opts, stdout, stderr)
	if code != exitOK {
		return code
	}
	defer cleanup()
	// Quicker pacing than a shop's, so a payer who never confirms is given
	// up on in 30 s rather than 45; and the pay window stays open after a
	// success, because a desktop without a tray (Xvfb, some Linux desktops)
	// would have no way to bring it back.
	cfg, err := config.Load(dir)
	if err == nil {
		cfg.PollInterval = config.Duration(time.Second)
		cfg.PollTimeout = config.Duration(30 * time.Second)
		cfg.AutoCloseAfterSuccess = 0
		err = config.Save(dir, cfg)
	}
	if err == nil {
		// A manager PIN, so that the demo can refund.
		err = pin.Open(dir).Set(demoPIN)
	}
	if err != nil {
		fmt.Fprintf(stderr, "scanbox demo: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	fmt.Fprintf(stdout, "Manager PIN for refunds in this demo: %s\n", demoPIN)
	fmt.Fprintln(stdout, "Activated. The pay window lists sample codes: press Scan next to one, or type it.")
	return runTrayIn(dir, trayOptions{demo: true}, stderr)
}
