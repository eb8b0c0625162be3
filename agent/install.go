package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
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

// UpdateTaskName is the scheduled task the MSI registers, running as
// SYSTEM every 5 minutes and at start-up, that installs a requested
// update (`scanbox update --install-staged --if-requested`); see
// docs/agent.md.
const UpdateTaskName = `\ScanBox\Update`

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
	_ = execRunner(ctx, "schtasks", "/Run", "/TN", UpdateTaskName)
	return nil
}
