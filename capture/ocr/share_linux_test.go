package ocr

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scanbox/scanbox/capture/ocr/ocrpipe"
	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
)

// Another user's process on the name (a squatter that could feed a wrong
// amount): the client sees the peer's uid and reads privately. Playing
// another user needs root (the server runs as nobody); ocrpipe's own tests
// cover the check both ways without.
func TestSharedForeignEndpointFallsBack(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a server as another user; ocrpipe's TestForeignPeer covers the check")
	}
	opts, log := sharedFake(t, "serve-echo")
	setFakeTexts(t, "¥8.00", "¥8.00")
	name := ocrpipe.Endpoint(shareKey(opts.Command, opts.shareSalt))
	// The squatter: this test binary as user nobody, a fake shared helper
	// that would answer every read with 99.99.
	// A copy of it that nobody may run (go test's build folder is 0700).
	dir, err := os.MkdirTemp("", "ocrsquat")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "squatter")
	b, err := os.ReadFile(os.Args[0])
	if err == nil {
		err = os.WriteFile(bin, b, 0o755)
	}
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	squat := exec.Command(bin, "--serve", name)
	squat.Env = append(os.Environ(), "SCANBOX_OCR_FAKE=serve-echo", "SCANBOX_OCR_FAKE_LOG=",
		"SCANBOX_OCR_FAKE_TEXT_"+strconv.Itoa(variantArg(Variants[0]))+"=¥99.99",
		"SCANBOX_OCR_FAKE_TEXT_"+strconv.Itoa(variantArg(Variants[1]))+"=¥99.99")
	squat.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := squat.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := squat.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { squat.Process.Kill(); squat.Wait() }()
	if f, err := ocrproto.Read(bufio.NewReader(out)); err != nil || f.Verb != ocrproto.VerbReady {
		t.Fatalf("the squatter did not start: %v %v", f, err)
	}
	r, res, err := readOnce(t, opts)
	if err != nil || res.Amount != 800 || r.HelperKind() != HelperPrivate {
		t.Fatalf("got %v, %v, %q; want 8.00 from a private helper, never the squatter's 99.99", res.Amount, err, r.HelperKind())
	}
	if !errors.Is(r.share.why, ocrpipe.ErrForeign) {
		t.Fatalf("why = %v; want ErrForeign", r.share.why)
	}
	if evs := fakeEvents(t, log); countEvents(evs, "start") != 0 {
		t.Fatalf("events %v", evs)
	}
}

// The shared helper outlives its caller, so it must not keep what the
// caller's own caller left open: a descriptor inherited without
// close-on-exec (a shell's or a harness's pipe, as `$(scanbox amount …)`
// waits on) is closed by the helper at start. Here the test process plays
// that caller: the write end of a pipe, inheritable, is seen closed by the
// reader as soon as the test closes its copy, though the helper lives on.
func TestSharedHelperDropsInheritedDescriptors(t *testing.T) {
	opts, log := sharedFake(t, "serve-echo")
	opts.ShareIdle = time.Hour
	setFakeTexts(t, "¥8.00", "¥8.00")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if _, err := unix.FcntlInt(pw.Fd(), unix.F_SETFD, 0); err != nil { // inheritable
		t.Fatal(err)
	}
	r, res, err := readOnce(t, opts)
	pw.Close()
	if err != nil || res.Amount != 800 || r.HelperKind() != HelperSharedNew {
		t.Fatalf("got %v, %v, %q", res.Amount, err, r.HelperKind())
	}
	eof := make(chan error, 1)
	go func() {
		_, err := pr.Read(make([]byte, 1))
		eof <- err
	}()
	select {
	case err := <-eof:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("read %v; want EOF", err)
		}
	case <-time.After(60 * time.Second): // a guard against the wait itself, not a speed check
		t.Fatal("the shared helper keeps its caller's inherited pipe open")
	}
	if evs := fakeEvents(t, log); countEvents(evs, "exit") != 0 {
		t.Fatalf("events %v: the helper must still run", evs)
	}
}
