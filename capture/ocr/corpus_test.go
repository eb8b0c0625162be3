package ocr

import (
	"bufio"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/money"
)

// corpusDir is testdata/corpus, or $SCANBOX_OCR_CORPUS for a held-out set
// rendered by gen-corpus.sh DIR FIRST COUNT.
func corpusDir() string {
	if d := os.Getenv("SCANBOX_OCR_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("testdata", "corpus")
}

type corpusCase struct {
	file  string
	want  money.Fen // 0: must be refused
	drawn string
}

func loadCorpus(t testing.TB) []corpusCase { return loadCorpusDir(t, corpusDir()) }

// screensDir is testdata/screens (browser-drawn, gen-screens.py), or
// $SCANBOX_OCR_SCREENS for a held-out set rendered with another seed.
func screensDir() string {
	if d := os.Getenv("SCANBOX_OCR_SCREENS"); d != "" {
		return d
	}
	return filepath.Join("testdata", "screens")
}

func loadCorpusDir(t testing.TB, dir string) []corpusCase {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.SplitN(sc.Text(), "\t", 3)
		if len(p) != 3 {
			t.Fatalf("manifest line %q", sc.Text())
		}
		c := corpusCase{file: p[0], drawn: p[2]}
		if p[1] != "refuse" {
			n, err := strconv.ParseInt(p[1], 10, 64)
			if err != nil {
				t.Fatalf("manifest line %q: %v", sc.Text(), err)
			}
			c.want = money.Fen(n)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestCorpus reads every rendered image with the real helper: at least 99 %
// of the readable ones must give the right amount, and no image may give a
// wrong amount, including the ones drawn to be refused.
func TestCorpus(t *testing.T) {
	t.Parallel() // beside TestScreenCorpus: each has its own helper
	runCorpus(t, corpusDir(), 99)
}

// TestScreenCorpus is the same over the corpus drawn by a real browser
// engine (testdata/screens: subpixel anti-aliasing, scale factors 1.0 to
// 2.0, stretched windows, LED-style digits with ghost segments, labels,
// buttons): at least 97 % read right, no wrong amount, every image drawn
// to be refused (change, paid, unit price, discount, quantity labels; two
// amounts) refused.
func TestScreenCorpus(t *testing.T) {
	t.Parallel()
	runCorpus(t, screensDir(), 97)
}

func runCorpus(t *testing.T, dir string, pct int) {
	r := NewReader(Options{Command: realHelper(t), Tessdata: testTessdata()})
	defer r.Close()
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("helper %q, Tesseract %s", realHelper(t), r.Version())
	cases := loadCorpusDir(t, dir)
	readable, right, refusedOK, wrong := 0, 0, 0, 0
	for _, c := range cases {
		img := decodePNG(t, filepath.Join(dir, c.file))
		res, err := r.Read(context.Background(), img)
		if err != nil && !errors.Is(err, ErrNoAmount) {
			t.Fatalf("%s: %v", c.file, err)
		}
		if c.want != 0 {
			readable++
		}
		switch {
		case err == nil && res.Amount == c.want:
			right++
		case err == nil:
			wrong++
			t.Errorf("%s (%s): WRONG amount %s accepted; readings %q", c.file, c.drawn, res.Amount, texts(res))
		case c.want == 0:
			refusedOK++
			t.Logf("%s (%s): refused as it must be: %v", c.file, c.drawn, err)
		default:
			t.Logf("%s (%s): refused: %v; readings %q", c.file, c.drawn, err, texts(res))
		}
	}
	t.Logf("corpus %s: %d/%d readable images read right (%.1f %%), %d of %d refuse-images refused, %d wrong amounts",
		filepath.Base(dir), right, readable, 100*float64(right)/float64(readable), refusedOK, len(cases)-readable, wrong)
	if readable < 100 {
		t.Errorf("corpus has %d readable images; 99 %% needs at least 100 to mean anything", readable)
	}
	if right*100 < readable*pct {
		t.Errorf("%d/%d read right, below %d %%", right, readable, pct)
	}
	if refusedOK != len(cases)-readable {
		t.Errorf("%d of %d images drawn to be refused were refused; all must be", refusedOK, len(cases)-readable)
	}
	if wrong != 0 {
		t.Errorf("%d wrong amounts accepted; must be 0", wrong)
	}
}

func decodePNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func texts(r Result) []string {
	var s []string
	for _, rd := range r.Readings {
		s = append(s, rd.Text)
	}
	return s
}
