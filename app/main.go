// Command scanbox is the ScanBox cashier plug-in: with no subcommand it runs
// the tray app; the subcommands of shared/cli-contract.md run headless over
// the same code. This package only wires parts together; it must never hold
// payment logic of its own.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/scanbox/scanbox/logging"

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
	// verbs, for a command made of verbs (shift open, pin set…): each
	// has its own flags and help.
	verbs []string
}

// withVerbs records the verbs of a registered command.
func withVerbs(name string, verbs ...string) []string {
	c := commands[name]
	c.verbs = verbs
	commands[name] = c
	return verbs
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
	if name == "help" && len(args) > 1 {
		// scanbox help CMD [VERB] is scanbox CMD [VERB] --help.
		return run(append(args[1:], "--help"), stdout, stderr)
	}
	if isHelp(name) || name == "help" {
		usage(stdout)
		return exitOK
	}
	if name == "--version" {
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(stderr, "scanbox: %s is not a command (flags come after the command's name); see `scanbox --help`\n", name)
		} else {
			fmt.Fprintf(stderr, "scanbox: there is no command %q; see `scanbox --help`\n", name)
		}
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: scanbox [command] [flags]   (no command: start the tray app, or bring its pay window to the front)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nscanbox CMD --help (or scanbox help CMD) shows a command's flags. Every command takes --data-dir DIR.")
}

// shutdownLimit is how long the tray and serve may take to exit after
// SIGINT/SIGTERM before the watchdog gives up on them: serve's own budget
// (drainWait, then shutdownWait for the clients) with a margin.
const shutdownLimit = 12 * time.Second

// exitProcess is os.Exit; a test replaces it.
var exitProcess = os.Exit

// watchShutdown arms a watchdog on SIGINT/SIGTERM: if the process is still
// running limit after the signal, every goroutine's stack is written to
// stderr and to logs/shutdown-hang-*.txt in dir (the SIGQUIT dump, without
// needing a second signal from whoever waits), and the process exits 3 (the
// journal was not closed in order; the next start resolves what is open).
// It makes a hang on exit diagnosable (issue 11 item 15) instead of a
// process that a service manager or a script must kill blind. The returned
// stop disarms it only if no signal has come yet: once one has, the
// watchdog covers everything up to the process's exit. onSignal, if not
// nil, is called once when the signal comes: the tray quits its GUI loop
// with it, so that a signal that came before the toolkit listened for it
// (while the tray opens its data directory) still stops the process
// instead of being swallowed by the watchdog's own subscription.
func watchShutdown(dir string, limit time.Duration, stderr io.Writer, onSignal func()) (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		select {
		case <-done:
			select {
			case <-sig: // came just before stop: still watched
			default:
				return
			}
		case <-sig:
		}
		signal.Stop(sig)
		time.AfterFunc(limit, func() { shutdownHung(dir, limit, stderr) })
		if onSignal != nil {
			onSignal()
		}
	}()
	return func() {
		once.Do(func() {
			signal.Stop(sig)
			close(done)
		})
	}
}

// shutdownHung dumps the goroutines and ends the process.
func shutdownHung(dir string, limit time.Duration, stderr io.Writer) {
	fmt.Fprintf(stderr, "scanbox: still running %s after the stop signal; every goroutine follows, and the process exits 3\n", limit)
	pprof.Lookup("goroutine").WriteTo(stderr, 2)
	if dir != "" {
		logs := logging.LogDir(dir)
		if os.MkdirAll(logs, 0o700) == nil {
			p := filepath.Join(logs, "shutdown-hang-"+time.Now().UTC().Format("20060102T150405Z")+".txt")
			if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err == nil {
				pprof.Lookup("goroutine").WriteTo(f, 2)
				f.Close()
				fmt.Fprintf(stderr, "scanbox: the goroutines are also in %s\n", p)
			}
		}
	}
	exitProcess(exitUnknown)
}

// trayShutdown is the tray's watchdog: besides the dump, the signal quits
// the GUI loop. fyne listens for SIGTERM too, but only from a.Run on; a
// signal while the tray is still opening its data directory would
// otherwise be swallowed by the watchdog's own subscription and the tray
// would start anyway.
type trayShutdown struct {
	quit     atomic.Pointer[func()]
	stopping atomic.Bool
	disarm   func()
}

func watchTrayShutdown(dir string, limit time.Duration, stderr io.Writer) *trayShutdown {
	s := &trayShutdown{}
	s.disarm = watchShutdown(dir, limit, stderr, func() {
		s.stopping.Store(true)
		if q := s.quit.Load(); q != nil {
			(*q)()
		}
	})
	return s
}

// setQuit says how to quit the GUI loop once it exists; it reports whether
// the stop signal came already (then the loop must not be started). The
// order of the two atomics makes sure a signal racing with it is seen by
// one side or the other.
func (s *trayShutdown) setQuit(quit func()) (stopped bool) {
	s.quit.Store(&quit)
	return s.stopping.Load()
}
