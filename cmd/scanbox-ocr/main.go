// Command scanbox-ocr is the OCR helper process of ScanBox: it keeps one
// Tesseract engine (through gosseract, cgo) alive and reads BMP images framed
// on stdin (capture/ocr/ocrproto), answering with their text on stdout.
//
// It exists so that Tesseract can never take scanbox down: a missing DLL, a
// missing language file or a crash inside Tesseract ends this process only,
// and the client in capture/ocr reports OCR as unavailable or restarts it.
// It must never do anything but OCR: no amount logic (that is in capture/ocr),
// no files written, no network.
//
// Usage: scanbox-ocr [--tessdata DIR] [--serve NAME [--idle D]]
//
// With --serve it is the shared helper of one user instead (serve.go).
//
// The language data (eng.traineddata) is looked up in, in order: --tessdata,
// $SCANBOX_TESSDATA, a "tessdata" folder next to this executable, then
// Tesseract's own default (TESSDATA_PREFIX or its compiled-in path).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/otiai10/gosseract/v2"
	"golang.org/x/image/bmp"

	"github.com/scanbox/scanbox/capture/ocr/ocrpipe"
	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout))
}

func run(args []string, stdin io.Reader, stdout io.Writer) int {
	fs := flag.NewFlagSet("scanbox-ocr", flag.ContinueOnError)
	tessdata := fs.String("tessdata", "", "folder holding eng.traineddata")
	serve := fs.String("serve", "", "be the shared helper on this endpoint (capture/ocr/ocrpipe), not the stdin one")
	idle := fs.Duration("idle", ocrpipe.DefaultIdle, "with --serve: exit after this long without a client")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// One thread per read: the shop PC runs the POS beside us, and OpenMP's
	// thread pool costs more than it gains on small images.
	os.Setenv("OMP_THREAD_LIMIT", "1")
	if *serve != "" {
		return serveShared(*serve, *idle, *tessdata)
	}

	out := bufio.NewWriter(stdout)
	reply := func(verb string, body []byte) bool {
		if err := ocrproto.Write(out, ocrproto.Frame{Verb: verb, Body: body}); err != nil {
			return false
		}
		return out.Flush() == nil
	}

	// The Chinese engine (labels) loads beside the English one, on the other
	// core, so that a one-shot read pays for one start, not two; a missing
	// chi_sim file fails only the reads that ask for it.
	chi := newChinese(findTessdata(*tessdata))
	defer chi.close()
	cli, err := start(findTessdata(*tessdata))
	if err != nil {
		reply(ocrproto.VerbErr, []byte(err.Error()))
		return 1
	}
	defer cli.Close()
	if !reply(ocrproto.VerbReady, []byte(cli.Version())) {
		return 1
	}

	// Each engine has its own worker, so a client may send an English and a
	// Chinese READ back to back and have both read at once; the replies go
	// out in the order the requests came.
	type result struct {
		text string
		err  error
	}
	type job struct {
		f     ocrproto.Frame
		psm   gosseract.PageSegMode
		reply chan result
	}
	engJobs, chiJobs := make(chan job, 4), make(chan job, 4)
	order := make(chan chan result, 16)
	var failed atomic.Bool
	var busy atomic.Int32 // passes being read now
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		whitelisted := true // as start left it
		for j := range engJobs {
			busy.Add(1)
			t, err := readEnglish(cli, j.f, j.psm, &whitelisted)
			busy.Add(-1)
			j.reply <- result{t, err}
		}
	}()
	go func() {
		defer wg.Done()
		for j := range chiJobs {
			busy.Add(1)
			t, err := readChinese(chi, j.f, j.psm)
			busy.Add(-1)
			j.reply <- result{t, err}
		}
	}()
	go func() {
		defer wg.Done()
		for rc := range order {
			r := <-rc
			ok := true
			if r.err != nil {
				ok = reply(ocrproto.VerbErr, []byte(oneLine(r.err.Error())))
			} else {
				ok = reply(ocrproto.VerbOK, []byte(r.text))
			}
			if !ok {
				failed.Store(true)
			}
		}
	}()
	finish := func() {
		close(engJobs)
		close(chiJobs)
		close(order)
		wg.Wait()
	}

	in := bufio.NewReader(stdin)
	for {
		f, err := ocrproto.Read(in)
		if errors.Is(err, io.EOF) {
			// The client closed our stdin: it is done with us, and wants no
			// answer still owed (Read sends a third reading ahead that it
			// may not need). Exit now rather than finish that pass: a
			// one-shot `scanbox amount` waits for us. os.Exit, not return:
			// the deferred Closes would free an engine a worker still uses.
			if len(engJobs) > 0 || len(chiJobs) > 0 || busy.Load() > 0 {
				os.Exit(0)
			}
			finish()
			return 0
		}
		if err != nil {
			finish()
			reply(ocrproto.VerbErr, []byte(err.Error()))
			return 1 // the stream is out of step; the client restarts us
		}
		if failed.Load() {
			finish()
			return 1
		}
		rc := make(chan result, 1)
		order <- rc
		e, err := route(f)
		psm := gosseract.PageSegMode(f.Arg & ocrproto.PSMMask)
		switch {
		case err != nil:
			rc <- result{"", err}
		case e == chineseEngine:
			chiJobs <- job{f, psm, rc}
		default:
			engJobs <- job{f, psm, rc}
		}
	}
}

// findTessdata returns the folder to hand Tesseract, or "" for its default.
func findTessdata(flagDir string) string {
	if flagDir != "" {
		return flagDir
	}
	if d := os.Getenv("SCANBOX_TESSDATA"); d != "" {
		return d
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Join(filepath.Dir(exe), "tessdata")
		if _, err := os.Stat(filepath.Join(d, "eng.traineddata")); err == nil {
			return d
		}
	}
	return ""
}

// start initialises the engine once, now, with a blank image, so that a
// missing language file is reported before READY rather than on first use.
func start(tessdata string) (*gosseract.Client, error) {
	if tessdata != "" {
		if _, err := os.Stat(filepath.Join(tessdata, "eng.traineddata")); err != nil {
			return nil, fmt.Errorf("the Tesseract English data is missing: %s", filepath.Join(tessdata, "eng.traineddata"))
		}
	}
	cli := gosseract.NewClient()
	if tessdata != "" {
		if err := cli.SetTessdataPrefix(tessdata); err != nil {
			cli.Close()
			return nil, err
		}
	}
	cli.SetLanguage("eng")
	cli.SetWhitelist(ocrproto.Whitelist)
	// The client scales text to a known size, so a fixed resolution is right
	// and keeps Tesseract from printing its "estimating resolution" warning.
	cli.SetVariable("user_defined_dpi", "300")
	noInvertedReread(cli)
	var blank bytes.Buffer
	if err := bmp.Encode(&blank, blankImage()); err != nil {
		cli.Close()
		return nil, err
	}
	if err := cli.SetImageFromBytes(blank.Bytes()); err != nil {
		cli.Close()
		return nil, err
	}
	if _, err := cli.Text(); err != nil {
		cli.Close()
		if tessdata == "" {
			return nil, fmt.Errorf("Tesseract could not load its English data (put eng.traineddata in a tessdata folder next to scanbox-ocr): %s", oneLine(err.Error()))
		}
		return nil, fmt.Errorf("Tesseract could not start: %s", oneLine(err.Error()))
	}
	return cli, nil
}

// noInvertedReread turns off Tesseract's second look at a line in negative:
// with tessedit_do_invert on (its default), every line whose mean
// confidence is under invert_threshold is run through the network a second
// time inverted, which costs a whole pass. The client always sends dark
// text on white (capture/ocr inverts light-on-dark itself), so the
// inverted reading only wins on lines that are junk either way (LED digits,
// which the client reads itself). Measured: the text of every pass the
// same on three sets but for a few such lines, 9-18 % fewer network runs
// (docs/ocr.md, "Speed"). A run-time parameter: set after Init (gosseract
// applies it at init and keeps it).
func noInvertedReread(cli *gosseract.Client) {
	cli.SetVariable("tessedit_do_invert", "0")
}

// The engines of a helper, by index (ocrpipe.Server.Engines): the English
// one reads amounts, the Chinese one labels.
const (
	englishEngine = 0
	chineseEngine = 1
)

// route checks a READ frame and says which engine reads it: the stdin
// helper's and the shared helper's rule (ocrpipe.Server.Route).
func route(f ocrproto.Frame) (int, error) {
	if _, err := check(f); err != nil {
		return 0, err
	}
	if f.Arg&ocrproto.FlagChinese != 0 {
		return chineseEngine, nil
	}
	return englishEngine, nil
}

// check validates one READ frame and returns its page segmentation mode.
// The body must be a BMP: it is checked in Go first because Leptonica given
// garbage returns no image, and Tesseract given no image may crash.
func check(f ocrproto.Frame) (gosseract.PageSegMode, error) {
	if f.Verb != ocrproto.VerbRead {
		return 0, fmt.Errorf("unknown request %q", f.Verb)
	}
	cfg, err := bmp.DecodeConfig(bytes.NewReader(f.Body))
	if err != nil {
		return 0, fmt.Errorf("the image is not a BMP: %v", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > 8000 || cfg.Height > 8000 {
		return 0, fmt.Errorf("the image is %dx%d pixels, outside 1..8000", cfg.Width, cfg.Height)
	}
	psm := gosseract.PageSegMode(f.Arg & ocrproto.PSMMask)
	if f.Arg&^(ocrproto.PSMMask|ocrproto.FlagNoWhitelist|ocrproto.FlagChinese) != 0 {
		return 0, fmt.Errorf("unknown read flags %#x", f.Arg)
	}
	if psm < gosseract.PSM_OSD_ONLY || psm > gosseract.PSM_RAW_LINE {
		return 0, fmt.Errorf("page segmentation mode %d is not valid", f.Arg)
	}
	return psm, nil
}

// readEnglish reads a checked frame with the English engine.
func readEnglish(cli *gosseract.Client, f ocrproto.Frame, psm gosseract.PageSegMode, whitelisted *bool) (string, error) {
	if err := cli.SetImageFromBytes(f.Body); err != nil {
		return "", err
	}
	cli.SetPageSegMode(psm)
	// Changing a variable is cheap; only a language change re-initialises.
	if want := f.Arg&ocrproto.FlagNoWhitelist == 0; want != *whitelisted {
		wl := ""
		if want {
			wl = ocrproto.Whitelist
		}
		if err := cli.SetWhitelist(wl); err != nil {
			return "", err
		}
		*whitelisted = want
	}
	return cli.Text()
}

// readChinese reads a checked frame with the Chinese engine (never
// whitelisted: it is there to read labels).
func readChinese(chi *chinese, f ocrproto.Frame, psm gosseract.PageSegMode) (string, error) {
	c, err := chi.get()
	if err != nil {
		return "", err
	}
	if err := c.SetImageFromBytes(f.Body); err != nil {
		return "", err
	}
	c.SetPageSegMode(psm)
	return c.Text()
}

// chinese is the second engine, with the Simplified Chinese model, for
// reading labels (找零, 实收, 应收). It starts on its first use: a client that
// never asks for it does not pay its start, and a missing chi_sim file fails
// those reads only, never the English ones.
type chinese struct {
	done chan struct{} // closed when load has finished
	cli  *gosseract.Client
	err  error
}

func newChinese(dir string) *chinese {
	c := &chinese{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.cli, c.err = loadChinese(dir)
	}()
	return c
}

// get waits for the engine's start and returns it.
func (c *chinese) get() (*gosseract.Client, error) {
	<-c.done
	return c.cli, c.err
}

func loadChinese(dir string) (*gosseract.Client, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "chi_sim.traineddata")); err != nil {
			return nil, fmt.Errorf("the Tesseract Chinese data is missing: %s", filepath.Join(dir, "chi_sim.traineddata"))
		}
	}
	cli := gosseract.NewClient()
	if dir != "" {
		if err := cli.SetTessdataPrefix(dir); err != nil {
			cli.Close()
			return nil, err
		}
	}
	cli.SetLanguage("chi_sim")
	cli.SetVariable("user_defined_dpi", "300")
	noInvertedReread(cli)
	// No fixed-pitch analysis of the line (Tesseract tunes a pitch for every
	// row, to cut monospaced text into character cells; the LSTM reads the
	// line as one piece anyway): the text of every pass over three sets is the same with it
	// off (docs/ocr.md, "Speed"). textord_all_prop is one of Tesseract's
	// global parameters, so this sets it for the English engine too; it is
	// set here only, once, because gosseract sets an engine's variables
	// again whenever its whitelist changes, as the English one's does
	// between passes, while the other engine may be reading. (Until this
	// engine has loaded, the English one reads with the analysis, to the
	// same text.)
	cli.SetVariable("textord_all_prop", "1")
	var blank bytes.Buffer
	if err := bmp.Encode(&blank, blankImage()); err != nil {
		cli.Close()
		return nil, err
	}
	if err := cli.SetImageFromBytes(blank.Bytes()); err != nil {
		cli.Close()
		return nil, err
	}
	if _, err := cli.Text(); err != nil {
		cli.Close()
		return nil, fmt.Errorf("Tesseract could not load its Chinese data (chi_sim.traineddata): %s", oneLine(err.Error()))
	}
	return cli, nil
}

func (c *chinese) close() {
	<-c.done
	if c.cli != nil {
		c.cli.Close()
	}
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}
