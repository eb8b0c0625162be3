package main

import (
	"context"
	"fmt"
	"image"
	"time"

	"github.com/scanbox/scanbox/app/ui"
	"github.com/scanbox/scanbox/capture"
)

// screenReadTimeout bounds the screen read a scan waits for: a cashier
// waits a moment for the amount, never half a minute.
const screenReadTimeout = 8 * time.Second

// errNoScreenAmount: OCR is the source but no region is chosen.
var errNoScreenAmount = fmt.Errorf("%w: no screen region is chosen for the amount (pick it in Settings)", capture.ErrNoAmount)

// ReadAmountNow reads the amount source once more for a scan (issue 8
// defect 1): with OCR it reads the region now, bounded by
// screenReadTimeout, and returns that reading (and makes it the current
// amount) only if the read succeeded; with the other sources it returns the
// current amount if it is fresh and was not charged yet.
func (c *trayController) ReadAmountNow() (ui.AmountReading, error) {
	cfg := c.core.Config()
	cur := c.core.Amount()
	if cfg.Amount.Source != capture.SourceOCR.String() {
		r, err := cur.Fresh(time.Now(), cfg.Amount.MaxAmountAge.D())
		if err != nil {
			return ui.AmountReading{}, err
		}
		return ui.AmountReading{Amount: r.Amount, Source: r.Source.String(), At: r.At}, nil
	}
	if cfg.Amount.OCR.Empty() {
		return ui.AmountReading{}, errNoScreenAmount
	}
	reg := cfg.Amount.OCR
	type result struct {
		r   capture.Reading
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, r, err := c.core.ReadRegion(image.Rect(reg.X, reg.Y, reg.X+reg.W, reg.Y+reg.H))
		done <- result{r, err}
	}()
	ctx, cancel := context.WithTimeout(c.ctx, screenReadTimeout)
	defer cancel()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		// The late answer is dropped (done is buffered): a reading that
		// comes after the cashier was told "no amount" must not charge.
		res.err = fmt.Errorf("screen read: %w", ctx.Err())
	}
	if res.err != nil {
		c.log.Warn("OCR read for a scan failed", "err", res.err)
		return ui.AmountReading{}, res.err
	}
	if err := cur.Set(res.r); err != nil {
		return ui.AmountReading{}, err
	}
	return ui.AmountReading{Amount: res.r.Amount, Source: res.r.Source.String(), At: res.r.At}, nil
}

// VoiceError is the speaker's last playback error.
func (c *trayController) VoiceError() error { return c.speaker.Err() }
