package ocr

import (
	"bytes"
	"errors"
	xdraw "golang.org/x/image/draw"
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"testing"
)

// bar draws a filled rectangle of fg on bg: a stand-in for one text line.
func bar(w, h int, bg, fg color.Color, r image.Rectangle) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	draw.Draw(img, r, image.NewUniform(fg), image.Point{}, draw.Src)
	return img
}

func TestPreprocessPolarityAndScale(t *testing.T) {
	ink := image.Rect(20, 10, 80, 22) // a 12 px high "line"
	cases := []struct {
		name   string
		bg, fg color.Color
	}{
		{"dark on light", color.White, color.Black},
		{"light on dark", color.RGBA{0x20, 0x20, 0x20, 0xff}, color.RGBA{0xe0, 0xe0, 0xe0, 0xff}},
		{"white on blue", color.RGBA{0x15, 0x65, 0xc0, 0xff}, color.White},
		{"red on cream", color.RGBA{0xff, 0xf8, 0xe1, 0xff}, color.RGBA{0xb7, 0x1c, 0x1c, 0xff}},
	}
	for _, c := range cases {
		for _, v := range Variants {
			t.Run(c.name+"/"+v.Name, func(t *testing.T) {
				g, err := Preprocess(bar(100, 32, c.bg, c.fg, ink), v)
				if err != nil {
					t.Fatal(err)
				}
				b := g.Bounds()
				// Corners are padding: white. The middle is the bar: black.
				if p := g.GrayAt(0, 0).Y; p < 250 {
					t.Errorf("corner is %d, want white background", p)
				}
				if p := g.GrayAt(b.Dx()/2, b.Dy()/2).Y; p > 5 {
					t.Errorf("centre is %d, want black ink", p)
				}
				// The 12 px line is scaled to v.LineHeight.
				rows := 0
				for y := 0; y < b.Dy(); y++ {
					if g.GrayAt(b.Dx()/2, y).Y < 128 {
						rows++
					}
				}
				if rows < v.LineHeight-2 || rows > v.LineHeight+2 {
					t.Errorf("ink is %d rows high, want about %d", rows, v.LineHeight)
				}
				if v.Binarize {
					for _, p := range g.Pix {
						if p != 0 && p != 255 {
							t.Fatalf("binarized image holds grey %d", p)
						}
					}
				}
			})
		}
	}
}

func TestPreprocessBlank(t *testing.T) {
	for _, c := range []color.Color{color.White, color.Black, color.RGBA{0x15, 0x65, 0xc0, 0xff}} {
		img := bar(50, 20, c, c, image.Rectangle{})
		if _, err := Preprocess(img, Variants[0]); !errors.Is(err, ErrBlank) {
			t.Errorf("flat %v: got %v, want ErrBlank", c, err)
		}
	}
}

func TestPreprocessOffsetBounds(t *testing.T) {
	// A sub-image (as a screen capture at X,Y is) must not be read at 0,0.
	img := bar(200, 100, color.White, color.Black, image.Rect(120, 60, 180, 72))
	sub := img.SubImage(image.Rect(100, 50, 200, 100))
	g, err := Preprocess(sub, Variants[0])
	if err != nil {
		t.Fatal(err)
	}
	if p := g.GrayAt(g.Bounds().Dx()/2, g.Bounds().Dy()/2).Y; p != 0 {
		t.Errorf("centre is %d, want the bar", p)
	}
}

// TestToGrayPaletted: the paletted fast path gives what the generic
// conversion gives.
func TestToGrayPaletted(t *testing.T) {
	img := decodePNG(t, filepath.Join(screensDir(), "s000.png"))
	p, ok := img.(*image.Paletted)
	if !ok {
		t.Fatalf("%T, want a paletted PNG-8", img)
	}
	got := toGray(p)
	b := p.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if want := color.GrayModel.Convert(p.At(x, y)).(color.Gray).Y; got.GrayAt(x-b.Min.X, y-b.Min.Y).Y != want {
				t.Fatalf("(%d,%d): %d, want %d", x, y, got.GrayAt(x, y).Y, want)
			}
		}
	}
}

// TestScaleGrayExact: scaleGray gives exactly the pixels x/image/draw's
// Kernel.Scale writes into a Gray image (the slow path it replaces), for
// a quarter of the prepared images of both corpora at each variant's
// interpolation, scaled up and down.
func TestScaleGrayExact(t *testing.T) {
	n := 0
	for _, dir := range []string{corpusDir(), screensDir()} {
		for i, c := range loadCorpusDir(t, dir) {
			if i%4 != 0 {
				continue // a quarter of each set is plenty, and quick under -race
			}
			p, err := prepare(decodePNG(t, filepath.Join(dir, c.file)))
			if err != nil {
				continue
			}
			for _, v := range Variants {
				// Up (as the variants scale most lines) and down.
				for _, h := range []int{v.LineHeight * 2, max(1, p.Bounds().Dy()/3)} {
					w := max(1, p.Bounds().Dx()*h/p.Bounds().Dy())
					r := image.Rect(3, 5, 3+w, 5+h)
					want := image.NewGray(image.Rect(0, 0, w+7, h+9))
					got := image.NewGray(want.Bounds())
					for i := range want.Pix {
						want.Pix[i], got.Pix[i] = 255, 255
					}
					var k xdraw.Scaler = xdraw.BiLinear
					if v.Bicubic {
						k = xdraw.CatmullRom
					}
					k.Scale(want, r, p, p.Bounds(), draw.Src, nil)
					scaleGray(got, r, p, v.Bicubic)
					if !bytes.Equal(want.Pix, got.Pix) {
						t.Fatalf("%s, %s: scaleGray differs from Kernel.Scale into a Gray image", c.file, v.Name)
					}
					n++
				}
			}
		}
	}
	if n < 500 {
		t.Fatalf("only %d scalings compared", n)
	}
}
