//go:build scanbox_testhooks

package core

import (
	"os"
	"time"
)

// FleetIntervalTestHookEnv shortens the fleet heartbeat interval for the
// e2e harness (e2e/fleet_test.go), whose test budget cannot wait the
// fleet's 10 s minimum several times. Compiled only with -tags
// scanbox_testhooks, like deviceid's machine-identity hook; a shipped build
// always uses the interval the fleet sets.
const FleetIntervalTestHookEnv = "SCANBOX_TESTHOOK_FLEET_INTERVAL"

func init() {
	fleetInterval = func() time.Duration {
		d, err := time.ParseDuration(os.Getenv(FleetIntervalTestHookEnv))
		if err != nil || d <= 0 {
			return 0
		}
		return d
	}
}
