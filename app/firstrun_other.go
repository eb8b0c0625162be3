//go:build !windows

package main

import (
	"errors"
	"os"
)

// registrySource exists only on Windows; elsewhere provisioning comes from
// a file (scanbox firstrun --from FILE).
type registrySource struct{}

func (registrySource) String() string { return "the Windows registry" }

func (registrySource) read() (provisioning, error) {
	return provisioning{}, errors.New("there is no installer registry key outside Windows; use --from FILE")
}

func (registrySource) remove() error { return nil }

// prepareDataDir creates the data directory for the one user running
// ScanBox (no shared install outside Windows).
func prepareDataDir(dir string) error { return os.MkdirAll(dir, 0o700) }
