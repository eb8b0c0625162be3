package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scanbox/scanbox/agent"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/posapi"
)

// The bank's fleet (docs/fleet.md, "Plug-in side"): `scanbox fleet join`,
// `scanbox fleet status` and `scanbox update --check` are data-directory
// commands, carried out by the running instance's agent when one runs (so
// that a join starts reporting at once), else by an agent opened for the
// command.
func init() {
	onDir("fleet", "the bank's fleet: join --url URL --code CODE, status [--json]", cmdFleet)
	withVerbs("fleet", "join", "status")
	dirCommands["update"] = cmdUpdate
	commands["update"] = command{summary: "updates from the bank's fleet: --check [--json], --install", run: func(args []string, stdout, stderr io.Writer) int {
		if hasFlag(args, "install-staged") {
			return cmdInstallStaged(args, stdout, stderr)
		}
		if hasFlag(args, "register-task") || hasFlag(args, "unregister-task") || hasFlag(args, "print-task") {
			return cmdUpdateTask(args, stdout, stderr)
		}
		return runOnDir("update", cmdUpdate, args, stdout, stderr)
	}}
	core.FleetPOSToken = func(dir string, on bool) error {
		if !on {
			err := os.Remove(filepath.Join(dir, posapi.TokenFile))
			if errors.Is(err, os.ErrNotExist) {
				err = nil
			}
			return err
		}
		if _, err := posapi.ReadToken(dir); err == nil {
			return nil // the POS already knows this one
		}
		_, err := posapi.NewToken(dir)
		return err
	}
}

// fleetTimeout bounds one exchange with the fleet started by a command.
const fleetTimeout = 60 * time.Second

// fleetAgent is the running instance's agent, or one opened for this
// command.
func fleetAgent(h host, c *core.Core) (*agent.Agent, error) {
	if h.served() {
		if a := c.Fleet(); a != nil {
			return a, nil
		}
	}
	a, err := c.NewFleetAgent()
	if err != nil {
		return nil, failf(exitUsage, "%s", agent.Sentence(err))
	}
	return a, nil
}

func cmdFleet(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "join" && args[0] != "status") {
		if len(args) > 0 && isHelp(args[0]) {
			return verbHelp(stdout, "fleet", "join --url URL --code CODE [--json]", "status [--json]")
		}
		return verbMistake(stderr, "fleet", first(args), []string{"join", "status"})
	}
	sub := args[0]
	fs, dir := newFlags("fleet "+sub, stdout, stderr)
	url := fs.String("url", "", "the fleet's address (https://…), from the bank")
	code := fs.String("code", "", "the single-use enrollment code, from the bank")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if code, ok := fs.parse(args[1:]); !ok {
		return code
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "fleet "+sub, err)
	}
	defer release()
	a, err := fleetAgent(h, c)
	if err != nil {
		return report(stderr, "fleet "+sub, err)
	}
	if sub == "status" {
		st := a.Status()
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			enc.Encode(st)
			return exitOK
		}
		printFleetStatus(stdout, st)
		return exitOK
	}
	if *url == "" || *code == "" {
		return fs.usage("--url and --code are both needed")
	}
	id, err := c.FleetIdentity()
	if err != nil {
		return report(stderr, "fleet join", failf(exitUsage, "activate ScanBox before joining the fleet: %v", err))
	}
	jctx, cancel := context.WithTimeout(ctx, fleetTimeout)
	defer cancel()
	if err := a.Join(jctx, *url, *code, id); err != nil {
		if errors.Is(err, agent.ErrUnreachable) {
			// Sentence speaks of reports kept for later; nothing is
			// kept from a join that did not happen.
			return report(stderr, "fleet join", failf(exitFailed, "the fleet server at %s cannot be reached; check the address and try again", *url))
		}
		return report(stderr, "fleet join", failf(exitFailed, "%s", agent.Sentence(err)))
	}
	st := a.Status()
	if *asJSON {
		json.NewEncoder(stdout).Encode(st)
	} else {
		fmt.Fprintf(stdout, "joined the fleet at %s as terminal %s\n", st.URL, st.TerminalUID)
	}
	return exitOK
}

func printFleetStatus(w io.Writer, st agent.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if !st.Joined {
		fmt.Fprintln(tw, "fleet:\tnot joined (scanbox fleet join --url URL --code CODE)")
		tw.Flush()
		return
	}
	fmt.Fprintf(tw, "fleet:\t%s, terminal %s\n", st.URL, st.TerminalUID)
	if st.Disabled {
		fmt.Fprintln(tw, "reporting:\tdisabled by the bank")
	}
	last := "never"
	if st.LastOKAt != nil {
		last = st.LastOKAt.Local().Format(time.DateTime)
	}
	fmt.Fprintf(tw, "last report delivered:\t%s\n", last)
	if st.LastError != "" {
		fmt.Fprintf(tw, "last problem:\t%s\n", st.LastError)
	}
	fmt.Fprintf(tw, "queued reports:\t%d (dropped %d)\n", st.Queued, st.Dropped)
	fmt.Fprintf(tw, "interval:\t%d s\n", st.IntervalSec)
	fmt.Fprintf(tw, "configuration:\tversion %d\n", st.ConfigVersion)
	if st.ConfigError != "" {
		fmt.Fprintf(tw, "configuration refused:\t%s\n", st.ConfigError)
	}
	up := "current " + st.Update.Current
	if st.Update.Offered != "" {
		up += fmt.Sprintf(", offered %s (verified %v, staged %v)", st.Update.Offered, st.Update.Verified, st.Update.Staged)
	}
	fmt.Fprintf(tw, "update:\t%s\n", up)
	if st.Update.Error != "" {
		fmt.Fprintf(tw, "update problem:\t%s\n", st.Update.Error)
	}
	tw.Flush()
}

// cmdUpdate is `scanbox update --check [--json]`: exit 0 when the check
// went through (whether or not something was offered), 1 with the reason
// when it did not or the offer was refused.
func cmdUpdate(ctx context.Context, h host, args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("update", stdout, stderr)
	check := fs.Bool("check", false, "ask the fleet for an update; download, verify and stage it")
	install := fs.Bool("install", false, "hand the staged, verified release to the SYSTEM update task now (no payment may be in flight)")
	asJSON := fs.Bool("json", false, `print {"current","offered","verified","staged","error"}`)
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if *check == *install {
		return fs.usage("say --check or --install")
	}
	c, release, err := h.open(*dir, core.Pacing{})
	if err != nil {
		return report(stderr, "update", err)
	}
	defer release()
	a, err := fleetAgent(h, c)
	if err != nil {
		return report(stderr, "update", err)
	}
	if *install {
		// Install re-verifies the staged files, writes the install request
		// and starts the task; the task verifies everything again with its
		// own built-in key before msiexec runs.
		if err := a.Install(ctx); err != nil {
			fmt.Fprintf(stderr, "scanbox update: %s\n", oneLine(agent.Sentence(err)))
			return exitFailed
		}
		fmt.Fprintf(stdout, "the staged release is handed to the SYSTEM task %s\n", agent.UpdateTaskName)
		return exitOK
	}
	uctx, cancel := context.WithTimeout(ctx, 10*time.Minute) // an MSI download
	defer cancel()
	res := a.CheckUpdate(uctx)
	if *asJSON {
		json.NewEncoder(stdout).Encode(res)
	} else {
		switch {
		case res.Staged:
			fmt.Fprintf(stdout, "version %s is verified and staged (running %s)\n", res.Offered, res.Current)
		case res.Offered == "" && res.Error == "":
			fmt.Fprintf(stdout, "no update offered (running %s)\n", res.Current)
		default:
			fmt.Fprintf(stdout, "running %s; offered %q\n", res.Current, res.Offered)
		}
	}
	if res.Error != "" {
		fmt.Fprintf(stderr, "scanbox update: %s\n", oneLine(res.Error))
		return exitFailed
	}
	return exitOK
}

// cmdInstallStaged is the SYSTEM task's `scanbox update --install-staged
// --if-requested` (docs/agent.md, "Installing"): it runs in its own
// process, never through the cashier's instance.
func cmdInstallStaged(args []string, stdout, stderr io.Writer) int {
	fs, dir := newFlags("update", stdout, stderr)
	fs.Bool("install-staged", false, "install the staged, verified release (the SYSTEM task)")
	fs.Bool("if-requested", false, "only when the running ScanBox asked for it")
	isCopy := fs.Bool(strings.TrimPrefix(agent.CopyFlag, "--"), false, "run by the task: this is the copy of scanbox.exe that runs msiexec")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if !*isCopy {
		// The task's own process is the installed scanbox.exe, which
		// msiexec must replace: verify, start a private copy, exit.
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "scanbox update: cannot tell where scanbox.exe is: %s\n", oneLine(err.Error()))
			return exitFailed
		}
		s, err := agent.HandOff(dataDir(*dir), self, nil)
		switch {
		case errors.Is(err, agent.ErrNoInstallRequest):
			return exitOK // nothing asked for: the usual 5-minute run
		case err != nil:
			fmt.Fprintf(stderr, "scanbox update: %s\n", oneLine(agent.Sentence(err)))
			return exitFailed
		}
		fmt.Fprintf(stdout, "installing %s (verified; msiexec runs from a copy of scanbox.exe)\n", s.Version)
		return exitOK
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	res, err := agent.InstallRequested(ctx, dataDir(*dir), nil)
	switch {
	case errors.Is(err, agent.ErrNoInstallRequest):
		return exitOK // nothing asked for: the usual 5-minute run
	case err != nil:
		fmt.Fprintf(stderr, "scanbox update: %s\n", oneLine(agent.Sentence(err)))
		return exitFailed
	}
	fmt.Fprintf(stdout, "installed %s\n", res.Version)
	return exitOK
}

// cmdUpdateTask is the MSI's `scanbox.exe update --register-task` (run
// as LocalSystem at install) and `--unregister-task` (at uninstall): the
// SYSTEM scheduled task agent.UpdateTaskName for this scanbox.exe.
func cmdUpdateTask(args []string, stdout, stderr io.Writer) int {
	fs, _ := newFlags("update", stdout, stderr)
	reg := fs.Bool("register-task", false, "create the SYSTEM update task for this scanbox.exe (the installer does this)")
	unreg := fs.Bool("unregister-task", false, "delete the SYSTEM update task (the uninstaller does this)")
	printTask := fs.Bool("print-task", false, "print the task definition --register-task gives Task Scheduler")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	n := 0
	for _, b := range []bool{*reg, *unreg, *printTask} {
		if b {
			n++
		}
	}
	if n != 1 {
		return fs.usage("say one of --register-task, --unregister-task, --print-task")
	}
	if *printTask {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "scanbox update: cannot tell where scanbox.exe is: %s\n", oneLine(err.Error()))
			return exitFailed
		}
		fmt.Fprint(stdout, agent.UpdateTaskDefinition(exe))
		return exitOK
	}
	if runtime.GOOS != "windows" {
		fmt.Fprintln(stderr, "scanbox update: the update task exists only on Windows")
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if *unreg {
		if err := agent.UnregisterUpdateTask(ctx, nil); err != nil {
			fmt.Fprintf(stderr, "scanbox update: the update task %s could not be deleted: %s\n", agent.UpdateTaskName, oneLine(err.Error()))
			return exitFailed
		}
		fmt.Fprintf(stdout, "update task %s deleted\n", agent.UpdateTaskName)
		return exitOK
	}
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.Abs(exe)
	}
	if err != nil {
		fmt.Fprintf(stderr, "scanbox update: cannot tell where scanbox.exe is: %s\n", oneLine(err.Error()))
		return exitFailed
	}
	if err := agent.RegisterUpdateTask(ctx, exe, nil); err != nil {
		fmt.Fprintf(stderr, "scanbox update: the update task %s could not be registered: %s\n", agent.UpdateTaskName, oneLine(err.Error()))
		return exitFailed
	}
	fmt.Fprintf(stdout, "update task %s registered for %s\n", agent.UpdateTaskName, exe)
	return exitOK
}

// hasFlag reports whether args carry --name (or -name, --name=…).
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--"+name || a == "-"+name || len(a) > len(name)+3 && (a[:len(name)+3] == "--"+name+"=") {
			return true
		}
	}
	return false
}
