package agent

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

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

// UpdateTaskName is the scheduled task the MSI registers (running as
// SYSTEM, on demand only) to install a staged update; see docs/agent.md.
const UpdateTaskName = `\ScanBox\Update`

// platformInstaller is the default Installer.
type platformInstaller struct{}

// Handover starts the SYSTEM task. The task itself finds the staged
// release (DATA_DIR/updates/staged.json) and verifies it again; nothing
// but "run now" crosses the privilege boundary.
func (platformInstaller) Handover(ctx context.Context, s Staged) error {
	if !isWindows {
		return ErrInstallUnsupported
	}
	if err := execRunner(ctx, "schtasks", "/Run", "/TN", UpdateTaskName); err != nil {
		return fmt.Errorf("agent: start the update task: %w", err)
	}
	return nil
}
