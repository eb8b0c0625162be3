//go:build !scanbox_testhooks

package deviceid

import "testing"

// TestEnvIgnoredInReleaseBuilds: on a shop's PC the variable changes nothing.
func TestEnvIgnoredInReleaseBuilds(t *testing.T) {
	real, err := machineIdentity()
	if err != nil {
		t.Skipf("no machine identity on this host: %v", err)
	}
	t.Setenv(TestHookEnv, "another-pc")
	got, err := Machine()
	if err != nil || got == "another-pc" || got != real {
		t.Fatalf("Machine() = %q, %v with %s set; want the real identity", got, err, TestHookEnv)
	}
}
