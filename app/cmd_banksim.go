package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"

	"github.com/scanbox/scanbox/payclient/banksim"
)

func init() {
	commands["banksim"] = command{summary: "run the embedded bank simulator alone (bank API 1.1; --clock-offset 2h runs its clock ahead, -3h behind)", run: cmdBanksim}
}

func cmdBanksim(args []string, stdout, stderr io.Writer) int {
	fs, _ := newFlags("banksim", stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:8787", "loopback HOST:PORT to listen on")
	var opts banksim.Options
	opts.Flags(fs.FlagSet)
	if code, ok := fs.parse(args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := banksim.ListenAndServe(ctx, *addr, opts, func(base string) {
		u, err := url.Parse(base)
		if err == nil {
			fmt.Fprintf(stdout, "listening on %s://%s\n", u.Scheme, u.Host)
		}
		fmt.Fprintf(stdout, "base URL %s\n", base)
		// --clock-offset: support staff reproduce a shop PC whose clock is off.
		switch off := opts.ClockOffset; {
		case off > 0:
			fmt.Fprintf(stdout, "bank clock runs %s ahead of this PC\n", off)
		case off < 0:
			fmt.Fprintf(stdout, "bank clock runs %s behind this PC\n", -off)
		}
		if f, ok := stdout.(interface{ Sync() error }); ok {
			f.Sync()
		}
	})
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "scanbox banksim: %v\n", err)
		return exitUsage
	}
	return exitOK
}
