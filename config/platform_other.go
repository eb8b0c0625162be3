//go:build !windows

package config

import (
	"os"
	"path/filepath"
)

const isWindows = false

// DefaultDataDir is $XDG_STATE_HOME/scanbox, or ~/.local/state/scanbox when
// XDG_STATE_HOME is unset or not absolute (as the XDG spec says to treat it).
func DefaultDataDir() string {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "scanbox")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return filepath.Join(os.TempDir(), "scanbox")
	}
	return filepath.Join(home, ".local", "state", "scanbox")
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
