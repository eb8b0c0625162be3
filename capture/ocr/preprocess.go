package ocr

import (
	"errors"
	"image"
	"image/color"
	"image/draw"

	xdraw "golang.org/x/image/draw"
)

// ErrBlank is returned when an image holds no text at all (one flat colour).
var ErrBlank = errors.New("ocr: the image holds no text")

// Variant is one way of preparing an image for Tesseract. Two readings count
// as independent only when their variants differ in scaling, binarisation
// and page segmentation, so that one kind of mistake is unlikely to be made
// the same way twice.
type Variant struct {
	Name       string
	LineHeight int  // height in pixels of the tallest text line after scaling
	Binarize   bool // Otsu threshold to pure black on white (else contrast-stretched grey)
	Bicubic    bool // Catmull-Rom scaling (else bilinear)
	PSM        int  // Tesseract page segmentation mode
	// Whitelist limits Tesseract to ocrproto.Whitelist. Without it, a CJK
	// label is read as Latin letters instead of digits, so label and amount
	// fail in different ways in the two readings.
	Whitelist bool
}

// Tesseract page segmentation modes used here.
const (
	psmBlock      = 6 // a single uniform block of text
	psmSingleLine = 7 // a single text line

)

// Variants are the readings Read makes: the first two always, the third only
// to settle a disagreement or a failed reading.
var Variants = [3]Variant{
	{Name: "otsu-line-digits", LineHeight: 40, Binarize: true, Bicubic: false, PSM: psmSingleLine, Whitelist: true},
	{Name: "grey-block-open", LineHeight: 64, Binarize: false, Bicubic: true, PSM: psmBlock, Whitelist: false},
	{Name: "otsu-small-open", LineHeight: 32, Binarize: true, Bicubic: false, PSM: psmSingleLine, Whitelist: false},
}

// Preprocess turns a screen image into dark text on a light background, cut
// to the text with a margin and scaled so that its tallest line is
// v.LineHeight pixels high: grayscale, invert when the background is the
// darker side (light-on-dark themes), crop, scale, pad, then threshold (or
// stretch). It returns ErrBlank when there is nothing but background.
func Preprocess(img image.Image, v Variant) (*image.Gray, error) {
	g := toGray(img)
	t := otsu(g)
	dark := 0
	for _, p := range g.Pix {
		if p <= t {
			dark++
		}
	}
	if dark == 0 || dark == len(g.Pix) {
		return nil, ErrBlank
	}
	// The background is whichever side of the threshold has more pixels.
	if dark > len(g.Pix)-dark {
		for i, p := range g.Pix {
			g.Pix[i] = 255 - p
		}
		t = 255 - t - 1
	}
	levels(g, t)
	box, line := inkBox(g, 127)
	if line == 0 {
		return nil, ErrBlank
	}
	margin := line/4 + 1
	box = box.Inset(-margin).Intersect(g.Bounds())
	crop := image.NewGray(image.Rect(0, 0, box.Dx(), box.Dy()))
	draw.Draw(crop, crop.Bounds(), g, box.Min, draw.Src)

	w := crop.Bounds().Dx() * v.LineHeight / line
	h := crop.Bounds().Dy() * v.LineHeight / line
	if w < 1 {
		w = 1
	}
	if h < 1 {
		h = 1
	}
	pad := v.LineHeight / 2
	out := image.NewGray(image.Rect(0, 0, w+2*pad, h+2*pad))
	for i := range out.Pix {
		out.Pix[i] = 255
	}
	var s xdraw.Scaler = xdraw.BiLinear
	if v.Bicubic {
		s = xdraw.CatmullRom
	}
	s.Scale(out, image.Rect(pad, pad, pad+w, pad+h), crop, crop.Bounds(), draw.Src, nil)

	if v.Binarize {
		t2 := otsu(out)
		for i, p := range out.Pix {
			if p <= t2 {
				out.Pix[i] = 0
			} else {
				out.Pix[i] = 255
			}
		}
	} else {
		stretch(out)
	}
	return out, nil
}

func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g.SetGray(x-b.Min.X, y-b.Min.Y, color.GrayModel.Convert(img.At(x, y)).(color.Gray))
		}
	}
	return g
}

// otsu returns the threshold t that best splits g into p<=t and p>t.
func otsu(g *image.Gray) uint8 {
	var hist [256]int
	for _, p := range g.Pix {
		hist[p]++
	}
	total := len(g.Pix)
	var sum float64
	for i, n := range hist {
		sum += float64(i * n)
	}
	var sumB float64
	var wB int
	var best float64
	var t uint8
	for i := 0; i < 256; i++ {
		wB += hist[i]
		if wB == 0 {
			continue
		}
		wF := total - wB
		if wF == 0 {
			break
		}
		sumB += float64(i * hist[i])
		mB := sumB / float64(wB)
		mF := (sum - sumB) / float64(wF)
		between := float64(wB) * float64(wF) * (mB - mF) * (mB - mF)
		if between > best {
			best = between
			t = uint8(i)
		}
	}
	return t
}

// inkBox returns the bounding box of pixels darker than or equal to t and the
// height of the tallest run of consecutive rows holding ink (one text line).
func inkBox(g *image.Gray, t uint8) (image.Rectangle, int) {
	b := g.Bounds()
	box := image.Rectangle{}
	first := true
	run, tallest := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := g.Pix[(y-b.Min.Y)*g.Stride : (y-b.Min.Y)*g.Stride+b.Dx()]
		inRow := false
		for x, p := range row {
			if p > t {
				continue
			}
			inRow = true
			r := image.Rect(x, y, x+1, y+1)
			if first {
				box, first = r, false
			} else {
				box = box.Union(r)
			}
		}
		if inRow {
			run++
			if run > tallest {
				tallest = run
			}
		} else {
			run = 0
		}
	}
	return box, tallest
}

// levels maps the mean of the ink side of threshold t to 0 and the mean of
// the background side to 255, clipping beyond: a coloured or grey background
// becomes the same white as the padding added later, so that neither Otsu
// nor Tesseract sees the crop's edge as a shape.
func levels(g *image.Gray, t uint8) {
	var sumInk, sumBg, nInk, nBg int
	for _, p := range g.Pix {
		if p <= t {
			sumInk += int(p)
			nInk++
		} else {
			sumBg += int(p)
			nBg++
		}
	}
	if nInk == 0 || nBg == 0 {
		return
	}
	ink, bg := sumInk/nInk, sumBg/nBg
	if bg <= ink {
		return
	}
	for i, p := range g.Pix {
		v := (int(p) - ink) * 255 / (bg - ink)
		g.Pix[i] = uint8(max(0, min(255, v)))
	}
}

// stretch maps the darkest pixel to 0 and the lightest to 255.
func stretch(g *image.Gray) {
	lo, hi := uint8(255), uint8(0)
	for _, p := range g.Pix {
		lo = min(lo, p)
		hi = max(hi, p)
	}
	if hi <= lo {
		return
	}
	span := int(hi) - int(lo)
	for i, p := range g.Pix {
		g.Pix[i] = uint8((int(p) - int(lo)) * 255 / span)
	}
}
