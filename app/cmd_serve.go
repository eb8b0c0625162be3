package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/localapi"
	"github.com/scanbox/scanbox/posapi"
	"github.com/scanbox/scanbox/scan"
	"github.com/scanbox/scanbox/version"
)

func init() {
	commands["serve"] = command{summary: "run the core without a window: payments, resolving, sources, the local and POS APIs", run: cmdServe}
}

// Shutdown budget (cli-contract: stop within 10 s of SIGTERM): payments in
// flight get drainWait to end by themselves; then they are stopped at their
// last durable state (the next start resolves them) and the clients get
// their answers.
const (
	drainWait    = 5 * time.Second
	shutdownWait = 8 * time.Second
)

func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("serve", stdout, stderr)
	if code, ok := fs.parse(args); !ok {
		return code
	}
	d := dataDir(*dir)
	defer watchShutdown(d, shutdownLimit, stderr, nil)()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := startOwner(d, core.KindServe, stderr)
	if err != nil {
		return report(stderr, "serve", err)
	}
	fmt.Fprintf(stdout, "serving %s\n", d)
	<-ctx.Done()
	o.c.Log().Info("stop requested")
	o.stop()
	return exitOK
}

// owner is an instance owning a data directory: the core, its local API
// and the POS API. The tray is one too (docs/architecture.md says why).
type owner struct {
	c     *core.Core
	api   *localapi.Server
	pos   *posapi.Manager
	unsub func()
}

// startOwner opens dir as its owner and starts serving the local API.
func startOwner(dir string, kind core.Kind, stderr io.Writer) (*owner, error) {
	c, err := core.Open(dir, core.Options{Kind: kind, Stderr: stderr, Background: true, Sources: true,
		Wedge: kind == core.KindTray, LockWait: lockWait})
	if err != nil {
		if errors.Is(err, core.ErrOwned) {
			return nil, failf(exitUsage, "%v; only one ScanBox may own %s", err, dir)
		}
		return nil, failf(exitUsage, "%v", err)
	}
	o := &owner{c: c}
	ln, err := localapi.Listen(dir)
	switch {
	case err == nil:
		info := localapi.Info{PID: os.Getpid(), Kind: string(kind), DataDir: dir, Version: version.Version}
		o.api = localapi.Serve(ln, info, serveExec(c), nil)
	case kind == core.KindServe:
		c.Close()
		return nil, failf(exitUsage, "%v", err)
	default:
		// The tray still takes payments; other commands on this data
		// directory are then refused while it runs, as before 1.1.
		c.Log().Warn("local API not started; other ScanBox commands cannot reach the tray", "err", err)
	}
	o.pos = posapi.NewManager(c)
	if kind == core.KindServe {
		// Headless, a scan from the serial scanner is charged with the
		// amount the POS or the customer display set, if it is fresh.
		o.unsub = c.OnScan(func(code string) { go chargeScan(c, code) })
	}
	c.Log().Info("owning the data directory", "kind", string(kind), "data_dir", dir, "version", version.Version)
	return o, nil
}

// onShow sets what a second start of the tray app does here (bring the pay
// window to the front); without it a show request is refused, as serve
// has no window.
func (o *owner) onShow(fn func()) {
	if o != nil && o.api != nil {
		o.api.OnShow(func() {
			o.c.Log().Info("started again: showing the pay window")
			fn()
		})
	}
}

// stop ends everything within the shutdown budget, leaving every order at
// a durable state.
func (o *owner) stop() {
	start := time.Now()
	if o.unsub != nil {
		o.unsub()
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	apiDone := make(chan struct{})
	go func() {
		defer close(apiDone)
		if o.api != nil {
			o.api.Shutdown(ctx) // no new commands; running ones finish below
		}
	}()
	posDone := make(chan struct{})
	go func() {
		defer close(posDone)
		o.pos.Close(ctx)
	}()
	drained := o.c.Drain(drainWait)
	o.c.StopPayments()
	<-apiDone
	<-posDone
	o.c.Log().Info("stopped", "drained", drained, "ms", time.Since(start).Milliseconds())
	o.c.Close()
}

// chargeScan is serve's answer to a scanned code: charge the current amount
// if it is fresh (config amount.max_amount_age) and consume it; without one
// the scan is not charged, loudly, because nobody is at a window to ask.
func chargeScan(c *core.Core, code string) {
	// Read, charge and consume in one step: two scans in quick succession
	// must not both charge one customer's amount.
	o, err := c.PayCurrent(code, c.Config().Amount.MaxAmountAge.D())
	if errors.Is(err, core.ErrNoFreshAmount) {
		c.Log().Warn("scan not charged: no fresh amount", "code", scan.Mask(code), "err", err)
		return
	}
	if err != nil {
		c.Log().Warn("scan not charged", "code", scan.Mask(code), "err", err)
		return
	}
	c.Log().Info("scan charged", "out_trade_no", o.OutTradeNo, "amount_fen", int64(o.AmountFen), "code", o.CodeMasked)
}
