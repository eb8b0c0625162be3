package ocr

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
)

// The test binary doubles as a misbehaving helper when SCANBOX_OCR_FAKE is
// set, so that crash, hang and protocol failures are tested for real, with a
// real child process.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SCANBOX_OCR_FAKE"); mode != "" {
		os.Exit(fakeHelper(mode))
	}
	code := m.Run()
	if helperDir != "" {
		os.RemoveAll(helperDir)
	}
	os.Exit(code)
}

func fakeHelper(mode string) int {
	if name, idle, ok := serveArgs(os.Args[1:]); ok {
		return fakeServe(mode, name, idle) // share_test.go
	}
	if strings.HasPrefix(mode, "serve-") {
		// The private helper a shared-helper test falls back to.
		fakeLog("private")
		if mode == "serve-hang-always" {
			mode = "hang-on-read"
		} else {
			mode = "echo"
		}
	}
	out := bufio.NewWriter(os.Stdout)
	send := func(verb, body string) {
		ocrproto.Write(out, ocrproto.Frame{Verb: verb, Body: []byte(body)})
		out.Flush()
	}
	in := bufio.NewReader(os.Stdin)
	switch mode {
	case "refuse-start":
		send(ocrproto.VerbErr, "the Tesseract English data is missing: /nowhere/eng.traineddata")
		return 1
	case "die-at-start":
		fmt.Fprintln(os.Stderr, "error while loading shared libraries: libtesseract.so.5: cannot open shared object file")
		return 127
	case "crash-on-read":
		send(ocrproto.VerbReady, "fake")
		ocrproto.Read(in)
		fmt.Fprintln(os.Stderr, "Segmentation fault")
		return 139
	case "hang-on-read":
		send(ocrproto.VerbReady, "fake")
		ocrproto.Read(in)
		fakeLog("reading")
		time.Sleep(time.Hour)
	case "echo":
		// Answers a READ with arg N with $SCANBOX_OCR_FAKE_TEXT_N, and counts
		// the reads it served on stderr.
		send(ocrproto.VerbReady, "fake")
		for {
			f, err := ocrproto.Read(in)
			if err != nil {
				return 0
			}
			send(ocrproto.VerbOK, os.Getenv(fmt.Sprintf("SCANBOX_OCR_FAKE_TEXT_%d", f.Arg)))
		}
	}
	return 3
}

// fakeCommand returns argv that runs this test binary as a fake helper.
func fakeCommand(t *testing.T, mode string) []string {
	t.Helper()
	t.Setenv("SCANBOX_OCR_FAKE", mode)
	return []string{os.Args[0]}
}

var (
	helperOnce sync.Once
	helperDir  string
	helperArgv []string
	helperSkip string
	helperErr  error
)

// realHelper returns argv of the real scanbox-ocr: $SCANBOX_OCR_TEST_HELPER
// (space-separated, e.g. "wine /tmp/dist/scanbox-ocr.exe") or one built now
// from ./cmd/scanbox-ocr. It skips only when libtesseract is not installed.
func realHelper(t testing.TB) []string {
	t.Helper()
	helperOnce.Do(func() {
		if s := os.Getenv("SCANBOX_OCR_TEST_HELPER"); s != "" {
			helperArgv = strings.Fields(s)
			return
		}
		if err := exec.Command("pkg-config", "--exists", "tesseract", "lept").Run(); err != nil {
			helperSkip = "libtesseract-dev is not installed (pkg-config tesseract lept failed); CI installs it"
			return
		}
		dir, err := os.MkdirTemp("", "scanbox-ocr-test")
		if err != nil {
			helperErr = err
			return
		}
		helperDir = dir
		bin := filepath.Join(dir, "scanbox-ocr")
		cmd := exec.Command("go", "build", "-o", bin, "github.com/scanbox/scanbox/cmd/scanbox-ocr")
		if out, err := cmd.CombinedOutput(); err != nil {
			helperErr = fmt.Errorf("go build ./cmd/scanbox-ocr: %v\n%s", err, out)
			return
		}
		helperArgv = []string{bin}
	})
	if helperSkip != "" {
		t.Skip(helperSkip)
	}
	if helperErr != nil {
		t.Fatal(helperErr)
	}
	return helperArgv
}

// testTessdata is $SCANBOX_OCR_TEST_TESSDATA (for a helper under wine) or "".
func testTessdata() string { return os.Getenv("SCANBOX_OCR_TEST_TESSDATA") }
