package ocr

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
	"github.com/scanbox/scanbox/money"
)

// someText is an image with something on it, for fake helpers that do not
// look at it.
func someText() image.Image {
	return bar(100, 32, color.White, color.Black, image.Rect(20, 10, 80, 22))
}

func variantArg(v Variant) int { return v.arg() }

// setFakeTexts makes the "echo" fake answer reading i with texts[i].
func setFakeTexts(t *testing.T, texts ...string) {
	for i, v := range Variants {
		s := ""
		if i < len(texts) {
			s = texts[i]
		}
		t.Setenv(fmt.Sprintf("SCANBOX_OCR_FAKE_TEXT_%d", variantArg(v)), s)
	}
}

func TestReadAgreement(t *testing.T) {
	cases := []struct {
		name  string
		texts []string
		want  money.Fen // 0: refused
		runs  int       // readings made
	}{
		{"first two agree", []string{"¥12.50", "合计 ¥12.50", "¥99.99", "¥99.99"}, 1250, 2},
		{"third settles for the second", []string{"3113.05", "SWZ 113.05", "113.05", ""}, 11305, 3},
		{"third settles for the first", []string{"¥7.64", "¥7 64", "7.64", ""}, 764, 3},
		{"third, sent ahead, settles for the second", []string{"TOTAL", "合计 ¥12.50", "12.50", ""}, 1250, 3},
		{"fourth settles for the third", []string{"26.13", "6.13", "8.13", "8.13"}, 813, 4},
		// The two Chinese readings are one model: their agreement is not two opinions.
		{"the Chinese pair alone does not settle", []string{"2.04", "2.64", "", "2.64"}, 0, 4},
		{"all four differ", []string{"26.13", "6.13", "8.13", "9.13"}, 0, 4},
		{"one amount only", []string{"12.50", "", "", ""}, 0, 4},
		{"none", []string{"", "", "", ""}, 0, 4},
		{"agreeing pair with two amounts each", []string{"¥12.00 ¥15.00", "¥12.00 ¥15.00", "¥12.00 ¥15.00", "¥12.00 ¥15.00"}, 0, 4},
		// The Chinese reading sees the label: change is never charged, even
		// when every reading has the same amount.
		{"change label refuses", []string{"5.00", "找零 5.00", "5.00", "5.00"}, 0, 2},
		{"misread change label refuses", []string{"5.00", "找夫 5.00", "5.00", "5.00"}, 0, 2},
		{"paid label in Latin refuses", []string{"5.00", "CASH 5.00", "5.00", "5.00"}, 0, 2},
		{"yuan after the amount", []string{"245.00", "合计 245.00元", "245.00%", ""}, 24500, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			setFakeTexts(t, c.texts...)
			r := NewReader(Options{Command: fakeCommand(t, "echo")})
			defer r.Close()
			res, err := r.Read(context.Background(), someText())
			if len(res.Readings) != c.runs {
				t.Errorf("%d readings made, want %d", len(res.Readings), c.runs)
			}
			if res.Text != c.texts[0] {
				t.Errorf("Text = %q, want the first reading %q", res.Text, c.texts[0])
			}
			if c.want == 0 {
				if !errors.Is(err, ErrNoAmount) || res.Amount != 0 {
					t.Fatalf("got %v, %v; want ErrNoAmount and no amount", res.Amount, err)
				}
				return
			}
			if err != nil || res.Amount != c.want {
				t.Fatalf("got %v, %v; want %v", res.Amount, err, c.want)
			}
		})
	}
}

// TestReadAheadKeepsStep: when the first reading finds no amount, Read
// sends the third reading at once, beside the second, and does not wait for
// it when the second already decides (here a change label refuses); the
// next request must take that reply out of the pipe first, or every answer
// after it would be one off. The reply sent ahead is still there when asked
// for after another request, and is read again when its helper is gone.
func TestReadAheadKeepsStep(t *testing.T) {
	setFakeTexts(t, "TOTAL", "找零 ¥12.50", "¥99.99", "¥77.77")
	r := NewReader(Options{Command: fakeCommand(t, "echo")})
	defer r.Close()
	for i := 0; i < 3; i++ {
		res, err := r.Read(context.Background(), someText())
		if !errors.Is(err, ErrNoAmount) || res.Amount != 0 || len(res.Readings) != 2 {
			t.Fatalf("read %d: got %v, %v, readings %q; want the change label refused after two readings", i, res.Amount, err, texts(res))
		}
		if text, err := r.ReadText(context.Background(), someText(), Variants[3]); err != nil || text != "¥77.77" {
			t.Fatalf("after read %d, a single pass got %q, %v; want the fourth variant's text", i, text, err)
		}
	}

	p, err := prepare(someText())
	if err != nil {
		t.Fatal(err)
	}
	first, spare, err := r.readFirst(context.Background(), p, Variants[0], Variants[1], Variants[2])
	if err != nil || len(first) != 2 || first[0] != "TOTAL" || first[1] != "找零 ¥12.50" || spare == nil {
		t.Fatalf("readFirst: %q, spare %v, %v", first, spare != nil, err)
	}
	if text, err := r.ReadText(context.Background(), someText(), Variants[3]); err != nil || text != "¥77.77" {
		t.Fatalf("a pass between: got %q, %v", text, err)
	}
	if text, ok := spare(context.Background()); !ok || text != "¥99.99" {
		t.Fatalf("the reply sent ahead, asked for after another pass: %q, %v; want the third variant's text", text, ok)
	}
	if _, ok := spare(context.Background()); ok {
		t.Fatal("the reply sent ahead was given twice")
	}

	_, spare, err = r.readFirst(context.Background(), p, Variants[0], Variants[1], Variants[2])
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if text, ok := spare(context.Background()); ok {
		t.Fatalf("the reply sent ahead to a helper that is gone: got %q", text)
	}
}

// TestReadAheadOnlyWhenNeeded: when the first reading found an amount (the
// first two will most likely agree) the third is not sent ahead, so no pass
// is made that nothing uses; when they then disagree, it is read after them.
func TestReadAheadOnlyWhenNeeded(t *testing.T) {
	setFakeTexts(t, "¥12.50", "合计 ¥12.50", "¥99.99", "¥77.77")
	r := NewReader(Options{Command: fakeCommand(t, "echo")})
	defer r.Close()
	p, err := prepare(someText())
	if err != nil {
		t.Fatal(err)
	}
	first, spare, err := r.readFirst(context.Background(), p, Variants[0], Variants[1], Variants[2])
	if err != nil || len(first) != 2 || first[0] != "¥12.50" || spare != nil {
		t.Fatalf("readFirst: %q, spare %v, %v; want two answers and nothing sent ahead", first, spare != nil, err)
	}
	// Nothing owed: the next answer is the next request's.
	if text, err := r.ReadText(context.Background(), someText(), Variants[3]); err != nil || text != "¥77.77" {
		t.Fatalf("the next pass got %q, %v; want the fourth variant's text", text, err)
	}
	if r.h.owed != 0 || r.h.spare != nil {
		t.Fatalf("%d replies owed, spare %v; want none", r.h.owed, r.h.spare != nil)
	}
}

// TestVariantsDistinct: every reading differs from the others in what it
// asks the helper (page segmentation, whitelist, model), so no two are the
// same reading twice.
func TestVariantsDistinct(t *testing.T) {
	seen := map[int]string{}
	for _, v := range Variants {
		if o, ok := seen[v.arg()]; ok {
			t.Fatalf("variants %s and %s send the same READ argument %#x", o, v.Name, v.arg())
		}
		seen[v.arg()] = v.Name
	}
}

func TestReadBlankMakesNoRequest(t *testing.T) {
	// A helper that would crash on any request: a blank image must not reach it.
	r := NewReader(Options{Command: fakeCommand(t, "crash-on-read")})
	defer r.Close()
	flat := bar(50, 20, color.White, color.White, image.Rectangle{})
	if _, err := r.Read(context.Background(), flat); !errors.Is(err, ErrNoAmount) {
		t.Fatalf("got %v, want ErrNoAmount", err)
	}
}

func TestUnavailable(t *testing.T) {
	cases := []struct {
		name string
		argv func(t *testing.T) []string
		want string
	}{
		{"no such program", func(t *testing.T) []string { return []string{filepath.Join(t.TempDir(), "scanbox-ocr")} }, "could not be started"},
		{"refuses at start", func(t *testing.T) []string { return fakeCommand(t, "refuse-start") }, "the Tesseract English data is missing"},
		{"dies at start", func(t *testing.T) []string { return fakeCommand(t, "die-at-start") }, "libtesseract.so.5: cannot open shared object file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(Options{Command: c.argv(t)})
			defer r.Close()
			for i := 0; i < 2; i++ { // and again: no stale state after a failed start
				_, err := r.Read(context.Background(), someText())
				if !errors.Is(err, ErrUnavailable) {
					t.Fatalf("got %v, want ErrUnavailable", err)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "OCR is unavailable: ") || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
					t.Fatalf("message %q: want one line \"OCR is unavailable: …%s…\"", msg, c.want)
				}
			}
		})
	}
}

func TestHelperCrashAndHang(t *testing.T) {
	t.Run("crash", func(t *testing.T) {
		r := NewReader(Options{Command: fakeCommand(t, "crash-on-read")})
		defer r.Close()
		_, err := r.ReadText(context.Background(), someText(), Variants[0])
		if !errors.Is(err, ErrHelperFailed) || !strings.Contains(err.Error(), "Segmentation fault") {
			t.Fatalf("got %v, want ErrHelperFailed quoting the helper's last words", err)
		}
	})
	t.Run("hang", func(t *testing.T) {
		r := NewReader(Options{Command: fakeCommand(t, "hang-on-read"), Timeout: 300 * time.Millisecond})
		defer r.Close()
		_, err := r.ReadText(context.Background(), someText(), Variants[0])
		if !errors.Is(err, ErrHelperFailed) || !strings.Contains(err.Error(), "no answer in time") {
			t.Fatalf("got %v, want ErrHelperFailed after the timeout", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		r := NewReader(Options{Command: fakeCommand(t, "hang-on-read")})
		defer r.Close()
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(200 * time.Millisecond); cancel() }()
		_, err := r.ReadText(ctx, someText(), Variants[0])
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
}

// TestRealHelperKeptAliveAndRestarted: the real helper serves many reads in
// one process, and a new one is started when it is killed.
func TestRealHelperKeptAliveAndRestarted(t *testing.T) {
	r := NewReader(Options{Command: realHelper(t), Tessdata: testTessdata()})
	defer r.Close()
	img := decodePNG(t, filepath.Join("testdata", "corpus", "r001.png")) // ¥ 58.59
	read := func() {
		t.Helper()
		res, err := r.Read(context.Background(), img)
		if err != nil || res.Amount != 5859 {
			t.Fatalf("got %v, %v; want 58.59", res.Amount, err)
		}
	}
	read()
	pid := r.h.cmd.Process.Pid
	read()
	if r.h.cmd.Process.Pid != pid {
		t.Fatal("a second helper was started for the second read")
	}
	r.h.cmd.Process.Kill()
	<-r.h.done
	read()
	if r.h.cmd.Process.Pid == pid {
		t.Fatal("the dead helper was not replaced")
	}

	// Concurrent reads share the one engine safely.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.Read(context.Background(), img)
			if err == nil && res.Amount != 5859 {
				err = fmt.Errorf("read %v", res.Amount)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestRealHelperRefusesGarbage(t *testing.T) {
	r := NewReader(Options{Command: realHelper(t), Tessdata: testTessdata()})
	defer r.Close()
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, body := range [][]byte{[]byte("not an image"), []byte("BM\x00\x00garbage")} {
		f, err := r.h.exchange(context.Background(), ocrproto.Frame{Verb: ocrproto.VerbRead, Arg: 7, Body: body}, DefaultTimeout)
		if err != nil || f.Verb != ocrproto.VerbErr {
			t.Fatalf("garbage %q: got %+v, %v; want an ERR reply and a live helper", body, f, err)
		}
	}
	f, err := r.h.exchange(context.Background(), ocrproto.Frame{Verb: ocrproto.VerbRead, Arg: 99, Body: nil}, DefaultTimeout)
	if err != nil || f.Verb != ocrproto.VerbErr {
		t.Fatalf("bad mode: got %+v, %v", f, err)
	}
	// Garbage to both engines at once: two ERR replies, in order.
	fs, err := r.h.exchangeAll(context.Background(), []ocrproto.Frame{
		{Verb: ocrproto.VerbRead, Arg: 7 | ocrproto.FlagChinese, Body: []byte("junk")},
		{Verb: ocrproto.VerbRead, Arg: 7, Body: []byte("junk")},
		{Verb: ocrproto.VerbRead, Arg: 99 | ocrproto.FlagChinese, Body: nil},
	}, DefaultTimeout)
	if err != nil || len(fs) != 3 || fs[0].Verb != ocrproto.VerbErr || fs[1].Verb != ocrproto.VerbErr ||
		fs[2].Verb != ocrproto.VerbErr {
		t.Fatalf("pipelined garbage: got %+v, %v", fs, err)
	}
	// Still serving, on both engines at once.
	p, err := prepare(someText())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.readFirst(context.Background(), p, Variants[0], Variants[1], Variants[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadText(context.Background(), someText(), Variants[0]); err != nil {
		t.Fatal(err)
	}
}

// TestRealHelperNoInvertedReread: the helper runs Tesseract with its
// inverted re-read off (tessedit_do_invert=0): a light-on-dark line sent as
// it is, not inverted by the client, is not read (with the re-read on,
// Tesseract runs each such line a second time in negative and reads it),
// while the same image prepared by the client is.
func TestRealHelperNoInvertedReread(t *testing.T) {
	r := NewReader(Options{Command: realHelper(t), Tessdata: testTessdata()})
	defer r.Close()
	for _, c := range []struct{ file, amount string }{
		{"r004.png", "177431.42"}, // #33ff33 on black
		{"r005.png", "9.03"},      // #ffeb3b on #333333
	} {
		img := decodePNG(t, filepath.Join("testdata", "corpus", c.file))
		raw := toGray(img)
		p, err := prepare(img)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range Variants[:2] {
			got, err := r.send(context.Background(), raw, v)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(got, c.amount) {
				t.Errorf("%s, %s, light on dark as it is: read %q; the inverted re-read is on", c.file, v.Name, got)
			}
			if got, err := r.readPrepared(context.Background(), p, v); err != nil || !strings.Contains(got, c.amount) {
				t.Errorf("%s, %s, prepared: read %q, %v; want %s", c.file, v.Name, got, err, c.amount)
			}
		}
	}
}
