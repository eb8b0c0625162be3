//go:build scanbox_testhooks

package core

import (
	"os"
	"time"
)

// FleetIntervalTestHookEnv is honoured only here, in a scanbox_testhooks
// build (see core/fleet.go).
func init() {
	fleetInterval = func() time.Duration {
		d, err := time.ParseDuration(os.Getenv(FleetIntervalTestHookEnv))
		if err != nil || d <= 0 {
			return 0
		}
		return d
	}
}
