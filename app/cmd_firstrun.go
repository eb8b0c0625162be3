package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"strings"

	"github.com/scanbox/scanbox/agent"
	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/payclient"
)

// Provisioning by bank staff, in two halves (docs/install.md):
//
//  1. Install: `msiexec /i ScanBox.msi /qn BANK_URL=… MCH_ID=… TERMINAL_ID=…
//     ACTIVATION_CODE=…` writes the four values to HKLM\Software\ScanBox\
//     Provisioning, then runs `scanbox.exe firstrun` as LocalSystem. That
//     creates the data directory (writable by the cashier's account), records
//     the provisioning as config.PendingActivation, hands the code to
//     config.SavePendingActivationCode (DPAPI-protected at rest) and deletes
//     the registry key: the code is in clear only for the seconds the
//     install takes. An existing activation keeps working until the new one
//     succeeds. FLEET_URL + FLEET_CODE (the bank's fleet, issue 10) are
//     kept the same way (config.SavePendingFleetJoin, protected) and
//     MAX_PAYMENT (the per-payment maximum in yuan, issue 11) is written
//     into the configuration at once; each is validated first, and a bad
//     value fails the install, which rolls back.
//  2. First start: the tray app (and `scanbox firstrun --activate`) calls
//     activatePending, which activates with the bank and then forgets the
//     code. If activation fails (offline shop, bank down) the code is stored
//     again, so the next start retries. Once activated, joinPending joins
//     the fleet with the installer's enrollment, kept for the next start
//     while the fleet cannot be reached.
func init() {
	commands["firstrun"] = command{summary: "import the installer's provisioning; with --activate, activate a pending provisioning", run: cmdFirstrun}
}

// provisioning is what a silent install was given.
type provisioning struct {
	BankURL, MchID, TerminalID, ActivationCode string
	FleetURL, FleetCode                        string
	MaxPayment                                 string // yuan, as typed: "5000", "5000.00"
}

// provisioningSource is where the installer left its values: the registry on
// Windows, or a KEY=VALUE file (--from) anywhere.
type provisioningSource interface {
	read() (provisioning, error)
	remove() error // must leave no copy of the code behind
	String() string
}

func cmdFirstrun(args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("firstrun", stdout, stderr)
	from := fs.String("from", "", "read BANK_URL=, MCH_ID=, TERMINAL_ID=, ACTIVATION_CODE=, FLEET_URL=, FLEET_CODE=, MAX_PAYMENT= lines from this file (deleted afterwards) instead of the installer's registry key")
	activateNow := fs.Bool("activate", false, "activate a pending provisioning with the bank now (what the tray app does at start)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	d := dataDir(*dir)
	if *activateNow {
		c, release, err := localHost{stderr: stderr}.open(d, core.Pacing{})
		if err != nil {
			return report(stderr, "firstrun", err)
		}
		defer release()
		info, err := activatePending(context.Background(), c)
		if err != nil {
			return report(stderr, "firstrun", err)
		}
		jctx, cancel := context.WithTimeout(context.Background(), fleetTimeout)
		url, jerr := joinPending(jctx, c)
		cancel()
		switch {
		case jerr != nil:
			fmt.Fprintf(stderr, "scanbox firstrun: %s\n", oneLine(jerr.Error()))
		case url != "":
			fmt.Fprintf(stderr, "scanbox firstrun: joined the fleet at %s\n", url)
		}
		if info == nil {
			fmt.Fprintln(stderr, "scanbox firstrun: no pending activation")
			if jerr != nil {
				return exitFailed
			}
			return exitOK
		}
		json.NewEncoder(stdout).Encode(map[string]string{"merchant_name": info.MerchantName, "store_name": info.StoreName})
		return exitOK
	}
	var src provisioningSource = registrySource{}
	if *from != "" {
		src = fileSource(*from)
	}
	p, err := src.read()
	if err != nil {
		fmt.Fprintf(stderr, "scanbox firstrun: cannot read the provisioning from %s: %v\n", src, oneLine(err.Error()))
		return exitUsage
	}
	if err := importProvisioning(d, p); err != nil {
		return report(stderr, "firstrun", err)
	}
	// Crash safety: delete only after the code is stored protected; a
	// failure here fails the install, which rolls the key back.
	if err := src.remove(); err != nil {
		fmt.Fprintf(stderr, "scanbox firstrun: the activation code is stored, but %s could not be deleted: %v\n", src, oneLine(err.Error()))
		return exitUsage
	}
	return exitOK
}

// importProvisioning prepares the data directory, validates every value
// given (nothing is stored when one is bad), then: an activation code is
// stored as pending, a fleet enrollment likewise, and MAX_PAYMENT goes into
// the configuration. Without properties it changes nothing in an existing
// configuration (a plain upgrade or repair).
func importProvisioning(dir string, p provisioning) error {
	if err := prepareDataDir(dir); err != nil {
		return failf(exitUsage, "cannot prepare the data directory %s: %v", dir, err)
	}
	if p.ActivationCode != "" {
		if p.BankURL == "" || p.MchID == "" || p.TerminalID == "" {
			return failf(exitUsage, "ACTIVATION_CODE was given without BANK_URL, MCH_ID and TERMINAL_ID")
		}
		if err := payclient.CheckBaseURL(p.BankURL); err != nil {
			return failf(exitUsage, "BANK_URL: %v", err)
		}
	}
	if (p.FleetURL == "") != (p.FleetCode == "") {
		return failf(exitUsage, "FLEET_URL and FLEET_CODE go together: give both or neither")
	}
	if p.FleetURL != "" {
		if err := checkFleetURL(p.FleetURL); err != nil {
			return err
		}
	}
	var maxPay money.Fen
	if p.MaxPayment != "" {
		f, err := money.Parse(p.MaxPayment)
		if err != nil {
			return failf(exitUsage, "MAX_PAYMENT %q: give the largest amount one payment may take, in yuan, from 0.01 to %s (e.g. 5000 or 5000.00): %v", p.MaxPayment, money.Max.Grouped(), err)
		}
		maxPay = f
	}
	if p.ActivationCode == "" && p.FleetURL == "" && maxPay == 0 {
		return nil
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return failf(exitUsage, "%v", err)
	}
	if p.ActivationCode != "" {
		if err := config.SavePendingActivationCode(dir, p.ActivationCode); err != nil {
			return failf(exitUsage, "cannot store the activation code: %v", err)
		}
		cfg.PendingActivation = config.PendingActivation{URL: p.BankURL, MchID: p.MchID, TerminalID: p.TerminalID}
	}
	if p.FleetURL != "" {
		if err := config.SavePendingFleetJoin(dir, p.FleetURL, p.FleetCode); err != nil {
			return failf(exitUsage, "cannot store the fleet enrollment code: %v", err)
		}
	}
	if maxPay != 0 {
		cfg.MaxPayment = maxPay
		// The large-amount confirmation cannot lie above the ceiling.
		if cfg.ConfirmAbove > maxPay {
			cfg.ConfirmAbove = maxPay
		}
	}
	if err := config.Save(dir, cfg); err != nil {
		return failf(exitUsage, "cannot save the configuration: %v", err)
	}
	return nil
}

// checkFleetURL accepts an http(s) address with a host and nothing after
// the path (the agent appends its API paths).
func checkFleetURL(s string) error {
	u, err := neturl.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return failf(exitUsage, "FLEET_URL %q: give the fleet's address as https://HOST[:PORT][/PATH]", s)
	}
	return nil
}

// joinPending joins the bank's fleet with the enrollment a silent install
// left, once the terminal is activated (the fleet knows a terminal by its
// bank identity). It returns the fleet URL when it joined, "" when nothing
// was pending or activation has not happened yet (kept for later). An
// unreachable fleet keeps the enrollment for the next start; a refused code
// is dropped (it is spent or unknown: the bank issues a new one).
func joinPending(ctx context.Context, c *core.Core) (string, error) {
	dir := c.Dir()
	if !c.Config().Activated() {
		return "", nil
	}
	url, code, err := config.TakePendingFleetJoin(dir)
	if errors.Is(err, config.ErrNoPendingFleetJoin) {
		return "", nil
	}
	if err != nil {
		return "", failf(exitFailed, "the installer's fleet enrollment cannot be read: %v", err)
	}
	id, err := c.FleetIdentity()
	if err != nil {
		config.SavePendingFleetJoin(dir, url, code)
		return "", failf(exitFailed, "the fleet enrollment waits for activation: %v", err)
	}
	a := c.Fleet()
	if a == nil {
		if a, err = c.NewFleetAgent(); err != nil {
			config.SavePendingFleetJoin(dir, url, code)
			return "", failf(exitFailed, "%s", agent.Sentence(err))
		}
	}
	if err := a.Join(ctx, url, code, id); err != nil {
		if errors.Is(err, agent.ErrUnreachable) {
			if serr := config.SavePendingFleetJoin(dir, url, code); serr != nil {
				return "", failf(exitFailed, "the fleet server at %s cannot be reached, and the enrollment could not be kept for a retry: %v", url, serr)
			}
			return "", failf(exitFailed, "the fleet server at %s cannot be reached; ScanBox joins it at the next start", url)
		}
		return "", failf(exitFailed, "joining the fleet at %s failed: %s", url, agent.Sentence(err))
	}
	return url, nil
}

// activatePending activates with a provisioning left by the installer. It
// returns nil, nil when nothing is pending. The code is taken (read and
// deleted) first, as config wants for single-use codes, and stored again
// only if activation fails, so an offline first start retries later.
func activatePending(ctx context.Context, c *core.Core) (*payclient.MerchantInfo, error) {
	dir := c.Dir()
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, failf(exitUsage, "%v", err)
	}
	p := cfg.PendingActivation
	if p.IsZero() {
		return nil, nil
	}
	code, err := config.TakePendingActivationCode(dir)
	if errors.Is(err, config.ErrNoPendingActivation) {
		return nil, failf(exitUsage, "the installer's activation code is missing from %s; activate from Settings or with scanbox activate", dir)
	}
	if err != nil {
		return nil, failf(exitUsage, "cannot read the pending activation code: %v", err)
	}
	info, aerr := activate(ctx, c, core.ActivateRequest{URL: p.URL, MchID: p.MchID, TerminalID: p.TerminalID, Code: code})
	if aerr != nil {
		if err := config.SavePendingActivationCode(dir, code); err != nil {
			return nil, failf(exitUsage, "%v; and the activation code could not be kept for a retry: %v", aerr, err)
		}
		return nil, aerr
	}
	// activate saved the bank connection; now the provisioning is done.
	cfg = c.Config()
	cfg.PendingActivation = config.PendingActivation{}
	err = c.SetConfig(cfg)
	if err != nil {
		return info, failf(exitUsage, "activated, but the finished provisioning could not be cleared: %v", err)
	}
	return info, nil
}

// fileSource is a KEY=VALUE file, for tests and for provisioning without
// the MSI (e.g. a support script).
type fileSource string

func (f fileSource) String() string { return string(f) }

func (f fileSource) read() (provisioning, error) {
	fh, err := os.Open(string(f))
	if err != nil {
		return provisioning{}, err
	}
	defer fh.Close()
	var p provisioning
	fields := map[string]*string{"BANK_URL": &p.BankURL, "MCH_ID": &p.MchID, "TERMINAL_ID": &p.TerminalID, "ACTIVATION_CODE": &p.ActivationCode,
		"FLEET_URL": &p.FleetURL, "FLEET_CODE": &p.FleetCode, "MAX_PAYMENT": &p.MaxPayment}
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		dst, known := fields[strings.TrimSpace(k)]
		if !ok || !known {
			return provisioning{}, fmt.Errorf("line %d: want BANK_URL=, MCH_ID=, TERMINAL_ID=, ACTIVATION_CODE=, FLEET_URL=, FLEET_CODE= or MAX_PAYMENT=", n)
		}
		*dst = strings.TrimSpace(v)
	}
	return p, sc.Err()
}

func (f fileSource) remove() error {
	err := os.Remove(string(f))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
