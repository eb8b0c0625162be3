package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
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
//     succeeds.
//  2. First start: the tray app (and `scanbox firstrun --activate`) calls
//     activatePending, which activates with the bank and then forgets the
//     code. If activation fails (offline shop, bank down) the code is stored
//     again, so the next start retries.
func init() {
	commands["firstrun"] = command{summary: "import the installer's provisioning; with --activate, activate a pending provisioning", run: cmdFirstrun}
}

// provisioning is what a silent install was given.
type provisioning struct {
	BankURL, MchID, TerminalID, ActivationCode string
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
	from := fs.String("from", "", "read BANK_URL=, MCH_ID=, TERMINAL_ID=, ACTIVATION_CODE= lines from this file (deleted afterwards) instead of the installer's registry key")
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
		if info == nil {
			fmt.Fprintln(stderr, "scanbox firstrun: no pending activation")
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

// importProvisioning prepares the data directory and, when an activation
// code was given, stores the provisioning as pending. Without a code it
// changes nothing in an existing configuration (a plain upgrade or repair).
func importProvisioning(dir string, p provisioning) error {
	if err := prepareDataDir(dir); err != nil {
		return failf(exitUsage, "cannot prepare the data directory %s: %v", dir, err)
	}
	if p.ActivationCode == "" {
		return nil
	}
	if p.BankURL == "" || p.MchID == "" || p.TerminalID == "" {
		return failf(exitUsage, "ACTIVATION_CODE was given without BANK_URL, MCH_ID and TERMINAL_ID")
	}
	if err := payclient.CheckBaseURL(p.BankURL); err != nil {
		return failf(exitUsage, "BANK_URL: %v", err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return failf(exitUsage, "%v", err)
	}
	if err := config.SavePendingActivationCode(dir, p.ActivationCode); err != nil {
		return failf(exitUsage, "cannot store the activation code: %v", err)
	}
	cfg.PendingActivation = config.PendingActivation{URL: p.BankURL, MchID: p.MchID, TerminalID: p.TerminalID}
	if err := config.Save(dir, cfg); err != nil {
		return failf(exitUsage, "cannot save the configuration: %v", err)
	}
	return nil
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
	fields := map[string]*string{"BANK_URL": &p.BankURL, "MCH_ID": &p.MchID, "TERMINAL_ID": &p.TerminalID, "ACTIVATION_CODE": &p.ActivationCode}
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		dst, known := fields[strings.TrimSpace(k)]
		if !ok || !known {
			return provisioning{}, fmt.Errorf("line %d: want BANK_URL=, MCH_ID=, TERMINAL_ID= or ACTIVATION_CODE=", n)
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
