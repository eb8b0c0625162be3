package main

import (
	"context"
	"fmt"
	"image"
	"time"

	"github.com/scanbox/scanbox/app/ui"
	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/capture/ocr"
)

// screenReadTimeout bounds the screen read a scan waits for: a cashier
// waits a moment for the amount, never half a minute.
const screenReadTimeout = 8 * time.Second

// errNoScreenAmount: OCR is the source but no region is chosen.
var errNoScreenAmount = fmt.Errorf("%w: no screen region is chosen for the amount (pick it in Settings)", capture.ErrNoAmount)

// ReadAmountNow reads the amount source once more for a scan (issue 8
// defect 1): with OCR it reads the region now, bounded by
// screenReadTimeout, and returns that reading only if the read succeeded;
// with the other sources it returns the current amount if it is fresh and
// was not charged yet.
func (c *trayController) ReadAmountNow() (ui.AmountReading, error) {
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	if cfg.Amount.Source != capture.SourceOCR.String() {
		r, err := c.amount.Fresh(time.Now(), cfg.Amount.MaxAmountAge.D())
		if err != nil {
			return ui.AmountReading{}, err
		}
		return ui.AmountReading{Amount: r.Amount, Source: r.Source.String(), At: r.At}, nil
	}
	if cfg.Amount.OCR.Empty() {
		return ui.AmountReading{}, errNoScreenAmount
	}
	reg := cfg.Amount.OCR
	img, err := ocr.Capture(image.Rect(reg.X, reg.Y, reg.X+reg.W, reg.Y+reg.H))
	if err != nil {
		c.setSourceErr(oneLine(err.Error()))
		return ui.AmountReading{}, err
	}
	ctx, cancel := context.WithTimeout(c.ctx, screenReadTimeout)
	defer cancel()
	res, err := c.ocr.Read(ctx, img)
	if err != nil {
		c.log.Warn("OCR read for a scan failed", "err", err)
		c.setSourceErr(oneLine(err.Error()))
		return ui.AmountReading{}, err
	}
	c.setSourceErr("")
	r := capture.Reading{Amount: res.Amount, Source: capture.SourceOCR, At: time.Now()}
	if err := c.amount.Set(r); err != nil {
		return ui.AmountReading{}, err
	}
	return ui.AmountReading{Amount: r.Amount, Source: r.Source.String(), At: r.At}, nil
}

// VoiceError is the speaker's last playback error.
func (c *trayController) VoiceError() error { return c.speaker.Err() }
