package ocr

import (
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/money"
)

// TestReadSegmentsCorpus: every LED-style image of the browser-drawn corpus
// (DSEG7 Classic and Modern, ghost segments at 10-22 % opacity, 22-44 px,
// scale 1.0-2.0 and stretched) reads right by segments, and no other image
// (ordinary fonts, whose last digits can look like segments) gives a
// segment reading at all.
func TestReadSegmentsCorpus(t *testing.T) {
	dir := screensDir()
	led := 0
	for _, c := range loadCorpusDir(t, dir) {
		s, ok := ReadSegments(decodePNG(t, filepath.Join(dir, c.file)))
		isLED := strings.HasPrefix(c.drawn, "led,")
		switch {
		case !isLED && ok:
			t.Errorf("%s (%s): not LED digits, but read by segments as %q", c.file, c.drawn, s)
		case isLED && !ok:
			t.Errorf("%s (%s): LED digits not read", c.file, c.drawn)
		case isLED:
			led++
			want := c.want
			if want == 0 { // a label negative: the digits are still right
				want = drawnAmount(t, c.drawn)
			}
			if got, err := money.Parse(s); err != nil || got != want {
				t.Errorf("%s (%s): read %q, want %s", c.file, c.drawn, s, want)
			}
		}
	}
	if led < 20 {
		t.Errorf("only %d LED images in %s", led, dir)
	}
}

// drawnAmount is the amount at the end of a manifest description.
func drawnAmount(t *testing.T, drawn string) money.Fen {
	f := strings.Fields(drawn)
	v, err := money.Parse(f[len(f)-1])
	if err != nil {
		t.Fatalf("description %q: %v", drawn, err)
	}
	return v
}

// segImage draws a seven-segment text: lit segments in ink, every other
// segment of each digit as a faint ghost.
func segImage(text string, ghost uint8) image.Image {
	const dw, dh, th, gap = 20, 40, 4, 8
	img := image.NewGray(image.Rect(0, 0, len(text)*(dw+gap)+2*gap, dh+2*gap))
	for i := range img.Pix {
		img.Pix[i] = 10
	}
	fill := func(r image.Rectangle, v uint8) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				img.SetGray(x, y, color.Gray{v})
			}
		}
	}
	pat := map[rune]string{'0': "abcdef", '1': "bc", '2': "abged", '3': "abgcd", '4': "fgbc", '5': "afgcd",
		'6': "afgedc", '7': "abc", '8': "abcdefg", '9': "abcdfg"}
	x := gap
	for _, r := range text {
		if r == '.' {
			fill(image.Rect(x-gap+1, gap+dh-th, x-gap+1+th, gap+dh), 240)
			continue
		}
		segs := map[byte]image.Rectangle{
			'a': image.Rect(x+th, gap, x+dw-th, gap+th), 'd': image.Rect(x+th, gap+dh-th, x+dw-th, gap+dh),
			'g': image.Rect(x+th, gap+dh/2-th/2, x+dw-th, gap+dh/2+th/2),
			'f': image.Rect(x, gap+th, x+th, gap+dh/2-th/2-1), 'b': image.Rect(x+dw-th, gap+th, x+dw, gap+dh/2-th/2-1),
			'e': image.Rect(x, gap+dh/2+th/2+1, x+th, gap+dh-th), 'c': image.Rect(x+dw-th, gap+dh/2+th/2+1, x+dw, gap+dh-th),
		}
		for k, rect := range segs {
			v := ghost
			if strings.IndexByte(pat[r], k) >= 0 {
				v = 240
			}
			fill(rect, v)
		}
		x += dw + gap
	}
	return img
}

func TestReadSegmentsSynthetic(t *testing.T) {
	for _, c := range []struct {
		text  string
		ghost uint8
		want  string
		ok    bool
	}{
		{"0123.45", 40, "0123.45", true},
		{"6789.10", 50, "6789.10", true},
		{"88.88", 10, "88.88", true},
		{"1234", 40, "", false},   // no decimals: not an amount
		{"12.3", 40, "", false},   // one decimal
		{"12.50", 140, "", false}, // ghosts as bright as half the lit ones: every digit an 8? refused
	} {
		s, ok := ReadSegments(segImage(c.text, c.ghost))
		if ok != c.ok || s != c.want {
			t.Errorf("%q with ghosts at %d: got %q, %v; want %q, %v", c.text, c.ghost, s, ok, c.want, c.ok)
		}
	}
}
