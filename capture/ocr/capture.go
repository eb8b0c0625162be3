package ocr

import (
	"fmt"
	"image"
	"strconv"
	"strings"

	"github.com/kbinani/screenshot"
)

// ParseRegion reads "X,Y,W,H" (screen pixels, W and H positive).
func ParseRegion(s string) (image.Rectangle, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return image.Rectangle{}, fmt.Errorf("ocr: region %q is not X,Y,W,H", s)
	}
	var n [4]int
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return image.Rectangle{}, fmt.Errorf("ocr: region %q is not X,Y,W,H", s)
		}
		n[i] = v
	}
	if n[2] <= 0 || n[3] <= 0 || n[2] > 8000 || n[3] > 8000 {
		return image.Rectangle{}, fmt.Errorf("ocr: region %q needs a width and height between 1 and 8000", s)
	}
	return image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3]), nil
}

// Capture grabs rectangle r of the screen (virtual-desktop coordinates).
// The image's bounds start at 0,0, not at r.Min.
func Capture(r image.Rectangle) (*image.RGBA, error) {
	img, err := screenshot.CaptureRect(r)
	if err != nil {
		return nil, fmt.Errorf("ocr: screen capture of %v: %w", r, err)
	}
	return img, nil
}
