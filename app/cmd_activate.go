package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
)

func init() {
	commands["activate"] = command{"activate this terminal with the bank and store its key", cmdActivate}
}

func cmdActivate(args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("activate", stderr)
	url := fs.String("url", "", "the bank's device API base URL (https)")
	mch := fs.String("mch", "", "merchant number")
	term := fs.String("terminal", "", "terminal number")
	code := fs.String("code", "", "activation code from bank staff")
	timeout := fs.Duration("http-timeout", 0, "timeout of the request (default 10s)")
	if !parseFlags(fs, args, stderr) {
		return exitUsage
	}
	if *url == "" || *mch == "" || *term == "" || *code == "" {
		fmt.Fprintln(stderr, "scanbox activate: --url, --mch, --terminal and --code are all required")
		return exitUsage
	}
	d := dataDir(*dir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		fmt.Fprintf(stderr, "scanbox activate: cannot create the data directory %s: %v\n", d, err)
		return exitUsage
	}
	info, err := activate(context.Background(), d, *url, *mch, *term, *code, *timeout, stderr)
	if err != nil {
		return report(stderr, "activate", err)
	}
	json.NewEncoder(stdout).Encode(map[string]string{"merchant_name": info.MerchantName, "store_name": info.StoreName})
	return exitOK
}

// activate calls /merchant/info and stores the result: the key protected at
// rest, the rest in the configuration. The tray's settings view and the
// installer's first-start path use it too.
func activate(ctx context.Context, dir, url, mch, term, code string, timeout time.Duration, stderr io.Writer) (*payclient.MerchantInfo, error) {
	if err := payclient.CheckBaseURL(url); err != nil {
		return nil, failf(exitUsage, "%v", err)
	}
	log, _, closer := openLogs(dir, stderr)
	defer closer.Close()
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, failf(exitUsage, "%v", err)
	}
	if err := checkReactivation(dir, cfg, mch, term); err != nil {
		return nil, err
	}
	info, err := payclient.Activate(ctx, payclient.ActivateRequest{BaseURL: url, MchID: mch, TerminalID: term,
		ActivationCode: code, HTTPTimeout: timeout}, payclient.ActivateWithLogger(log))
	if err != nil {
		return nil, failf(exitFailed, "activation failed: %v", err)
	}
	if err := config.SaveKey(dir, info.Key); err != nil {
		return nil, failf(exitUsage, "cannot store the signing key: %v", err)
	}
	cfg.BankURL, cfg.MchID, cfg.TerminalID = url, mch, term
	cfg.MerchantName, cfg.StoreName, cfg.StaticQR = info.MerchantName, info.StoreName, info.StaticQR
	cfg.TerminalSN, cfg.AreaCode = info.TerminalSN, info.AreaCode // bank API 1.1
	if err := config.Save(dir, cfg); err != nil {
		return nil, failf(exitUsage, "cannot save the configuration: %v", err)
	}
	log.Info("terminal activated", "mch_id", mch, "terminal_id", term, "merchant_name", info.MerchantName)
	return info, nil
}

// checkReactivation refuses to switch this data directory to another
// merchant or terminal while orders sent under the current one are
// unresolved: only the bank that saw an order can say whether it was paid.
func checkReactivation(dir string, cfg config.Config, mch, term string) error {
	if !cfg.Activated() || (cfg.MchID == mch && cfg.TerminalID == term) {
		return nil
	}
	j, err := openJournal(dir, nil)
	if err != nil {
		return failf(exitUsage, "%v", err)
	}
	defer j.Close()
	return unresolvedBlocksSwitch(j.Unresolved(), cfg.TerminalID)
}

func unresolvedBlocksSwitch(open []order.Order, current string) error {
	if len(open) == 0 {
		return nil
	}
	return failf(exitUnknown, "%d order(s) of terminal %s are not resolved yet (e.g. %s); run scanbox resolve before activating another terminal",
		len(open), current, open[0].OutTradeNo)
}
