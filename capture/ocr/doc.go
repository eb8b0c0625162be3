// Package ocr reads the amount to charge from a rectangle of the POS screen.
//
// It owns screen capture, image preprocessing, the client side of the
// scanbox-ocr helper protocol (spawn lazily, keep alive, restart on death)
// and the choice of the amount in the recognised text. Tesseract itself runs
// only in the helper process (cmd/scanbox-ocr), so that a missing or broken
// Tesseract runtime can make OCR unavailable but never stop scanbox.
//
// This package must never use cgo, never turn text into money except through
// money.Parse, and never accept an amount that two independent readings do
// not agree on: a misread amount is worse than none.
package ocr
