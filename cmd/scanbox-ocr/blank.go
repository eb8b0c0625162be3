package main

import (
	"image"
	"image/color"
)

// blankImage is a small white image used to initialise Tesseract at start.
func blankImage() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range g.Pix {
		g.Pix[i] = color.Gray{Y: 255}.Y
	}
	return g
}
