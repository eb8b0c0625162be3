//go:build scanbox_testhooks

package deviceid

import (
	"os"
	"strings"
)

// testHookIdentity lets the e2e harness play "another PC" across processes.
// Compiled only with -tags scanbox_testhooks; never in a shipped build.
func testHookIdentity() string { return strings.TrimSpace(os.Getenv(TestHookEnv)) }
