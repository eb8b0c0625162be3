//go:build !windows

package agent

import (
	"os"
	"os/exec"
)

// privateDir is a 0700 temporary directory (tests; no install happens
// outside Windows).
func privateDir() (string, error) { return os.MkdirTemp("", copyDirPrefix) }

// startDetached starts a program and does not wait for it.
func startDetached(exe string, args ...string) error {
	cmd := exec.Command(exe, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it; nobody waits for the result here
	return nil
}
