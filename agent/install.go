package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/version"
)

// installRequestFile asks the SYSTEM task to install the staged release.
const installRequestFile = "install-request.json"

func writeInstallRequest(dataDir string, s Staged) error {
	b, _ := json.Marshal(struct {
		Version string `json:"version"`
	}{s.Version})
	if err := writeAtomic(filepath.Join(dataDir, updatesDir, installRequestFile), b, 0o644); err != nil {
		return fmt.Errorf("agent: install request: %w", err)
	}
	return nil
}

// execRunner runs a program and returns its output in the error.
func execRunner(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 300 {
			msg = msg[:300]
		}
		if msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}

// UpdateTaskName is the scheduled task the MSI registers (its
// RegisterUpdateTask custom action runs `scanbox.exe update
// --register-task`, i.e. RegisterUpdateTask), running as SYSTEM every 5
// minutes and at start-up, that installs a requested update
// (UpdateTaskArgs); see docs/agent.md and docs/release.md.
// installer.UpdateTaskName is the same name.
const UpdateTaskName = `\ScanBox\Update`

// UpdateTaskArgs are the arguments the task runs scanbox.exe with. The wine
// smoke test runs exactly these (read back from the registered task), since
// wine does not run scheduled tasks.
var UpdateTaskArgs = []string{"update", "--install-staged", "--if-requested"}

// updateTaskSDDL is the task's security descriptor: SYSTEM and
// Administrators full control; authenticated users read and execute, so
// that the cashier's ScanBox may start it at once (schtasks /Run) instead
// of waiting up to 5 minutes. Running it can do no more than the 5-minute
// run does: install a staged release that verifies again, with the key
// built into the installed scanbox.exe, as genuine and newer.
const updateTaskSDDL = "D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;GRGX;;;AU)"

// UpdateTaskXML is the Task Scheduler definition of UpdateTaskName for the
// scanbox.exe at exe, as schtasks /Create /XML reads it: UTF-16LE with a
// byte-order mark. Triggers: at start-up (an update requested just before
// a shutdown is installed at the next boot) and every 5 minutes from
// 2020-01-01 on, indefinitely. One instance at a time (IgnoreNew: an MSI
// install in progress is never started twice), on battery too, stopped
// after an hour at most (a hung msiexec must not block later updates).
func UpdateTaskXML(exe string) []byte {
	u := utf16.Encode([]rune(strings.ReplaceAll(UpdateTaskDefinition(exe), "\n", "\r\n")))
	out := make([]byte, 2+2*len(u))
	out[0], out[1] = 0xFF, 0xFE
	for i, c := range u {
		binary.LittleEndian.PutUint16(out[2+2*i:], c)
	}
	return out
}

// UpdateTaskDefinition is UpdateTaskXML's text (LF line ends), what
// `scanbox update --print-task` shows.
func UpdateTaskDefinition(exe string) string {
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(`"`+exe+`"`))
	var args bytes.Buffer
	xml.EscapeText(&args, []byte(strings.Join(UpdateTaskArgs, " ")))
	doc := `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Author>ScanBox</Author>
    <Description>ScanBox: installs a bank-signed update that the running ScanBox downloaded, verified and staged (scanbox.exe verifies it again before msiexec runs).</Description>
    <SecurityDescriptor>` + updateTaskSDDL + `</SecurityDescriptor>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
    </BootTrigger>
    <TimeTrigger>
      <Repetition>
        <Interval>PT5M</Interval>
        <StopAtDurationEnd>false</StopAtDurationEnd>
      </Repetition>
      <StartBoundary>2020-01-01T00:00:00</StartBoundary>
      <Enabled>true</Enabled>
    </TimeTrigger>
  </Triggers>
  <Principals>
    <Principal id="LocalSystem">
      <UserId>S-1-5-18</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <ExecutionTimeLimit>PT1H</ExecutionTimeLimit>
  </Settings>
  <Actions Context="LocalSystem">
    <Exec>
      <Command>` + esc.String() + `</Command>
      <Arguments>` + args.String() + `</Arguments>
    </Exec>
  </Actions>
</Task>
`
	return doc
}

// systemTool is a Windows tool by its full path in System32, so that a
// SYSTEM process never finds a planted one through PATH; elsewhere (tests)
// the bare name.
func systemTool(name string) string {
	if root := os.Getenv("SystemRoot"); isWindows && root != "" {
		return filepath.Join(root, "System32", name+".exe")
	}
	return name
}

// RegisterUpdateTask creates (or replaces) UpdateTaskName for the
// scanbox.exe at exe: `schtasks /Create /F /TN \ScanBox\Update /XML FILE`
// with UpdateTaskXML. The MSI runs it as LocalSystem at every install
// (`scanbox.exe update --register-task`). run nil uses os/exec.
func RegisterUpdateTask(ctx context.Context, exe string, run Runner) error {
	if run == nil {
		run = execRunner
	}
	f, err := os.CreateTemp("", "scanbox-update-task-*.xml")
	if err != nil {
		return fmt.Errorf("agent: update task: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(UpdateTaskXML(exe))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("agent: update task: %w", err)
	}
	if err := run(ctx, systemTool("schtasks"), "/Create", "/F", "/TN", UpdateTaskName, "/XML", f.Name()); err != nil {
		return fmt.Errorf("agent: register the update task %s: %w", UpdateTaskName, err)
	}
	return nil
}

// UnregisterUpdateTask deletes UpdateTaskName (uninstall). A task that is
// not there is not an error the uninstall needs to see: the MSI ignores
// the exit code.
func UnregisterUpdateTask(ctx context.Context, run Runner) error {
	if run == nil {
		run = execRunner
	}
	if err := run(ctx, systemTool("schtasks"), "/Delete", "/F", "/TN", UpdateTaskName); err != nil {
		return fmt.Errorf("agent: delete the update task %s: %w", UpdateTaskName, err)
	}
	return nil
}

// msiexec's exit codes that mean installed: 3010 and 1641 ask for a
// restart, which /norestart leaves to the shop (files that were in use are
// replaced then).
const (
	msiSuccessRebootRequired  = 3010
	msiSuccessRebootInitiated = 1641
)

// msiSucceeded reports whether msiexec's error is one of its success codes.
func msiSucceeded(err error) bool {
	var ec interface{ ExitCode() int }
	if !errors.As(err, &ec) {
		return false
	}
	c := ec.ExitCode()
	return c == msiSuccessRebootRequired || c == msiSuccessRebootInitiated
}

// platformInstaller is the default Installer.
type platformInstaller struct{ dataDir string }

// Handover writes the install request the SYSTEM task looks for and asks
// the task to run now (which a standard account may not be allowed to do:
// then the task's next 5-minute run picks the request up). Only "please
// install what is staged" crosses the privilege boundary: the task finds
// the staged release itself and verifies it again with its own built-in
// key, so a forged request can at most install a genuine, newer,
// bank-signed release.
func (p platformInstaller) Handover(ctx context.Context, s Staged) error {
	if !isWindows {
		return ErrInstallUnsupported
	}
	if err := writeInstallRequest(p.dataDir, s); err != nil {
		return err
	}
	_ = execRunner(ctx, systemTool("schtasks"), "/Run", "/TN", UpdateTaskName)
	return nil
}

// The SYSTEM task must not run msiexec itself: it is the installed
// scanbox.exe, and Windows cannot replace a program file that is running
// (under Wine the MSI then reports success and leaves the old file; on
// Windows the new one would wait for a restart). So the task verifies the
// staged release, copies itself into a directory only SYSTEM and
// Administrators can write, starts that copy and exits; the copy (the same
// bytes: the same built-in key and version) verifies everything again,
// runs msiexec and records the result. Copies of earlier updates are
// deleted by the next run.

// copyDirPrefix names the installer copies' directories.
const copyDirPrefix = "ScanBoxUpdate-"

// CopyFlag marks the installer copy's command line.
const CopyFlag = "--installer-copy"

// HandOff is the SYSTEM task's run (`scanbox update --install-staged
// --if-requested` without CopyFlag): with no install request it returns
// ErrNoInstallRequest and does nothing else. With one, it verifies the
// staged release (a refusal is recorded in last-install.json and the
// request consumed), copies self (the running scanbox.exe) to a private
// directory and starts the copy with UpdateTaskArgs, CopyFlag and
// --data-dir; the copy consumes the request (InstallRequested). start nil
// starts it detached.
func HandOff(dataDir, self string, start func(exe string, args ...string) error) (Staged, error) {
	if start == nil {
		start = startDetached
	}
	req := filepath.Join(dataDir, updatesDir, installRequestFile)
	if _, err := os.Stat(req); err != nil {
		return Staged{}, ErrNoInstallRequest
	}
	fail := func(s Staged, err error) (Staged, error) {
		os.Remove(req)
		recordInstall(dataDir, proto.InstallResult{Version: s.Version, At: time.Now().UTC()}, err)
		return s, err
	}
	s, _, err := verifyStaged(dataDir, time.Now(), version.Version)
	if err != nil {
		return fail(s, err)
	}
	removeOldCopies()
	dir, err := privateDir()
	if err != nil {
		return fail(s, fmt.Errorf("agent: installer copy: %w", err))
	}
	cp := filepath.Join(dir, "scanbox-update.exe")
	if err := copyFile(self, cp); err != nil {
		os.RemoveAll(dir)
		return fail(s, fmt.Errorf("agent: installer copy: %w", err))
	}
	args := append(append([]string{}, UpdateTaskArgs...), CopyFlag, "--data-dir", dataDir)
	if err := start(cp, args...); err != nil {
		os.RemoveAll(dir)
		return fail(s, fmt.Errorf("agent: start the installer copy: %w", err))
	}
	return s, nil
}

// removeOldCopies deletes the directories of earlier installer copies (one
// still running cannot be deleted and is left for the next time).
func removeOldCopies() {
	probe, err := privateDir()
	if err != nil {
		return
	}
	os.RemoveAll(probe)
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(probe), copyDirPrefix+"*"))
	for _, d := range old {
		os.RemoveAll(d)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
