//go:build !windows

package posapi

import "os"

// restrictToOwner: mode 0600, readable by the user this instance runs as.
func restrictToOwner(path string) error { return os.Chmod(path, 0o600) }
