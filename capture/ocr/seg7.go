package ocr

import (
	"image"
	"slices"
)

// Seven-segment ("LED-style") digits, as many Chinese POS programs draw the
// amount due, are not letters to Tesseract: it reads nothing, or reads the
// faint unlit segments behind the lit ones as 8s. ReadSegments reads them by
// their segments instead, in pure Go.
//
// Every glyph must be exactly a seven-segment digit or a decimal point: a
// stroke where a segment is lit, nothing where it is not, the two holes of
// the 8 empty. The rightmost run of such glyphs is the number; whatever is
// left of it (a label) is not read here. A run that is not an amount with
// two decimals is no reading at all.

// segment order: a (top), b (top right), c (bottom right), d (bottom),
// e (bottom left), f (top left), g (middle).
var segDigits = map[uint8]byte{
	0b0111111: '0', 0b0000110: '1', 0b1011011: '2', 0b1001111: '3', 0b1100110: '4',
	0b1101101: '5', 0b1111101: '6', 0b0000111: '7', 0b1111111: '8', 0b1101111: '9',
	0b0100111: '7',                 // a 7 with the top-left segment, as some faces draw it
	0b1111100: '6', 0b1100111: '9', // 6 and 9 without their tail segment
}

// ReadSegments returns the seven-segment amount text in img ("128.50") and
// true, or false when the image does not hold one. The threshold sits at
// half the contrast between the background and the brightest lit segment,
// so unlit "ghost" segments (drawn at a fifth of the contrast or less) count
// as background.
func ReadSegments(img image.Image) (string, bool) {
	s, _, ok := readSegmentsLabel(img)
	return s, ok
}

// readSegmentsLabel is ReadSegments that also returns what is left of the
// digits (the label, prepared: dark on white), nil when nothing is.
func readSegmentsLabel(img image.Image) (string, *image.Gray, bool) {
	g, err := prepare(img)
	if err != nil {
		return "", nil, false
	}
	return segmentsLabel(g)
}

// segmentsLabel is readSegmentsLabel of an image prepare made.
func segmentsLabel(g *image.Gray) (string, *image.Gray, bool) {
	s, x, ok := readSegments(g)
	if !ok {
		return "", nil, false
	}
	if x <= 0 {
		return s, nil, true
	}
	lab := image.NewGray(image.Rect(0, 0, x, g.Bounds().Dy()))
	for y := 0; y < g.Bounds().Dy(); y++ {
		copy(lab.Pix[y*lab.Stride:y*lab.Stride+x], g.Pix[y*g.Stride:y*g.Stride+x])
	}
	if _, line := inkBox(lab, 127); line == 0 {
		return s, nil, true
	}
	return s, lab, true
}

// readSegments returns the amount text and the x where its first glyph
// starts.
func readSegments(g *image.Gray) (string, int, bool) {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	// Background level: the median; lit level: the darkest 1 %.
	var hist [256]int
	for _, p := range g.Pix[:h*g.Stride] {
		hist[p]++
	}
	n, acc := len(g.Pix[:h*g.Stride]), 0
	bg, lit := -1, -1
	for v := 0; v < 256; v++ {
		acc += hist[v]
		if lit < 0 && acc*100 >= n {
			lit = v
		}
		if bg < 0 && acc*2 >= n {
			bg = v
		}
	}
	if bg-lit < 64 {
		return "", 0, false
	}
	t := uint8((bg + lit) / 2)
	ink := func(x, y int) bool { return x >= 0 && y >= 0 && x < w && y < h && g.Pix[y*g.Stride+x] <= t }
	// A lit segment's darkest pixel must be near the lit level: a segment
	// whose ink is all at a middle level is a ghost brighter than half the
	// contrast, and reading it would turn an unlit 8 into a digit.
	limit := lit + (int(t)-lit)/2
	dark := func(x, y int) bool { return ink(x, y) && int(g.Pix[y*g.Stride+x]) <= limit }
	// The same for a whole glyph (the point, the 1).
	litEnough := func(x0, x1, ya, yb int) bool {
		d := 255
		for y := ya; y < yb; y++ {
			for x := x0; x < x1; x++ {
				d = min(d, int(g.Pix[y*g.Stride+x]))
			}
		}
		return d <= limit
	}

	// The line: the tallest band of ink rows, bridging the one or two
	// empty rows a face may leave between its vertical and middle segments.
	y0, y1 := 0, 0
	bridge := max(2, h/20)
	for y := 0; y < h; {
		if !rowHasInk(g, y, t) {
			y++
			continue
		}
		s, e := y, y
		for y < h {
			if rowHasInk(g, y, t) {
				e = y + 1
				y++
				continue
			}
			gap := 0
			for y+gap < h && gap <= bridge && !rowHasInk(g, y+gap, t) {
				gap++
			}
			if gap > bridge || y+gap >= h {
				y += gap
				break
			}
			y += gap
		}
		if e-s > y1-y0 {
			y0, y1 = s, e
		}
	}
	if y1-y0 < 10 {
		return "", 0, false
	}
	// Glyphs: runs of columns with ink in the upper seven tenths of the
	// line. The decimal point sits low in the gap between two digits and
	// often touches both; it is looked for in the gaps afterwards.
	type glyph struct{ x0, x1, top, bot int }
	yb := y0 + (y1-y0)*7/10
	measure := func(x0, x1 int) glyph {
		top, bot := y1, y0
		for yy := y0; yy < y1; yy++ {
			for xx := x0; xx < x1; xx++ {
				if ink(xx, yy) {
					top, bot = min(top, yy), max(bot, yy+1)
					break
				}
			}
		}
		return glyph{x0, x1, top, bot}
	}
	var band []glyph
	for x := 0; x < w; {
		if !colHasInk(ink, x, y0, yb) {
			x++
			continue
		}
		s := x
		for x < w && colHasInk(ink, x, y0, yb) {
			x++
		}
		band = append(band, measure(s, x))
	}
	var gl []glyph
	for i, c := range band {
		if i > 0 {
			p0, p1 := -1, -1
			for x := band[i-1].x1; x < c.x0; x++ {
				if colHasInk(ink, x, yb, y1) {
					if p0 < 0 {
						p0 = x
					}
					p1 = x + 1
				}
			}
			if p0 >= 0 {
				gl = append(gl, measure(p0, p1))
			}
		}
		gl = append(gl, c)
	}
	H := 0
	for _, c := range gl {
		H = max(H, c.bot-c.top)
	}
	var out []byte
	stop := -1
	for i := len(gl) - 1; i >= 0; i-- {
		c := gl[i]
		gw, gh := c.x1-c.x0, c.bot-c.top
		var ch byte
		switch {
		case gh*10 < H*3 && gw*10 < H*4 && (y1-c.bot)*10 < H*2:
			ch = '.'
		case gh*10 >= H*8 && gw*10 < H*3:
			// a lone vertical pair: 1, if both halves are lit and it is a thin stroke
			if !ink(c.x0+gw/2, c.top+gh/4) || !ink(c.x0+gw/2, c.top+3*gh/4) {
				break
			}
			ch = '1'
		case gh*10 >= H*8:
			ch = decodeSeg(ink, dark, c.x0, c.top, gw, gh)
		}
		if ch != 0 && !litEnough(c.x0, c.x1, c.top, c.bot) {
			return "", 0, false
		}
		if ch == 0 {
			stop = i
			break
		}
		out = append(out, ch)
	}
	// Every glyph as tall as the digits must be one of them. Ordinary digits
	// end in glyphs that happen to decode (the "6.86" of ¥1926.86); a label
	// in front of LED digits is drawn smaller than they are.
	for i := 0; i <= stop; i++ {
		if (gl[i].bot-gl[i].top)*10 >= H*8 {
			return "", 0, false
		}
	}
	slices.Reverse(out)
	s := string(out)
	if !amountShaped(s) {
		return "", 0, false
	}
	// The label ends half a glyph gap before the digits.
	x := gl[stop+1].x0
	if stop >= 0 {
		x = (gl[stop].x1 + gl[stop+1].x0) / 2
	}
	return s, x, true
}

func rowHasInk(g *image.Gray, y int, t uint8) bool {
	for _, p := range g.Pix[y*g.Stride : y*g.Stride+g.Bounds().Dx()] {
		if p <= t {
			return true
		}
	}
	return false
}

func colHasInk(ink func(x, y int) bool, x, y0, y1 int) bool {
	for y := y0; y < y1; y++ {
		if ink(x, y) {
			return true
		}
	}
	return false
}

// decodeSeg reads one digit box. A segment is lit when a scan line across
// it meets a stroke no thicker than a third of the box; the two holes of
// the 8 must be empty, which rules out letters and CJK glyphs.
func decodeSeg(ink, dark func(x, y int) bool, x0, y0, w, h int) byte {
	// stroke reports whether, scanning from (ax,ay) to (bx,by), there is a
	// run of ink of plausible thickness (1 px .. max).
	stroke := func(ax, ay, bx, by, maxRun int) (bool, bool) {
		steps := max(abs(bx-ax), abs(by-ay))
		run, found, lit := 0, false, false
		for i := 0; i <= steps; i++ {
			x := ax + (bx-ax)*i/max(steps, 1)
			y := ay + (by-ay)*i/max(steps, 1)
			if ink(x, y) {
				run++
				if run > maxRun {
					return false, false // a blob, not a segment
				}
				found = true
				lit = lit || dark(x, y)
			} else {
				run = 0
			}
		}
		if found && !lit {
			return false, false // ink at a ghost's level only
		}
		return found, true
	}
	cx := x0 + w/2
	type scan struct{ ax, ay, bx, by, maxRun int }
	scans := [7]scan{
		{cx, y0, cx, y0 + h/4, h / 5},                         // a
		{x0 + w/2, y0 + h/4, x0 + w - 1, y0 + h/4, w / 2},     // b
		{x0 + w/2, y0 + 3*h/4, x0 + w - 1, y0 + 3*h/4, w / 2}, // c
		{cx, y0 + h - 1, cx, y0 + 3*h/4, h / 5},               // d
		{x0, y0 + 3*h/4, x0 + w/2, y0 + 3*h/4, w / 2},         // e
		{x0, y0 + h/4, x0 + w/2, y0 + h/4, w / 2},             // f
		{cx, y0 + 3*h/8, cx, y0 + 5*h/8, h / 5},               // g
	}
	var bits uint8
	for i, s := range scans {
		// three parallel scans; a segment is lit when two of them meet it
		hits := 0
		for _, d := range []int{-1, 0, 1} {
			ax, ay, bx, by := s.ax, s.ay, s.bx, s.by
			if ax == bx {
				ax, bx = ax+d*max(1, w/10), bx+d*max(1, w/10)
			} else {
				ay, by = ay+d*max(1, h/20), by+d*max(1, h/20)
			}
			lit, ok := stroke(ax, ay, bx, by, max(2, s.maxRun))
			if !ok {
				return 0
			}
			if lit {
				hits++
			}
		}
		if hits >= 2 {
			bits |= 1 << i
		} else if hits == 1 {
			return 0 // neither clearly lit nor clearly dark
		}
	}
	// The holes of the 8 are background in every digit.
	if ink(cx, y0+h*3/10) || ink(cx, y0+h*7/10) {
		return 0
	}
	return segDigits[bits]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
