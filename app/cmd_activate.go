package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/msg"
	"github.com/scanbox/scanbox/payclient"
)

func init() {
	onDir("activate", "activate this terminal with the bank and store its key", cmdActivate)
}

// cmdActivate goes through the owning instance when one runs: only it may
// swap the key its runner signs with, and only while nothing is open.
func cmdActivate(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("activate", stdout, stderr)
	url := fs.String("url", "", "the bank's device API base URL (https)")
	mch := fs.String("mch", "", "merchant number")
	term := fs.String("terminal", "", "terminal number")
	code := fs.String("code", "", "activation code from bank staff")
	timeout := fs.Duration("http-timeout", 0, "timeout of the request (default 10s)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if *url == "" || *mch == "" || *term == "" || *code == "" {
		return fs.usage("--url, --mch, --terminal and --code are all required")
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "activate", err)
	}
	defer release()
	info, err := activate(ctx, c, core.ActivateRequest{URL: *url, MchID: *mch, TerminalID: *term, Code: *code, HTTPTimeout: *timeout})
	if err != nil {
		return report(stderr, "activate", err)
	}
	json.NewEncoder(stdout).Encode(map[string]string{"merchant_name": info.MerchantName, "store_name": info.StoreName})
	return exitOK
}

// activate is core.Activate with the command line's exit codes: 3 while an
// order is open or a payment in flight (resolve first), 1 when the bank
// refused, 2 for a bad URL or an unwritable data directory.
func activate(ctx context.Context, c *core.Core, req core.ActivateRequest) (*payclient.MerchantInfo, error) {
	info, err := c.Activate(ctx, req)
	switch {
	case err == nil:
		return info, nil
	case errors.Is(err, core.ErrUnresolvedOrders), errors.Is(err, core.ErrPaymentInProgress):
		return nil, failf(exitUnknown, "%v", err)
	case errors.Is(err, core.ErrActivationFailed):
		// The catalog's sentence (the bank's code said in words), not the
		// Go chain "activation failed: payclient: activate …: CODE".
		return nil, failf(exitFailed, "%s", msg.Text(msg.EN, err))
	}
	return nil, failf(exitUsage, "%v", err)
}
