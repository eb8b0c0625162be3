// Package testdir gives tests a scratch directory that also works when the
// tests run as Windows binaries under Wine 8, where t.TempDir's cleanup
// fails with "Invalid function" for a reason that is not ScanBox's. It is
// for tests only.
package testdir

import (
	"os"
	"runtime"
	"testing"
)

// New is t.TempDir, except on Windows, where the cleanup is best effort.
func New(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	d, err := os.MkdirTemp("", "scanbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
