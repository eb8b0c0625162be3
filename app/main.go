// Command scanbox is the ScanBox cashier plug-in: with no subcommand it runs
// the tray app; the subcommands of shared/cli-contract.md run headless over
// the same code. This package only wires parts together; it must never hold
// payment logic of its own.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	_ "github.com/scanbox/scanbox/app/internal/localefix" // must init before fyne: see its doc
)

// Exit codes of the command-line contract.
const (
	exitOK      = 0
	exitFailed  = 1 // a definite business failure
	exitUsage   = 2 // usage or configuration error
	exitUnknown = 3 // an order is still unresolved
)

// command runs one subcommand; args exclude the subcommand's name.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is filled by each cmd_*.go file's init, so that subcommands can be
// added in files of their own.
var commands = map[string]command{}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runTray(stdout, stderr)
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "help" {
		usage(stdout)
		return exitOK
	}
	if name == "--version" || name == "version" {
		return commands["version"].run(nil, stdout, stderr)
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "scanbox: unknown command %q (try scanbox --help)\n", name)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: scanbox [command] [flags]   (no command: start the tray app)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
}
