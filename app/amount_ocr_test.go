package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildOCRHelper builds the real cmd/scanbox-ocr into t.TempDir() (the Go
// build cache makes the second and later builds a link only). It skips only
// when libtesseract is not installed; CI installs it.
func buildOCRHelper(t *testing.T) string {
	t.Helper()
	if err := exec.Command("pkg-config", "--exists", "tesseract", "lept").Run(); err != nil {
		t.Skip("libtesseract-dev is not installed (pkg-config tesseract lept failed); CI installs it")
	}
	p := filepath.Join(t.TempDir(), "scanbox-ocr")
	if out, err := exec.Command("go", "build", "-o", p, "github.com/scanbox/scanbox/cmd/scanbox-ocr").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/scanbox-ocr: %v\n%s", err, out)
	}
	// `scanbox amount` leaves a shared helper running for a minute: end the
	// ones of this build when the test ends (amount_ocr_share_test.go).
	t.Cleanup(func() { killHelpersOf(t, p) })
	return p
}

func corpusImage(name string) string {
	return filepath.Join("..", "capture", "ocr", "testdata", "corpus", name)
}

func runAmountOCR(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"amount", "--source", "ocr"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAmountOCRUsage(t *testing.T) {
	t.Setenv("SCANBOX_OCR", "/nonexistent/scanbox-ocr") // usage must be caught before OCR
	cases := []struct {
		name string
		args []string
	}{
		{"neither", nil},
		{"both", []string{"--image", corpusImage("r001.png"), "--region", "0,0,10,10"}},
		{"bad region", []string{"--region", "0,0,10"}},
		{"zero width", []string{"--region", "0,0,0,10"}},
		{"missing file", []string{"--image", "/nonexistent.png"}},
		{"not an image", []string{"--image", "amount_ocr.go"}},
		{"stray argument", []string{"--image", corpusImage("r001.png"), "extra"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runAmountOCR(t, c.args...)
			if code != exitUsage || out != "" || strings.Count(strings.TrimSpace(errs), "\n") != 0 || errs == "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2, one line on stderr", code, out, errs)
			}
		})
	}
}

// TestAmountOCRUnavailable: with the helper or the Tesseract runtime or data
// missing, the command fails with one sentence and exit 2.
func TestAmountOCRUnavailable(t *testing.T) {
	img := corpusImage("r001.png")
	t.Run("helper missing", func(t *testing.T) {
		t.Setenv("SCANBOX_OCR", filepath.Join(t.TempDir(), "scanbox-ocr"))
		checkUnavailable(t, img, "is not a program file")
	})
	t.Run("helper not found anywhere", func(t *testing.T) {
		t.Setenv("SCANBOX_OCR", "")
		t.Setenv("PATH", t.TempDir())
		checkUnavailable(t, img, "was not found next to scanbox, in SCANBOX_OCR or on PATH")
	})
	t.Run("libtesseract missing", func(t *testing.T) {
		// The real helper, with its dependency on libtesseract.so.5 renamed
		// to a library that does not exist: the dynamic loader refuses to
		// start it, exactly as on a PC without the Tesseract runtime.
		bin, err := os.ReadFile(buildOCRHelper(t))
		if err != nil {
			t.Fatal(err)
		}
		patched := bytes.Replace(bin, []byte("libtesseract.so.5\x00"), []byte("libtesseract.so.X\x00"), 1)
		if bytes.Equal(patched, bin) {
			t.Fatal("the helper does not name libtesseract.so.5; update this test")
		}
		p := filepath.Join(t.TempDir(), "scanbox-ocr")
		if err := os.WriteFile(p, patched, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("SCANBOX_OCR", p)
		checkUnavailable(t, img, "libtesseract.so.X")
	})
	t.Run("language data missing", func(t *testing.T) {
		t.Setenv("SCANBOX_OCR", buildOCRHelper(t))
		t.Setenv("SCANBOX_TESSDATA", t.TempDir())
		checkUnavailable(t, img, "the Tesseract English data is missing")
	})
}

func checkUnavailable(t *testing.T, img, want string) {
	t.Helper()
	code, out, errs := runAmountOCR(t, "--image", img)
	line := strings.TrimSpace(errs)
	if code != exitUsage || out != "" || strings.Contains(line, "\n") ||
		!strings.HasPrefix(line, "OCR is unavailable: ") || !strings.Contains(line, want) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and one line \"OCR is unavailable: …%s…\"", code, out, errs, want)
	}
	t.Logf("stderr: %s", line)
}

func TestAmountOCRReads(t *testing.T) {
	t.Setenv("SCANBOX_OCR", buildOCRHelper(t))
	t.Setenv("SCANBOX_TESSDATA", "")

	code, out, errs := runAmountOCR(t, "--image", corpusImage("r001.png")) // DejaVu Sans Bold "¥ 58.59" white on blue
	if code != exitOK || out != "58.59\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 58.59", code, out, errs)
	}

	code, out, errs = runAmountOCR(t, "--image", corpusImage("r002.png"), "--json") // 应收 ¥716.20
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var got struct {
		AmountFen *int64  `json:"amount_fen"`
		Text      *string `json:"text"`
		MS        *int64  `json:"ms"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.AmountFen == nil || got.Text == nil || got.MS == nil {
		t.Fatalf("stdout %q is not {amount_fen,text,ms}: %v", out, err)
	}
	if *got.AmountFen != 71620 || !strings.Contains(*got.Text, "716.20") || *got.MS <= 0 {
		t.Fatalf("got %s", out)
	}

	code, out, errs = runAmountOCR(t, "--image", corpusImage("x03.png")) // two amounts
	if code != exitFailed || out != "" || !strings.HasPrefix(errs, "scanbox amount: no amount could be read") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1, no amount", code, out, errs)
	}
}

// TestAmountOCRBatch: many --image flags are read by one kept-alive helper,
// one line per image in order, and the exit code says whether all were read.
func TestAmountOCRBatch(t *testing.T) {
	t.Setenv("SCANBOX_OCR", buildOCRHelper(t))
	t.Setenv("SCANBOX_TESSDATA", "")
	a, b, x := corpusImage("r001.png"), corpusImage("r002.png"), corpusImage("x03.png")

	code, out, errs := runAmountOCR(t, "--image", a, "--image", b)
	if want := a + ": 58.59\n" + b + ": 716.20\n"; code != exitOK || out != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 0 and %q", code, out, errs, want)
	}

	code, out, errs = runAmountOCR(t, "--image", a, "--image", x, "--image", b, "--json")
	if code != exitFailed {
		t.Fatalf("exit %d, stderr %q; want 1 (one image has no amount)", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("stdout %q: want three lines", out)
	}
	wants := []struct {
		img string
		fen int64
	}{{a, 5859}, {x, 0}, {b, 71620}}
	for i, l := range lines {
		var got struct {
			Image     string `json:"image"`
			AmountFen int64  `json:"amount_fen"`
			MS        *int64 `json:"ms"`
			Error     string `json:"error"`
		}
		if err := json.Unmarshal([]byte(l), &got); err != nil || got.MS == nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if got.Image != wants[i].img || got.AmountFen != wants[i].fen || (wants[i].fen == 0) != (got.Error != "") {
			t.Fatalf("line %d = %s; want image %s amount %d", i, l, wants[i].img, wants[i].fen)
		}
	}

	// A missing file is a usage error before anything is read.
	code, out, _ = runAmountOCR(t, "--image", a, "--image", filepath.Join(t.TempDir(), "none.png"))
	if code != exitUsage || out != "" {
		t.Fatalf("exit %d, stdout %q; want exit 2 and nothing read", code, out)
	}
}
