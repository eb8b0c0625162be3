package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // --image may be a JPEG screenshot too
	_ "image/png"
	"io"
	"os"
	"os/signal"
	"strings"

	_ "golang.org/x/image/bmp" // and a BMP

	"github.com/scanbox/scanbox/capture/ocr"
)

// amountOCR is `scanbox amount --source ocr`: it reads the amount from an
// image file or a rectangle of the live screen with the same capture/ocr
// Reader as the tray app.
//
// Exit codes: 0 with the amount; 1 when no amount can be read (nothing
// there, or the readings disagree); 2 for usage errors and when OCR is
// unavailable (helper or Tesseract data missing): that is an installation
// problem, not a business answer, and a POS script must be able to tell it
// from "no amount".
func amountOCR(args []string, stdout, stderr io.Writer) int {
	fs, _ := newFlags("amount --source ocr", stdout, stderr) // --data-dir is accepted but unused here
	var files imageList
	fs.Var(&files, "image", "read this image file (PNG, BMP or JPEG); repeat it to read many with one OCR engine, one line each")
	var (
		region = fs.String("region", "", "read this rectangle of the screen: X,Y,W,H in pixels")
		asJSON = fs.Bool("json", false, `print {"amount_fen":…,"text":…,"ms":…} (one line per image)`)
	)
	if code, ok := fs.parse(args); !ok {
		return code
	}
	usage := fs.usage
	if (len(files) == 0) == (*region == "") {
		return usage("give either --image FILE.png (one or more) or --region X,Y,W,H")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// One-shot calls share one helper per user (capture/ocr/share.go): the
	// first starts it, the next ones within a minute skip Tesseract's start.
	reader := ocr.NewReader(ocr.Options{Share: true})
	defer reader.Close()
	// Start the helper (Tesseract's start is most of a one-shot read) while
	// the image is decoded; Read waits for it.
	started := make(chan error, 1)
	go func() { started <- reader.Start(ctx) }()
	waitStart := func() error {
		if started == nil {
			return nil
		}
		err := <-started
		started = nil
		return err
	}
	defer waitStart()

	if *region != "" {
		r, err := ocr.ParseRegion(*region)
		if err != nil {
			return usage("%v", err)
		}
		img, err := ocr.Capture(r)
		if err != nil {
			fmt.Fprintf(stderr, "scanbox amount: %v\n", err)
			return exitFailed
		}
		if err := waitStart(); errors.Is(err, ocr.ErrUnavailable) {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		res, err := reader.Read(ctx, img)
		return reportOCR("", res, reader.HelperKind(), err, *asJSON, stdout, stderr)
	}

	// Decode every file first, so that a typo is a usage error before any
	// reading is printed.
	imgs := make([]image.Image, len(files))
	for i, f := range files {
		img, err := loadImage(f)
		if err != nil {
			return usage("%v", err)
		}
		imgs[i] = img
	}
	if err := waitStart(); errors.Is(err, ocr.ErrUnavailable) {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	name := ""
	code := exitOK
	for i, img := range imgs {
		if len(files) > 1 {
			name = files[i]
		}
		res, err := reader.Read(ctx, img)
		c := reportOCR(name, res, reader.HelperKind(), err, *asJSON, stdout, stderr)
		if c == exitUsage {
			return c // OCR became unavailable: the rest cannot be read either
		}
		if c != exitOK {
			code = c
		}
	}
	return code
}

// imageList is a repeatable --image flag.
type imageList []string

func (l *imageList) String() string     { return strings.Join(*l, ",") }
func (l *imageList) Set(s string) error { *l = append(*l, s); return nil }

// reportOCR prints one reading: for one image `1234.50` (or the JSON
// object), for a batch `FILE: 1234.50` or `FILE: no amount could be read: …`
// on stdout (JSON objects carry "image", and "helper": which OCR helper read
// it, ocr.HelperKind), and returns the exit code.
func reportOCR(name string, res ocr.Result, helper string, err error, asJSON bool, stdout, stderr io.Writer) int {
	if asJSON {
		out := struct {
			Image     string   `json:"image,omitempty"`
			AmountFen int64    `json:"amount_fen"`
			Text      string   `json:"text"`
			MS        int64    `json:"ms"`
			Readings  []string `json:"readings,omitempty"`
			Helper    string   `json:"helper,omitempty"`
			Error     string   `json:"error,omitempty"`
		}{Image: name, AmountFen: int64(res.Amount), Text: res.Text, MS: res.Elapsed.Milliseconds(), Helper: helper}
		for _, rd := range res.Readings {
			out.Readings = append(out.Readings, rd.Text)
		}
		if err != nil {
			out.Error = err.Error()
		}
		b, _ := json.Marshal(out)
		fmt.Fprintln(stdout, string(b))
	}
	switch {
	case err == nil:
		if !asJSON {
			if name != "" {
				fmt.Fprintf(stdout, "%s: %s\n", name, res.Amount)
			} else {
				fmt.Fprintln(stdout, res.Amount.String())
			}
		}
		return exitOK
	case errors.Is(err, ocr.ErrUnavailable):
		fmt.Fprintln(stderr, err) // "OCR is unavailable: …", one sentence
		return exitUsage
	default:
		if name != "" && !asJSON {
			fmt.Fprintf(stdout, "%s: %v\n", name, err)
		} else {
			fmt.Fprintf(stderr, "scanbox amount: %v\n", err)
		}
		return exitFailed
	}
}

func loadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open the image: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s is not a PNG, BMP or JPEG image: %v", path, err)
	}
	return img, nil
}
