package e2e

import (
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/payclient/banksim"
)

// TestPOSAPIFromPython drives the POS API of `scanbox serve` from outside
// Go: a Python script using only the standard library pays, follows the
// order to its end, cancels another, and sees requests without the token,
// from a foreign web origin or Host, and on a non-loopback address refused.
func TestPOSAPIFromPython(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed for this test (Debian: apt-get install python3)")
	}
	bin := buildScanbox(t)
	base := startBanksim(t, bin, "--password-delay", "300ms")
	dir := t.TempDir()
	if out, code := run(t, bin, "activate", "--data-dir", dir, "--url", base, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != 0 {
		t.Fatalf("activate exit %d: %s", code, out)
	}
	servePacing(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if out, code := run(t, bin, "posapi", "enable", "--port", strconv.Itoa(port), "--data-dir", dir); code != 0 ||
		!strings.Contains(out, "127.0.0.1:"+strconv.Itoa(port)) {
		t.Fatalf("posapi enable exit %d: %s", code, out)
	}
	startServe(t, bin, dir)
	cmd := exec.Command(py, "testdata/pos_client.py", "http://127.0.0.1:"+strconv.Itoa(port), filepath.Join(dir, "pos-api.token"))
	out, err := cmd.CombinedOutput()
	t.Logf("pos_client.py:\n%s", out)
	if err != nil || !strings.Contains(string(out), "ALL OK") {
		t.Fatalf("pos_client.py: %v", err)
	}
}
