package logging

import (
	"os"
	"runtime"
	"testing"
)

// testDir is t.TempDir, except on Windows, where the cleanup is best effort:
// under Wine 8, t.TempDir's cleanup fails with "Invalid function", which
// would fail every test there for a reason that is not ScanBox's.
func testDir(t testing.TB) string {
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
