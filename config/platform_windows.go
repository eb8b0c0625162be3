//go:build windows

package config

import (
	"os"
	"path/filepath"
)

const isWindows = true

// DefaultDataDir is %ProgramData%\ScanBox: shared by every user of the POS PC
// and by the installer, which runs as another account.
func DefaultDataDir() string {
	pd := os.Getenv("ProgramData")
	if pd == "" {
		pd = `C:\ProgramData`
	}
	return filepath.Join(pd, "ScanBox")
}

// syncDir is a no-op on Windows: a directory cannot be flushed through an
// ordinary handle, and NTFS journals the rename itself.
func syncDir(dir string) error { return nil }
