package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/posapi"
)

func init() {
	onDir("posapi", "turn the POS integration API on (with a fresh token) or off: posapi enable [--port N] | disable", cmdPOSAPI)
}

func cmdPOSAPI(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "enable" && args[0] != "disable") {
		fmt.Fprintln(stderr, "scanbox posapi: say enable or disable")
		return exitUsage
	}
	verb := args[0]
	fs, dir := newFlags("posapi "+verb, stderr)
	port := fs.Int("port", 0, "port on 127.0.0.1 (default from config, or 8765)")
	if !parseFlags(fs, args[1:], stderr) {
		return exitUsage
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "posapi", err)
	}
	defer release()
	if verb == "disable" {
		if err := posapi.Disable(c); err != nil {
			return report(stderr, "posapi", err)
		}
		fmt.Fprintln(stdout, "POS API off; its token is deleted")
		return exitOK
	}
	if _, err := posapi.Enable(c, *port); err != nil {
		return report(stderr, "posapi", err)
	}
	p := c.Config().POSAPI.Port
	if p == 0 {
		p = posapi.DefaultPort
	}
	// The token itself is not printed: it is a secret, readable in the file
	// by this user only.
	fmt.Fprintf(stdout, "POS API on at http://127.0.0.1:%d/v1/ (when the tray or scanbox serve runs); bearer token in %s\n",
		p, filepath.Join(c.Dir(), posapi.TokenFile))
	return exitOK
}
