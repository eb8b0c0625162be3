//go:build scanbox_testhooks

package deviceid

import "testing"

func TestEnvOverridesInTestHookBuilds(t *testing.T) {
	t.Setenv(TestHookEnv, "another-pc")
	if got, err := Machine(); err != nil || got != "another-pc" {
		t.Fatalf("Machine() = %q, %v", got, err)
	}
	t.Setenv(TestHookEnv, "")
	if got, _ := Machine(); got == "another-pc" {
		t.Fatal("override kept after unsetting")
	}
}
