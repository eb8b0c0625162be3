package ocr

import (
	"errors"
	"image"
	"image/color"
	"testing"
)

func TestCheckLabel(t *testing.T) {
	refused := []string{"找零 5.00", "找夫 5.00", "实收：100.00", "已付 50.00", "单价 12.50", "优惠金额 -3.00",
		"折扣 9.50", "数量 2.00", "CHANGE 5.00", "Cash: 100.00", "PRICE 3.50", "确认收款 ¥27.61", "Qty 2.00",
		"CHANGE780.64", "CHANGOE 780.64"}
	for _, s := range refused {
		if err := checkLabel(s); !errors.Is(err, ErrNoAmount) {
			t.Errorf("checkLabel(%q) = %v, want refused", s, err)
		}
	}
	accepted := []string{"合计 ¥12.50", "应收 5.00", "应付金额：88.00", "总计 1.00", "TOTAL 3.00", "¥9.99", "小计 4.00",
		"支付 ¥5.00"}
	for _, s := range accepted {
		if err := checkLabel(s); err != nil {
			t.Errorf("checkLabel(%q) = %v, want accepted", s, err)
		}
	}
	for s, want := range map[string]bool{"应收": true, "合计": true, "TOTAL": true, "": false, "找零": false, "Sit": false, "口口": false} {
		if got := isTotalLabel(s); got != want {
			t.Errorf("isTotalLabel(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestMainLine: slivers of the lines above and below, cut by the rectangle,
// are dropped; two whole lines are both kept.
func TestMainLine(t *testing.T) {
	img := bar(120, 40, color.White, color.Black, image.Rect(10, 12, 110, 28)) // the line, 16 px
	draw := func(r image.Rectangle) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				img.Set(x, y, color.Black)
			}
		}
	}
	draw(image.Rect(20, 0, 60, 3))   // the bottom of the line above
	draw(image.Rect(30, 37, 90, 40)) // the top of the line below
	g, err := prepare(img)
	if err != nil {
		t.Fatal(err)
	}
	box, line := inkBox(g, 127)
	if box != image.Rect(10, 12, 110, 28) || line != 16 {
		t.Fatalf("ink box %v, line %d; want only the middle line", box, line)
	}

	two := bar(200, 40, color.White, color.Black, image.Rect(10, 2, 60, 16))
	for y := 22; y < 38; y++ {
		for x := 10; x < 60; x++ {
			two.Set(x, y, color.Black)
		}
	}
	g, _ = prepare(two)
	if box, _ := inkBox(g, 127); box != image.Rect(10, 2, 60, 38) {
		t.Fatalf("two whole lines: ink box %v, want both kept", box)
	}
}

// TestButtonInside: white text on a green pill on a white page is read
// inside the pill, as dark text on white with the page gone.
func TestButtonInside(t *testing.T) {
	green := color.RGBA{0x07, 0xc1, 0x60, 0xff}
	img := bar(200, 60, color.White, green, image.Rect(20, 10, 180, 50))
	for y := 22; y < 38; y++ { // the "text"
		for x := 60; x < 140; x++ {
			img.Set(x, y, color.White)
		}
	}
	g, err := prepare(img)
	if err != nil {
		t.Fatal(err)
	}
	box, line := inkBox(g, 127)
	if line != 16 || box.Dx() != 80 {
		t.Fatalf("ink box %v (line %d) in a %v image; want the 80x16 text alone", box, line, g.Bounds())
	}
}
