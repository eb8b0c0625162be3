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
	posapiVerbs = withVerbs("posapi", "enable", "disable")
}

var posapiVerbs []string

func cmdPOSAPI(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "enable" && args[0] != "disable") {
		if len(args) > 0 && isHelp(args[0]) {
			return verbHelp(stdout, "posapi", "enable [--port N]", "disable")
		}
		return verbMistake(stderr, "posapi", first(args), posapiVerbs)
	}
	verb := args[0]
	fs, dir := newFlags("posapi "+verb, stdout, stderr)
	port := fs.Int("port", 0, "port on 127.0.0.1 (default from config, or 8765)")
	if code, ok := fs.parse(args[1:]); !ok {
		return code
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
