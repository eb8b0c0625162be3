// Package ocrproto is the wire format between the OCR client (capture/ocr,
// pure Go, inside scanbox) and the helper process scanbox-ocr (cgo, Tesseract).
// It owns only framing; it must never import cgo or Tesseract, because the
// main program links it.
//
// A frame is one ASCII header line followed by a body of exactly the length
// the header gives:
//
//	VERB ARG LEN\n<LEN bytes>
//
// Client to helper: READ <arg> <len> with a BMP image as body; arg is the
// Tesseract page segmentation mode, plus FlagNoWhitelist to read without
// Whitelist, plus FlagChinese to read with the Simplified Chinese model
// (labels such as 找零 or 应收; never whitelisted).
// Helper to client: READY 0 <len> (body: Tesseract version) once at start,
// OK 0 <len> (body: UTF-8 text) or ERR 0 <len> (body: one-line message)
// for each READ. The helper may also send ERR instead of READY and exit,
// when Tesseract cannot start (e.g. its language data is missing).
package ocrproto

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Verbs of the protocol.
const (
	VerbRead  = "READ"
	VerbReady = "READY"
	VerbOK    = "OK"
	VerbErr   = "ERR"
)

// MaxBody bounds a frame body so that a corrupt header cannot make either
// side allocate gigabytes. A full-HD 8-bit BMP is about 2 MiB.
const MaxBody = 32 << 20

// maxHeader bounds the header line for the same reason.
const maxHeader = 64

// Whitelist is the set of characters Tesseract may output: digits, the
// separators a POS prints, the colon after a label, and the yuan sign. With
// only the English model loaded, a whitelist also makes Tesseract drop CJK
// labels (合计, 应收) instead of inventing letters for them.
const Whitelist = "0123456789.,:¥"

// FlagNoWhitelist, added to a READ's arg, reads with Tesseract's full
// character set; PSMMask extracts the page segmentation mode.
const (
	FlagNoWhitelist = 1 << 8
	// FlagChinese reads with chi_sim.traineddata instead of eng. The helper
	// loads that model on the first such read, so a missing file costs only
	// these reads (ERR), and a client that never asks never pays its start.
	FlagChinese = 1 << 9
	PSMMask     = 0xff
)

// ErrFrame reports a malformed frame; the stream cannot be trusted after it.
var ErrFrame = errors.New("ocrproto: malformed frame")

// Frame is one message.
type Frame struct {
	Verb string
	Arg  int
	Body []byte
}

// Write sends f in one buffered write.
func Write(w io.Writer, f Frame) error {
	if f.Verb == "" || strings.ContainsAny(f.Verb, " \n") {
		return fmt.Errorf("%w: bad verb %q", ErrFrame, f.Verb)
	}
	if len(f.Body) > MaxBody {
		return fmt.Errorf("%w: body of %d bytes is over the limit", ErrFrame, len(f.Body))
	}
	hdr := fmt.Sprintf("%s %d %d\n", f.Verb, f.Arg, len(f.Body))
	buf := make([]byte, 0, len(hdr)+len(f.Body))
	buf = append(buf, hdr...)
	buf = append(buf, f.Body...)
	_, err := w.Write(buf)
	return err
}

// Read reads one frame. It returns io.EOF only when the stream ends cleanly
// between frames.
func Read(r *bufio.Reader) (Frame, error) {
	line, err := readLine(r)
	if err != nil {
		return Frame{}, err
	}
	parts := strings.Split(line, " ")
	if len(parts) != 3 {
		return Frame{}, fmt.Errorf("%w: header %q", ErrFrame, line)
	}
	arg, err1 := strconv.Atoi(parts[1])
	n, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || n < 0 || n > MaxBody || parts[0] == "" {
		return Frame{}, fmt.Errorf("%w: header %q", ErrFrame, line)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, fmt.Errorf("ocrproto: body: %w", err)
	}
	return Frame{Verb: parts[0], Arg: arg, Body: body}, nil
}

func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && len(b) > 0 {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		if c == '\n' {
			return string(b), nil
		}
		if len(b) >= maxHeader {
			return "", fmt.Errorf("%w: header longer than %d bytes", ErrFrame, maxHeader)
		}
		b = append(b, c)
	}
}
