// Package ptypair starts a socat pseudo-terminal pair for the serial tests of
// the capture packages: bytes written to one end come out of the other, as
// through a com0com virtual pair. Test support only; it must never be
// imported by production code.
package ptypair

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Pair is a running socat with two linked ptys, A and B.
type Pair struct {
	A, B string
	t    testing.TB
	cmd  *exec.Cmd
}

// Start runs socat with links dir/name-a and dir/name-b (dir "" means a new
// t.TempDir()). It skips the test only when socat is not installed (or on
// Windows, which has no ptys); any other failure fails it.
func Start(t testing.TB, dir, name string) *Pair {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("pty pairs need Linux; on Windows use com0com by hand")
	}
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat is not installed (apt-get install socat); serial tests need a pty pair")
	}
	if dir == "" {
		dir = t.TempDir()
	}
	p := &Pair{A: filepath.Join(dir, name+"-a"), B: filepath.Join(dir, name+"-b"), t: t}
	p.Restart()
	t.Cleanup(p.Stop)
	return p
}

// Restart starts socat again after Stop, with the same link names, like a
// USB adapter plugged back in.
func (p *Pair) Restart() {
	p.t.Helper()
	if p.cmd != nil {
		p.t.Fatal("ptypair: Restart while running")
	}
	cmd := exec.Command("socat", "pty,raw,echo=0,link="+p.A, "pty,raw,echo=0,link="+p.B)
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("ptypair: start socat: %v", err)
	}
	p.cmd = cmd
	// Setup wait, not a timing assertion: socat creates the links shortly
	// after it starts.
	deadline := time.Now().Add(10 * time.Second)
	for !exists(p.A) || !exists(p.B) {
		if time.Now().After(deadline) {
			p.Stop()
			p.t.Fatalf("ptypair: socat did not create %s and %s", p.A, p.B)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Stop ends socat (SIGTERM, so that it removes its links) and waits for it,
// like pulling the USB adapter.
func (p *Pair) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
	p.cmd = nil
	// A SIGKILLed socat would leave dangling links; remove them so that an
	// open sees "missing", as Windows does for an unplugged COM port.
	os.Remove(p.A)
	os.Remove(p.B)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
