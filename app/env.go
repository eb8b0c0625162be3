package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/logging"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payflow"
)

// newFlags makes a subcommand's flag set with the global --data-dir flag.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("scanbox "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data-dir", "", "where ScanBox keeps its configuration, key, journal and logs (default: "+config.DefaultDataDir()+")")
	return fs, dir
}

// parseFlags parses and refuses stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	if err := fs.Parse(args); err != nil {
		return false // flag already printed the problem and the usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	return true
}

func dataDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return config.DefaultDataDir()
}

// env is what the payment subcommands share: the same parts, built the same
// way, as the tray app uses.
type env struct {
	dir     string
	cfg     config.Config
	log     *slog.Logger
	ring    *logging.Ring
	closers []io.Closer
	journal *journal.Journal
	client  *payclient.Client
	runner  *payflow.Runner
}

// overrides are the pacing flags of `scanbox pay`; zero means "from config".
type overrides struct {
	pollInterval, pollTimeout, httpTimeout time.Duration
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
	var ce *cliError
	if errors.As(err, &ce) {
		fmt.Fprintf(stderr, "scanbox %s: %s\n", cmd, oneLine(ce.msg))
		return ce.code
	}
	fmt.Fprintf(stderr, "scanbox %s: %s\n", cmd, oneLine(err.Error()))
	return exitUsage
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

// openLogs starts file + ring logging in dir; it never fails the command:
// without logs ScanBox still takes payments (logs go to stderr then).
func openLogs(dir string, stderr io.Writer) (*slog.Logger, *logging.Ring, io.Closer) {
	log, ring, closer, err := logging.New(dir, logging.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "scanbox: logging to files is off: %v\n", oneLine(err.Error()))
		return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), nil, nopCloser{}
	}
	return log, ring, closer
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// openEnv loads configuration and key, opens the journal (taking the data
// directory's lock) and builds the client and runner.
func openEnv(dirFlag string, ov overrides, stderr io.Writer) (*env, error) {
	e := &env{dir: dataDir(dirFlag)}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return nil, failf(exitUsage, "cannot create the data directory %s: %v", e.dir, err)
	}
	cfg, err := config.Load(e.dir)
	if err != nil {
		return nil, failf(exitUsage, "%v", err)
	}
	e.cfg = cfg
	if ov.pollInterval > 0 {
		e.cfg.PollInterval = config.Duration(ov.pollInterval)
	}
	if ov.pollTimeout > 0 {
		e.cfg.PollTimeout = config.Duration(ov.pollTimeout)
	}
	if ov.httpTimeout > 0 {
		e.cfg.HTTPTimeout = config.Duration(ov.httpTimeout)
	}
	var closer io.Closer
	e.log, e.ring, closer = openLogs(e.dir, stderr)
	e.closers = append(e.closers, closer)
	if e.cfg.BankURL == "" || e.cfg.MchID == "" || e.cfg.TerminalID == "" {
		e.Close()
		return nil, failf(exitUsage, "ScanBox is not activated in %s; run scanbox activate first", e.dir)
	}
	key, err := config.LoadKey(e.dir)
	if err != nil {
		e.Close()
		if errors.Is(err, config.ErrNoKey) {
			return nil, failf(exitUsage, "ScanBox is not activated in %s (no signing key); run scanbox activate first", e.dir)
		}
		return nil, failf(exitUsage, "cannot read the signing key: %v", err)
	}
	j, err := openJournal(e.dir, e.log)
	if err != nil {
		e.Close()
		return nil, failf(exitUsage, "%v", err)
	}
	e.journal = j
	e.closers = append(e.closers, j)
	e.client, err = payclient.New(payclient.Config{
		BaseURL: e.cfg.BankURL, MchID: e.cfg.MchID, TerminalID: e.cfg.TerminalID, Key: key, TerminalSN: e.cfg.TerminalSN,
		HTTPTimeout: time.Duration(e.cfg.HTTPTimeout), DeviceIP: e.cfg.DeviceIP, Logger: e.log,
	})
	if err != nil {
		e.Close()
		return nil, failf(exitUsage, "%v", err)
	}
	e.runner = payflow.New(j, e.client, payflow.Config{
		PollInterval: time.Duration(e.cfg.PollInterval),
		PollTimeout:  time.Duration(e.cfg.PollTimeout),
		Body:         e.cfg.StoreName,
		MchID:        e.cfg.MchID,
		TerminalID:   e.cfg.TerminalID,
	}, e.log)
	return e, nil
}

// Close releases the journal lock and flushes logs, newest first.
func (e *env) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i].Close()
	}
	e.closers = nil
}

// lockWait is how long a command waits for another short-lived ScanBox
// command (say `scanbox orders`) to release the data directory.
const lockWait = 3 * time.Second

// openJournal opens the journal, waiting briefly while another process
// holds it, so that two scripted commands in a row do not trip each other.
func openJournal(dir string, log *slog.Logger) (*journal.Journal, error) {
	deadline := time.Now().Add(lockWait)
	for {
		j, err := journal.Open(dir, journal.WithLogger(log))
		if err == nil || !errors.Is(err, journal.ErrLocked) || time.Now().After(deadline) {
			return j, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
