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
// Usage: scanbox-ocr [--tessdata DIR]
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

	"github.com/otiai10/gosseract/v2"
	"golang.org/x/image/bmp"

	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout))
}

func run(args []string, stdin io.Reader, stdout io.Writer) int {
	fs := flag.NewFlagSet("scanbox-ocr", flag.ContinueOnError)
	tessdata := fs.String("tessdata", "", "folder holding eng.traineddata")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// One thread per read: the shop PC runs the POS beside us, and OpenMP's
	// thread pool costs more than it gains on small images.
	os.Setenv("OMP_THREAD_LIMIT", "1")

	out := bufio.NewWriter(stdout)
	reply := func(verb string, body []byte) bool {
		if err := ocrproto.Write(out, ocrproto.Frame{Verb: verb, Body: body}); err != nil {
			return false
		}
		return out.Flush() == nil
	}

	cli, err := start(findTessdata(*tessdata))
	if err != nil {
		reply(ocrproto.VerbErr, []byte(err.Error()))
		return 1
	}
	defer cli.Close()
	if !reply(ocrproto.VerbReady, []byte(cli.Version())) {
		return 1
	}

	in := bufio.NewReader(stdin)
	whitelisted := true // as start left it
	chi := &chinese{dir: findTessdata(*tessdata)}
	defer chi.close()
	for {
		f, err := ocrproto.Read(in)
		if errors.Is(err, io.EOF) {
			return 0 // the client closed our stdin: it is done with us
		}
		if err != nil {
			reply(ocrproto.VerbErr, []byte(err.Error()))
			return 1 // the stream is out of step; the client restarts us
		}
		text, err := read(cli, chi, f, &whitelisted)
		if err != nil {
			if !reply(ocrproto.VerbErr, []byte(oneLine(err.Error()))) {
				return 1
			}
			continue
		}
		if !reply(ocrproto.VerbOK, []byte(text)) {
			return 1
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

// read runs one READ frame. The body must be a BMP: it is checked in Go first
// because Leptonica given garbage returns no image, and Tesseract given no
// image may crash.
func read(cli *gosseract.Client, chi *chinese, f ocrproto.Frame, whitelisted *bool) (string, error) {
	if f.Verb != ocrproto.VerbRead {
		return "", fmt.Errorf("unknown request %q", f.Verb)
	}
	cfg, err := bmp.DecodeConfig(bytes.NewReader(f.Body))
	if err != nil {
		return "", fmt.Errorf("the image is not a BMP: %v", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > 8000 || cfg.Height > 8000 {
		return "", fmt.Errorf("the image is %dx%d pixels, outside 1..8000", cfg.Width, cfg.Height)
	}
	psm := gosseract.PageSegMode(f.Arg & ocrproto.PSMMask)
	if f.Arg&^(ocrproto.PSMMask|ocrproto.FlagNoWhitelist|ocrproto.FlagChinese) != 0 {
		return "", fmt.Errorf("unknown read flags %#x", f.Arg)
	}
	if psm < gosseract.PSM_OSD_ONLY || psm > gosseract.PSM_RAW_LINE {
		return "", fmt.Errorf("page segmentation mode %d is not valid", f.Arg)
	}
	if f.Arg&ocrproto.FlagChinese != 0 {
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

// chinese is the second engine, with the Simplified Chinese model, for
// reading labels (找零, 实收, 应收). It starts on its first use: a client that
// never asks for it does not pay its start, and a missing chi_sim file fails
// those reads only, never the English ones.
type chinese struct {
	dir string
	cli *gosseract.Client
	err error
}

func (c *chinese) get() (*gosseract.Client, error) {
	if c.cli != nil || c.err != nil {
		return c.cli, c.err
	}
	dir := c.dir
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "chi_sim.traineddata")); err != nil {
			c.err = fmt.Errorf("the Tesseract Chinese data is missing: %s", filepath.Join(dir, "chi_sim.traineddata"))
			return nil, c.err
		}
	}
	cli := gosseract.NewClient()
	if dir != "" {
		if err := cli.SetTessdataPrefix(dir); err != nil {
			cli.Close()
			c.err = err
			return nil, err
		}
	}
	cli.SetLanguage("chi_sim")
	cli.SetVariable("user_defined_dpi", "300")
	var blank bytes.Buffer
	if err := bmp.Encode(&blank, blankImage()); err != nil {
		cli.Close()
		c.err = err
		return nil, err
	}
	if err := cli.SetImageFromBytes(blank.Bytes()); err != nil {
		cli.Close()
		c.err = err
		return nil, err
	}
	if _, err := cli.Text(); err != nil {
		cli.Close()
		c.err = fmt.Errorf("Tesseract could not load its Chinese data (chi_sim.traineddata): %s", oneLine(err.Error()))
		return nil, c.err
	}
	c.cli = cli
	return cli, nil
}

func (c *chinese) close() {
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
