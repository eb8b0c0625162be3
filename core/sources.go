package core

import (
	"context"
	"fmt"
	"image"
	"sync"
	"time"

	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/capture/display"
	"github.com/scanbox/scanbox/capture/ocr"
	"github.com/scanbox/scanbox/capture/scanner"
	"github.com/scanbox/scanbox/capture/serialport"
	"github.com/scanbox/scanbox/config"
)

// sourceState is what status shows of the amount source and scanner input.
type sourceState struct {
	amountErr  string // the amount source is broken ("" when fine)
	scannerErr string
	running    bool // sources were started (long-running front-ends)
	wedge      bool // the keyboard-wedge hook is installed
	ocr        *ocr.Reader
}

// SourceErr is the broken amount source's or scanner's sentence, "" when
// both are fine.
func (c *Core) SourceErr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src.amountErr != "" {
		return c.src.amountErr
	}
	return c.src.scannerErr
}

func (c *Core) setAmountErr(msg string) {
	c.mu.Lock()
	changed := c.src.amountErr != msg
	c.src.amountErr = msg
	c.mu.Unlock()
	if changed {
		c.changed.Emit(struct{}{})
	}
}

func (c *Core) setScannerErr(msg string) {
	c.mu.Lock()
	changed := c.src.scannerErr != msg
	c.src.scannerErr = msg
	c.mu.Unlock()
	if changed {
		c.changed.Emit(struct{}{})
	}
}

// RestartSources (re)starts the serial customer-display sniffer and the
// scanner input from the configuration. Each runs on its own goroutine and
// reopens its port by itself; a failure is reported, never fatal: payments
// keep working without them.
func (c *Core) RestartSources() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	cfg := c.cfg
	old := c.stopSources
	c.stopSources = nil
	c.mu.Unlock()
	if old != nil {
		old()
	}
	ctx, cancel := context.WithCancel(c.ctx)
	var wg sync.WaitGroup
	var wedge *scanner.Wedge
	c.setAmountErr("")
	c.setScannerErr("")
	if cfg.Amount.Source == capture.SourceSerial.String() && cfg.Amount.Serial.Port != "" {
		if sn, err := c.sniffer(cfg.Amount.Serial); err != nil {
			c.setAmountErr(OneLine(err.Error()))
			c.log.Warn("serial amount source not started", "err", err)
		} else {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := sn.Run(ctx); err != nil && ctx.Err() == nil {
					c.setAmountErr(OneLine(err.Error()))
					c.log.Warn("serial amount source stopped", "err", err)
				}
			}()
		}
	}
	switch cfg.Scanner.Mode {
	case config.ScannerSerial:
		if cfg.Scanner.Port != "" {
			s := &scanner.Serial{Port: serialport.Config{Name: cfg.Scanner.Port, Baud: cfg.Scanner.Baud},
				OnCode: c.scans.Emit,
				OnStatus: func(st serialport.Status) {
					c.log.Info("scanner port", "status", st.String())
				}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Run(ctx); err != nil && ctx.Err() == nil {
					c.setScannerErr(OneLine(err.Error()))
				}
			}()
		}
	case config.ScannerWedge:
		if !c.opts.Wedge {
			break // the scans type into the focused window (the POS)
		}
		w, err := scanner.StartWedge(scanner.BurstConfig{MaxGap: cfg.Scanner.WedgeMaxGap.D()}, c.scans.Emit)
		if err != nil {
			// Without the hook a wedge scanner still types into the pay
			// window's code field, so this is not an attention state.
			c.log.Info("keyboard-wedge capture unavailable; scans go to the focused window", "err", err)
		} else {
			wedge = w
		}
	}
	c.mu.Lock()
	c.src.running = true
	c.src.wedge = wedge != nil
	c.stopSources = func() {
		cancel()
		if wedge != nil {
			wedge.Close()
		}
		wg.Wait()
	}
	c.mu.Unlock()
}

func (c *Core) sniffer(s config.SerialConfig) (*display.Sniffer, error) {
	parity, err := serialport.ParseParity(orDefault(s.Parity, "none"))
	if err != nil {
		return nil, err
	}
	stop, err := serialport.ParseStopBits(orDefault(s.StopBits, "1"))
	if err != nil {
		return nil, err
	}
	profile, err := display.ParseProfile(orDefault(s.Profile, "auto"))
	if err != nil {
		return nil, err
	}
	return &display.Sniffer{
		Config: display.Config{Port: serialport.Config{Name: s.Port, Baud: s.Baud, DataBits: s.DataBits,
			Parity: parity, StopBits: stop}, Forward: s.ForwardPort, Profile: profile},
		OnTotal: func(e display.Event) {
			if err := c.amount.Set(e.Reading(time.Now())); err != nil {
				c.log.Warn("serial amount refused", "err", err)
			}
			c.serial.Emit(fmt.Sprintf("%s total %s (%s)", time.Now().Format("15:04:05"), e.Amount, e.Profile))
		},
		OnStatus: func(st serialport.Status) {
			c.serial.Emit(time.Now().Format("15:04:05") + " " + st.String())
			if st.Err != nil {
				c.setAmountErr(OneLine(st.String()))
			} else {
				c.setAmountErr("")
			}
		},
	}, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// ocrReader is the OCR helper, started on first use.
func (c *Core) ocrReader() *ocr.Reader {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src.ocr == nil {
		c.src.ocr = ocr.NewReader(ocr.Options{})
	}
	return c.src.ocr
}

// ReadRegion reads the amount in a rectangle of the live screen.
func (c *Core) ReadRegion(r image.Rectangle) (string, capture.Reading, error) {
	img, err := ocr.Capture(r)
	if err != nil {
		return "", capture.Reading{}, err
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	res, err := c.ocrReader().Read(ctx, img)
	return res.Text, capture.Reading{Amount: res.Amount, Source: capture.SourceOCR, At: time.Now()}, err
}

// CaptureNow reads the configured OCR region once when OCR is the source
// (the amount is read when the cashier opens the pay window, never in a
// loop) and sets the current amount from it.
func (c *Core) CaptureNow() {
	cfg := c.Config()
	if cfg.Amount.Source != capture.SourceOCR.String() || cfg.Amount.OCR.Empty() {
		return
	}
	reg := cfg.Amount.OCR
	_, reading, err := c.ReadRegion(image.Rect(reg.X, reg.Y, reg.X+reg.W, reg.Y+reg.H))
	if err != nil {
		c.setAmountErr(OneLine(err.Error()))
		c.log.Warn("OCR read failed", "err", err)
		return
	}
	c.setAmountErr("")
	if err := c.amount.Set(reading); err != nil {
		c.log.Warn("OCR amount refused", "err", err)
	}
	c.changed.Emit(struct{}{})
}
