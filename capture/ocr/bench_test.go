package ocr

import (
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
)

// BenchmarkOCR reads the corpus with the kept-alive helper and, as the
// baseline, with the stock `tesseract` command (one process per image,
// original PNG, --psm 7 with the same whitelist), in one run. Each reports
// ms per read at p50 and p95 and the share of readable images read right.
// Run it as scripts/bench-ocr.sh (-benchtime=<corpus size>x: one pass).
//
//   - helper-read: Read, the whole decision (two or three OCR passes).
//   - helper-pass: one OCR pass (ReadText) with the first variant.
//   - cli-pass: one `tesseract` run; "right" there means its one reading
//     gave the amount, without any second opinion.
//
// wrong-n counts images that gave an amount other than the one drawn,
// including an amount for an image drawn to be refused.
// $SCANBOX_OCR_CORPUS selects the set (testdata/screens for the browser-drawn one).
func BenchmarkOCR(b *testing.B) {
	cases := loadCorpus(b)
	imgs := make([]image.Image, len(cases))
	for i, c := range cases {
		imgs[i] = decodePNG(b, filepath.Join(corpusDir(), c.file))
	}
	report := func(b *testing.B, d []time.Duration, right, readable, wrong int) {
		slices.Sort(d)
		ms := func(q float64) float64 {
			return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000
		}
		b.ReportMetric(ms(0.50), "p50-ms")
		b.ReportMetric(ms(0.95), "p95-ms")
		if readable > 0 {
			b.ReportMetric(100*float64(right)/float64(readable), "right-%")
		}
		b.ReportMetric(float64(wrong), "wrong-n")
		b.ReportMetric(0, "ns/op") // the percentiles say it better
	}

	b.Run("helper-read", func(b *testing.B) {
		r := NewReader(Options{Command: realHelper(b), Tessdata: testTessdata()})
		defer r.Close()
		if err := r.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		var d []time.Duration
		right, readable, wrong := 0, 0, 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c := cases[i%len(cases)]
			t0 := time.Now()
			res, err := r.Read(context.Background(), imgs[i%len(imgs)])
			d = append(d, time.Since(t0))
			if c.want != 0 {
				readable++
				if err == nil && res.Amount == c.want {
					right++
				}
			}
			if err == nil && res.Amount != c.want {
				wrong++
			}
		}
		report(b, d, right, readable, wrong)
	})

	b.Run("helper-pass", func(b *testing.B) {
		r := NewReader(Options{Command: realHelper(b), Tessdata: testTessdata()})
		defer r.Close()
		if err := r.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		var d []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			r.ReadText(context.Background(), imgs[i%len(imgs)], Variants[0])
			d = append(d, time.Since(t0))
		}
		report(b, d, 0, 0, 0)
	})

	b.Run("cli-pass", func(b *testing.B) {
		bin, err := exec.LookPath("tesseract")
		if err != nil {
			b.Skip("the tesseract command is not installed (Debian: tesseract-ocr)")
		}
		var d []time.Duration
		right, readable, wrong := 0, 0, 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c := cases[i%len(cases)]
			cmd := exec.Command(bin, filepath.Join(corpusDir(), c.file), "stdout", "--psm", "7", "-l", "eng",
				"-c", "tessedit_char_whitelist="+ocrproto.Whitelist)
			cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
			t0 := time.Now()
			out, err := cmd.Output()
			d = append(d, time.Since(t0))
			if err != nil {
				b.Fatalf("%s: %v", c.file, err)
			}
			a, err := PickAmount(string(out))
			if c.want != 0 {
				readable++
				if err == nil && a == c.want {
					right++
				}
			}
			if err == nil && a != c.want {
				wrong++
			}
		}
		report(b, d, right, readable, wrong)
	})
}
