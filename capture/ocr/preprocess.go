package ocr

import (
	"errors"
	"image"
	"image/color"
	"math"

	xdraw "golang.org/x/image/draw"

	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
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
	// Chinese reads with the Simplified Chinese model: the label in front of
	// the amount comes out as the label (找零, 应收), so the label rules
	// (labels.go) can be applied, and it is a second engine for the digits.
	Chinese bool
}

// arg is the READ argument for v.
func (v Variant) arg() int {
	a := v.PSM
	if !v.Whitelist {
		a |= ocrproto.FlagNoWhitelist
	}
	if v.Chinese {
		a |= ocrproto.FlagChinese
	}
	return a
}

// Tesseract page segmentation modes used here.
const (
	psmBlock      = 6 // a single uniform block of text
	psmSingleLine = 7 // a single text line

)

// Variants are the readings Read makes: the first two always, the third and
// then the fourth only to settle a disagreement or a failed reading.
//
// The second reading uses the Chinese model: it is a different network from
// the first, and it is the one that reads the label, so a region showing
// 找零 5.00 is refused (labels.go) instead of charged.
//
// Line heights: Tesseract's LSTM scales every text line to its network's
// input height anyway, so a larger line buys little and costs the layout and
// threshold stages time in proportion to its pixels. The Chinese passes are
// the dear ones (their model is about twice the English one per line): at
// 24 and 28 px, with the third reading at 48 (from 48, 36 and 64), each set
// read as many images right or more (ImageMagick corpus 134/134, screens
// 131/134, held-out screens 133/134), none wrong, for less CPU per read.
// Lower English heights (32, 26 px) lost held-out images (docs/ocr.md).
var Variants = [4]Variant{
	{Name: "otsu-line-digits", LineHeight: 40, Binarize: true, Bicubic: false, PSM: psmSingleLine, Whitelist: true},
	{Name: "grey-line-chinese", LineHeight: 24, Binarize: false, Bicubic: true, PSM: psmSingleLine, Chinese: true},
	{Name: "grey-block-open", LineHeight: 48, Binarize: false, Bicubic: true, PSM: psmBlock, Whitelist: false},
	{Name: "otsu-block-chinese", LineHeight: 28, Binarize: true, Bicubic: false, PSM: psmBlock, Chinese: true},
}

// Preprocess turns a screen image into dark text on a light background, cut
// to the text with a margin and scaled so that its tallest line is
// v.LineHeight pixels high: grayscale, invert when the background is the
// darker side (light-on-dark themes), crop, scale, pad, then threshold (or
// stretch). It returns ErrBlank when there is nothing but background.
func Preprocess(img image.Image, v Variant) (*image.Gray, error) {
	g, err := prepare(img)
	if err != nil {
		return nil, err
	}
	return scaleLine(g, v)
}

// prepare is the first half of Preprocess, shared by all variants and the
// seven-segment reader: grayscale, dark ink on white, the background
// levelled to white, and cut to the main text line (mainLine).
func prepare(img image.Image) (*image.Gray, error) {
	return prepareGray(toGray(img), true)
}

func prepareGray(g *image.Gray, descend bool) (*image.Gray, error) {
	orig := image.NewGray(g.Bounds())
	copy(orig.Pix, g.Pix)
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
	eraseFrame(g)
	if descend {
		// A button: text inside a filled shape (a green pill on a white
		// page) is read inside the shape, where the shape is the background.
		if in, ok := container(g); ok {
			sub := image.NewGray(image.Rect(0, 0, in.Dx(), in.Dy()))
			for y := 0; y < in.Dy(); y++ {
				copy(sub.Pix[y*sub.Stride:y*sub.Stride+in.Dx()], orig.Pix[(in.Min.Y+y)*orig.Stride+in.Min.X:])
			}
			if c, err := prepareGray(sub, false); err == nil {
				return c, nil
			}
		}
	}
	return mainLine(g), nil
}

// components labels 4-connected ink (<= 127) regions of g and calls f
// with each one's pixels' indices and bounding box.
func components(g *image.Gray, f func(px []int, box image.Rectangle)) {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	seen := make([]bool, w*h)
	var stack, px []int
	for start := 0; start < w*h; start++ {
		if seen[start] || g.Pix[(start/w)*g.Stride+start%w] > 127 {
			continue
		}
		px = px[:0]
		stack = append(stack[:0], start)
		seen[start] = true
		box := image.Rect(start%w, start/w, start%w+1, start/w+1)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			px = append(px, i)
			x, y := i%w, i/w
			box = box.Union(image.Rect(x, y, x+1, y+1))
			for _, n := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if n[0] < 0 || n[1] < 0 || n[0] >= w || n[1] >= h {
					continue
				}
				j := n[1]*w + n[0]
				if !seen[j] && g.Pix[n[1]*g.Stride+n[0]] <= 127 {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
		f(px, box)
	}
}

// eraseFrame whitens ink that touches three or four edges of the image:
// the page around a button once the button became the background. A glyph
// cut by a tight rectangle touches two at most.
func eraseFrame(g *image.Gray) {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	components(g, func(px []int, box image.Rectangle) {
		edges := b2i(box.Min.X == 0) + b2i(box.Min.Y == 0) + b2i(box.Max.X == w) + b2i(box.Max.Y == h)
		if edges >= 3 {
			for _, i := range px {
				g.Pix[(i/w)*g.Stride+i%w] = 255
			}
		}
	})
}

// container finds a filled shape (at least half its box inked) covering at
// least a quarter of g that holds holes (the text), and returns its inside.
func container(g *image.Gray) (image.Rectangle, bool) {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	var best image.Rectangle
	found := false
	components(g, func(px []int, box image.Rectangle) {
		area := box.Dx() * box.Dy()
		if area*4 >= w*h && len(px)*2 >= area && len(px)*100 < area*97 && box.Dy() >= 12 {
			best, found = box, true
		}
	})
	if !found {
		return image.Rectangle{}, false
	}
	in := image.Rect(best.Min.X+best.Dy()/3, best.Min.Y+best.Dy()/10, best.Max.X-best.Dy()/3, best.Max.Y-best.Dy()/10)
	return in, in.Dx() > 4 && in.Dy() > 4
}

// scaleLine crops the prepared image g to its ink and scales it for v.
func scaleLine(g *image.Gray, v Variant) (*image.Gray, error) {
	box, line := inkBox(g, 127)
	if line == 0 {
		return nil, ErrBlank
	}
	margin := line/4 + 1
	box = box.Inset(-margin).Intersect(g.Bounds())
	crop := image.NewGray(image.Rect(0, 0, box.Dx(), box.Dy()))
	for y := 0; y < box.Dy(); y++ {
		copy(crop.Pix[y*crop.Stride:y*crop.Stride+box.Dx()], g.Pix[(box.Min.Y+y-g.Rect.Min.Y)*g.Stride+box.Min.X-g.Rect.Min.X:])
	}

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
	scaleGray(out, image.Rect(pad, pad, pad+w, pad+h), crop, v.Bicubic)

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

// scaleGray scales src into the rectangle r of dst with Catmull-Rom
// (bicubic) or bilinear interpolation, with the arithmetic of
// x/image/draw's Kernel.Scale (draw.Src), so the pixels are the same
// (TestScaleGrayExact). That package has no fast path for a Gray
// destination and works on four channels; this does one, and took the
// Go side of a read from 5.5 to 3.3 ms CPU. Separable: each source row is
// resampled horizontally into tmp, then each column of tmp vertically.
// (The float64 conversions keep the compiler from fusing a multiply and
// an add, which rounds differently, on CPUs that have such instructions.)
func scaleGray(dst *image.Gray, r image.Rectangle, src *image.Gray, bicubic bool) {
	k := xdraw.BiLinear
	if bicubic {
		k = xdraw.CatmullRom
	}
	dw, dh := r.Dx(), r.Dy()
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if dw <= 0 || dh <= 0 || sw <= 0 || sh <= 0 {
		return
	}
	hz, vt := newTaps(k, dw, sw), newTaps(k, dh, sh)
	tmp := make([]float64, dw*sh)
	for y := 0; y < sh; y++ {
		row := src.Pix[y*src.Stride:]
		out := tmp[y*dw : (y+1)*dw]
		for x := range out {
			var sum float64
			for t := hz.from[x]; t < hz.from[x+1]; t++ {
				sum += float64(float64(uint32(row[hz.at[t]])*0x101) * hz.w[t])
			}
			out[x] = sum * (hz.inv[x] / 0xffff)
		}
	}
	for y := 0; y < dh; y++ {
		row := dst.Pix[(r.Min.Y+y-dst.Rect.Min.Y)*dst.Stride+r.Min.X-dst.Rect.Min.X:]
		for x := 0; x < dw; x++ {
			var sum, total float64
			for t := vt.from[y]; t < vt.from[y+1]; t++ {
				sum += float64(tmp[int(vt.at[t])*dw+x] * vt.w[t])
				total += vt.w[t]
			}
			// The horizontal pass normalised; this weight is one per row.
			sum = min(sum, total) * vt.inv[y]
			v := int32(float64(0xffff*sum) + 0.5)
			row[x] = uint8(max(0, min(0xffff, v)) >> 8)
		}
	}
}

// taps are the source pixels and weights of each destination pixel along
// one axis: destination i takes source at[t] with weight w[t] for t in
// from[i]..from[i+1], and inv[i] is one over their total weight.
type taps struct {
	from []int
	at   []int32
	w    []float64
	inv  []float64
}

func newTaps(k *xdraw.Kernel, dn, sn int) taps {
	scale := float64(sn) / float64(dn)
	support, argScale := k.Support, 1.0
	if scale > 1 {
		// Shrinking: widen the kernel so every source pixel is visited.
		support *= scale
		argScale = 1 / scale
	}
	tp := taps{from: make([]int, 1, dn+1), inv: make([]float64, dn)}
	for i := 0; i < dn; i++ {
		c := float64((float64(i)+0.5)*scale) - 0.5
		lo := max(0, int(math.Floor(c-support)))
		hi := min(sn, int(math.Ceil(c+support)))
		total := 0.0
		for s := lo; s < hi; s++ {
			d := (c - float64(s)) * argScale
			if d < 0 {
				d = -d
			}
			if d >= k.Support {
				continue
			}
			if w := k.At(d); w != 0 {
				total += w
				tp.at = append(tp.at, int32(s))
				tp.w = append(tp.w, w)
			}
		}
		tp.inv[i] = 1 / total
		tp.from = append(tp.from, len(tp.at))
	}
	return tp
}

func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	// Fast paths for what PNG decoding gives (PNG-8 screenshots are
	// paletted): the same conversion as color.GrayModel, per palette entry
	// or per pixel without an interface call.
	if p, ok := img.(*image.Paletted); ok {
		lut := make([]uint8, len(p.Palette))
		for i, c := range p.Palette {
			lut[i] = color.GrayModel.Convert(c).(color.Gray).Y
		}
		for y := 0; y < b.Dy(); y++ {
			row := p.Pix[(y+b.Min.Y-p.Rect.Min.Y)*p.Stride+(b.Min.X-p.Rect.Min.X):]
			out := g.Pix[y*g.Stride : y*g.Stride+b.Dx()]
			for x := range out {
				if int(row[x]) < len(lut) {
					out[x] = lut[row[x]]
				}
			}
		}
		return g
	}
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

// mainLine drops the slivers of neighbouring lines that a rectangle drawn a
// little too generously catches: a band of ink rows that touches the top or
// bottom edge and is much lower than the tallest band is a line cut by the
// edge, not the line the rectangle is for. Whole lines are kept, so a
// region with two real lines (two amounts) is still refused later.
func mainLine(g *image.Gray) *image.Gray {
	b := g.Bounds()
	type band struct{ y0, y1 int }
	var bands []band
	in := false
	for y := 0; y < b.Dy(); y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+b.Dx()]
		ink := false
		for _, p := range row {
			if p <= 127 {
				ink = true
				break
			}
		}
		switch {
		case ink && !in:
			bands = append(bands, band{y, y + 1})
			in = true
		case ink:
			bands[len(bands)-1].y1 = y + 1
		default:
			in = false
		}
	}
	if len(bands) < 2 {
		return g
	}
	tallest := 0
	for _, bd := range bands {
		tallest = max(tallest, bd.y1-bd.y0)
	}
	for _, bd := range bands {
		h := bd.y1 - bd.y0
		if (bd.y0 == 0 || bd.y1 == b.Dy()) && h*10 < tallest*6 {
			for y := bd.y0; y < bd.y1; y++ {
				row := g.Pix[y*g.Stride : y*g.Stride+b.Dx()]
				for i := range row {
					row[i] = 255
				}
			}
		}
	}
	return g
}

// dropLastGlyph returns a copy of the prepared g without its rightmost run
// of inked columns (one glyph: 元 after an amount), or false when g has
// fewer than two such runs.
func dropLastGlyph(g *image.Gray) (*image.Gray, bool) {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	col := func(x int) bool {
		for y := 0; y < h; y++ {
			if g.Pix[y*g.Stride+x] <= 127 {
				return true
			}
		}
		return false
	}
	runs, start := 0, -1
	for x := 0; x < w; x++ {
		if col(x) && (x == 0 || !col(x-1)) {
			runs++
			start = x
		}
	}
	if runs < 2 {
		return nil, false
	}
	out := image.NewGray(g.Bounds())
	copy(out.Pix, g.Pix)
	for y := 0; y < h; y++ {
		row := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := start; x < w; x++ {
			row[x] = 255
		}
	}
	return out, true
}
