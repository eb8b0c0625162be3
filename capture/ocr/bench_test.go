package ocr

import (
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
// cpu-ms is the helper process's CPU time (user + system, from
// /proc/PID/stat; Linux and wine) per read: unlike the wall-clock
// percentiles it hardly moves with the load of a shared machine.
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
		cpu0 := helperCPU(r)
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
		reportCPU(b, r, cpu0)
		report(b, d, right, readable, wrong)
	})

	b.Run("helper-pass", func(b *testing.B) {
		r := NewReader(Options{Command: realHelper(b), Tessdata: testTessdata()})
		defer r.Close()
		if err := r.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		var d []time.Duration
		cpu0 := helperCPU(r)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			r.ReadText(context.Background(), imgs[i%len(imgs)], Variants[0])
			d = append(d, time.Since(t0))
		}
		reportCPU(b, r, cpu0)
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

// helperCPU returns the running helper's CPU time so far, or -1 where
// /proc cannot tell (not Linux, or the helper was replaced).
func helperCPU(r *Reader) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h == nil || r.h.cmd.Process == nil {
		return -1
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(r.h.cmd.Process.Pid) + "/stat")
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(ut+st) * tick
}

func reportCPU(b *testing.B, r *Reader, cpu0 time.Duration) {
	cpu1 := helperCPU(r)
	if cpu0 < 0 || cpu1 < cpu0 {
		return // not measurable here, or the helper was replaced meanwhile
	}
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms")
}
