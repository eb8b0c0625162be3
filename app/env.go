package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
)

// newFlags and parse (the flag set of every subcommand) are in cmd_flags.go.

func dataDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return config.DefaultDataDir()
}

// cliError is an error with its exit code, printed as one line.
type cliError struct {
	code int
	msg  string
}

func (e *cliError) Error() string { return e.msg }

func failf(code int, format string, args ...any) error {
	return &cliError{code: code, msg: fmt.Sprintf(format, args...)}
}

// report prints err as one line and returns its exit code.
func report(stderr io.Writer, cmd string, err error) int {
	if errors.Is(err, errForward) {
		return exitForward
	}
	var ce *cliError
	if errors.As(err, &ce) {
		fmt.Fprintf(stderr, "scanbox %s: %s\n", cmd, oneLine(ce.msg))
		return ce.code
	}
	fmt.Fprintf(stderr, "scanbox %s: %s\n", cmd, oneLine(err.Error()))
	return exitUsage
}

func oneLine(s string) string { return core.OneLine(s) }

// runnerOf is the core's payment runner, or the command's refusal when the
// terminal is not activated (exit 2).
func runnerOf(c *core.Core) error {
	_, err := c.Runner()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, core.ErrNotActivated):
		return failf(exitUsage, "ScanBox is not activated in %s; run scanbox activate first", c.Dir())
	}
	return failf(exitUsage, "%v", err)
}
