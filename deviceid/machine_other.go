//go:build !windows

package deviceid

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// machineIDFiles are systemd's machine-id and D-Bus's older copy of it.
var machineIDFiles = []string{"/etc/machine-id", "/var/lib/dbus/machine-id"}

func machineIdentity() (string, error) {
	var errs []error
	for _, p := range machineIDFiles {
		b, err := os.ReadFile(p)
		if err == nil {
			if s := strings.TrimSpace(string(b)); s != "" {
				return s, nil
			}
			err = errors.New("empty")
		}
		errs = append(errs, fmt.Errorf("%s: %w", p, err))
	}
	return "", fmt.Errorf("%w (%w)", ErrNoIdentity, errors.Join(errs...))
}
