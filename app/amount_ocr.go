package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg" // --image may be a JPEG screenshot too
	_ "image/png"
	"io"
	"os"
	"os/signal"

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
	fs, _ := newFlags("amount --source ocr", stderr) // --data-dir is accepted but unused here
	var (
		file   = fs.String("image", "", "read this image file (PNG, BMP or JPEG)")
		region = fs.String("region", "", "read this rectangle of the screen: X,Y,W,H in pixels")
		asJSON = fs.Bool("json", false, `print {"amount_fen":…,"text":…,"ms":…}`)
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "scanbox amount: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	if (*file == "") == (*region == "") {
		return usage("give either --image FILE.png or --region X,Y,W,H")
	}

	var img image.Image
	if *file != "" {
		var err error
		if img, err = loadImage(*file); err != nil {
			return usage("%v", err)
		}
	} else {
		r, err := ocr.ParseRegion(*region)
		if err != nil {
			return usage("%v", err)
		}
		if img, err = ocr.Capture(r); err != nil {
			fmt.Fprintf(stderr, "scanbox amount: %v\n", err)
			return exitFailed
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	reader := ocr.NewReader(ocr.Options{})
	defer reader.Close()
	res, err := reader.Read(ctx, img)

	if *asJSON {
		out := struct {
			AmountFen int64    `json:"amount_fen"`
			Text      string   `json:"text"`
			MS        int64    `json:"ms"`
			Readings  []string `json:"readings,omitempty"`
			Error     string   `json:"error,omitempty"`
		}{AmountFen: int64(res.Amount), Text: res.Text, MS: res.Elapsed.Milliseconds()}
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
		if !*asJSON {
			fmt.Fprintln(stdout, res.Amount.String())
		}
		return exitOK
	case errors.Is(err, ocr.ErrUnavailable):
		fmt.Fprintln(stderr, err) // "OCR is unavailable: …", one sentence
		return exitUsage
	case errors.Is(err, ocr.ErrNoAmount):
		fmt.Fprintf(stderr, "scanbox amount: %v\n", err)
		return exitFailed
	default:
		fmt.Fprintf(stderr, "scanbox amount: %v\n", err)
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
