package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/localapi"
)

// A command on a data directory (cli-contract 1.1, "One running instance,
// many clients"): when the tray or `scanbox serve` owns the directory, the
// command is carried out by that instance through the local API, with the
// same output and exit codes; with none running it opens the directory
// itself. The command's code is the same in both cases: it gets its parts
// from a host.
type dirCommand func(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int

// dirCommands are the commands an owning instance carries out for others.
var dirCommands = map[string]dirCommand{}

// host hands a command its data directory's core.
type host interface {
	// open returns the core for the --data-dir flag's value and what to
	// call when the command is done with it.
	open(dirFlag string, p core.Pacing) (*core.Core, func(), error)
	// served says whether the core belongs to a running instance (pacing
	// overrides do not apply to its shared runner then).
	served() bool
}

// lockWait is how long a command waits for another short-lived ScanBox
// command (say `scanbox orders`) to release the data directory.
const lockWait = 3 * time.Second

// localHost opens the data directory for this one command.
type localHost struct{ stderr io.Writer }

func (h localHost) open(dirFlag string, p core.Pacing) (*core.Core, func(), error) {
	c, err := core.Open(dataDir(dirFlag), core.Options{Kind: core.KindCLI, Stderr: h.stderr, Pacing: p, LockWait: lockWait})
	if err != nil {
		if errors.Is(err, core.ErrOwned) {
			// An owner started between our look and our open: let it
			// carry the command out (runOnDir sees errForward).
			if cl, derr := localapi.Dial(context.Background(), dataDir(dirFlag)); derr == nil {
				cl.Close()
				return nil, nil, errForward
			}
		}
		return nil, nil, openError(dataDir(dirFlag), err)
	}
	return c, func() { c.Close() }, nil
}

func (localHost) served() bool { return false }

// errForward: retry the command through the instance that just started.
var errForward = errors.New("forward to the running instance")

// exitForward is report's code for errForward; never an exit status.
const exitForward = -1

// noHost is for help: a command asked for it returns before opening.
type noHost struct{}

func (noHost) open(string, core.Pacing) (*core.Core, func(), error) {
	return nil, nil, failf(exitUsage, "nothing is opened for help")
}

func (noHost) served() bool { return false }

// servedHost is the owning instance's own core.
type servedHost struct{ c *core.Core }

func (h servedHost) open(string, core.Pacing) (*core.Core, func(), error) {
	return h.c, func() {}, nil
}

func (servedHost) served() bool { return true }

// openError turns core.Open's failure into the command's one line.
func openError(dir string, err error) error {
	if errors.Is(err, core.ErrOwned) {
		// Another short-lived command (the tray and serve would have
		// carried this one out) kept it longer than lockWait.
		return failf(exitUsage, "%v; try again when it has finished", err)
	}
	return failf(exitUsage, "%v", err)
}

// onDir registers a data-directory command.
func onDir(name, summary string, fn dirCommand) {
	dirCommands[name] = fn
	commands[name] = command{summary: summary, run: func(args []string, stdout, stderr io.Writer) int {
		return runOnDir(name, fn, args, stdout, stderr)
	}}
}

// runOnDir carries the command out through the owner of its data directory
// if one runs, else here.
func runOnDir(name string, fn dirCommand, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if wantsHelp(args) {
		// Help is the command's own text: nothing is opened, read from
		// standard input or sent to a running instance.
		return fn(ctx, noHost{}, args, stdout, stderr)
	}
	dir := dataDir(dataDirArg(args))
	if check := stdinFlagCheck[name]; check != nil {
		if code, ok := check(args, stderr); !ok {
			return code
		}
	}
	args, err := withStdin(name, args, os.Stdin)
	if err != nil {
		fmt.Fprintf(stderr, "scanbox %s: %s; see `scanbox %s --help`\n", name, err, name)
		return exitUsage
	}
	for attempt := 0; ; attempt++ {
		if code, ok := forward(ctx, dir, name, args, stdout, stderr); ok {
			return code
		}
		code := fn(ctx, localHost{stderr: stderr}, args, stdout, stderr)
		if code != exitForward || attempt > 0 {
			if code == exitForward {
				code = exitUsage
			}
			return code
		}
	}
}

// forward runs the command in the owning instance; ok is false when none
// serves dir.
func forward(ctx context.Context, dir, name string, args []string, stdout, stderr io.Writer) (int, bool) {
	cl, err := localapi.Dial(ctx, dir)
	if err != nil {
		return 0, false
	}
	defer cl.Close()
	code, err := cl.Run(ctx, append([]string{name}, args...), stdout, stderr)
	if err != nil {
		// The command may have acted (a payment journaled and sent): the
		// journal knows, so point there instead of retrying here.
		fmt.Fprintf(stderr, "scanbox %s: lost contact with the running ScanBox before it answered; see scanbox orders, or run scanbox resolve\n", name)
		return exitUnknown, true
	}
	return code, true
}

// handOverWait bounds a second start's exchange with the first.
const handOverWait = 5 * time.Second

// handOver is a second start of the tray app on a data directory already
// owned: it asks the owner to bring its pay window to the front and says
// what to exit with (0: shown, Windows' single-instance convention). ok is
// false when nobody answers, or the owner could not be asked: the caller
// then starts as usual (and a live owner refuses it in one line).
func handOver(dir string, stderr io.Writer) (code int, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), handOverWait)
	defer cancel()
	cl, err := localapi.Dial(ctx, dir)
	if err != nil {
		return 0, false
	}
	defer cl.Close()
	for {
		err := cl.Show(ctx)
		if err == nil {
			return exitOK, true
		}
		if !errors.Is(err, localapi.ErrNoWindow) {
			return 0, false
		}
		in, ierr := cl.Info(ctx)
		if ierr == nil && in.Kind == string(core.KindTray) {
			// A tray between opening the directory and building its pay
			// window: ask again in a moment.
			select {
			case <-ctx.Done():
				fmt.Fprintf(stderr, "scanbox: the ScanBox tray app (process %d) is still starting; try again in a moment\n", in.PID)
				return exitUsage, true
			case <-time.After(100 * time.Millisecond):
				continue
			}
		}
		who := "another ScanBox"
		if ierr == nil {
			who = fmt.Sprintf("scanbox %s (process %d)", in.Kind, in.PID)
		}
		fmt.Fprintf(stderr, "scanbox: %s owns %s and has no window; stop it to start the tray app there\n", who, dir)
		return exitUsage, true
	}
}

// dataDirArg finds --data-dir's value without parsing the command's other
// flags (the command parses them itself, wherever it runs).
func dataDirArg(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, p := range []string{"--data-dir", "-data-dir"} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v
			}
		}
	}
	return ""
}

// serveExec is what the owning instance runs for a client.
func serveExec(c *core.Core) localapi.Exec {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		fn, ok := dirCommands[args[0]]
		if !ok {
			fmt.Fprintf(stderr, "scanbox %s: not carried out by the running instance\n", args[0])
			return exitUsage
		}
		return fn(ctx, servedHost{c}, args[1:], stdout, stderr)
	}
}
