package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/kbinani/screenshot"
	"go.bug.st/serial"

	"github.com/scanbox/scanbox/app/ui"
	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/capture/display"
	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/logging"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/posapi"
	"github.com/scanbox/scanbox/scan"
	"github.com/scanbox/scanbox/version"
	"github.com/scanbox/scanbox/voice"
)

// errNotActivated refuses payments before activation, in one sentence.
var errNotActivated = ui.ErrNotActivated

// errPaymentInProgress refuses re-activation while an order is in flight.
var errPaymentInProgress = core.ErrPaymentInProgress

// trayController adapts the core to the views (ui.Controller): it adds what
// only the tray has (voice, the screen picker, the support zip) and turns
// core values into the views' types. It builds no part itself and holds no
// payment logic: every charge goes through the core's runner.
type trayController struct {
	core    *core.Core
	owner   *owner // the local and POS APIs; nil in tests that open a bare core
	dir     string
	log     *slog.Logger
	ring    *logging.Ring
	journal core.Journal
	speaker *voice.Speaker
	ctx     context.Context
	cancel  context.CancelFunc

	mu        sync.Mutex
	offline   bool
	announced map[string]order.State
	// onLanguage is called (from the saving goroutine) after the language
	// changed, so the tray can rebuild its windows.
	onLanguage func()

	amountSubs core.Fanout[ui.AmountReading]
	statusSubs core.Fanout[ui.Status]
	logSubs    core.Fanout[struct{}]
	unsubs     []func()
}

var _ ui.Controller = (*trayController)(nil)

// newTrayController opens dir as its owner (core, local API, POS API). It
// fails only when the data directory cannot be used at all (unwritable, or
// another ScanBox owns it); a broken optional part (sound, serial port, OCR)
// is logged and reported in the status instead.
func newTrayController(dir string, stderr io.Writer) (*trayController, error) {
	o, err := startOwner(dir, core.KindTray, stderr)
	if err != nil {
		return nil, err
	}
	return newTrayControllerOn(o.c, o), nil
}

func newTrayControllerOn(cr *core.Core, o *owner) *trayController {
	cfg := cr.Config()
	c := &trayController{core: cr, owner: o, dir: cr.Dir(), log: cr.Log(), ring: cr.Ring(), journal: cr.Journal(),
		announced: map[string]order.State{}}
	c.ctx, c.cancel = context.WithCancel(cr.Context())
	c.speaker = voice.New(voice.Options{Log: c.log, Volume: max(cfg.Volume, 1)})
	c.speaker.SetVolume(cfg.Volume)
	c.speaker.SetEnabled(cfg.Voice)
	cr.SetVoiceHealth(c.speaker.Health)
	if c.ring != nil {
		go c.followRing()
	}
	go c.followAmount()
	c.unsubs = append(c.unsubs, cr.Subscribe(c.orderChanged),
		cr.OnChange(func(struct{}) {
			// A configuration saved elsewhere (the fleet's remote settings)
			// reaches the speaker too: two atomic stores.
			cfg := cr.Config()
			c.speaker.SetEnabled(cfg.Voice)
			c.speaker.SetVolume(cfg.Volume)
			c.statusSubs.Emit(c.Status())
		}))
	c.log.Info("tray started", "version", version.Version, "data_dir", c.dir, "activated", cfg.Activated())
	return c
}

// Close stops everything, newest first.
func (c *trayController) Close() {
	for _, u := range c.unsubs {
		u()
	}
	c.cancel()
	c.core.SetVoiceHealth(nil)
	c.speaker.Close()
	c.log.Info("tray stopped")
	if c.owner != nil {
		c.owner.stop()
	} else {
		c.core.Close()
	}
}

// followRing wakes the log view when the ring grows; nothing polls.
func (c *trayController) followRing() {
	for {
		ch := c.ring.Changed()
		select {
		case <-c.ctx.Done():
			return
		case <-ch:
			c.logSubs.Emit(struct{}{})
		}
	}
}

func (c *trayController) followAmount() {
	ch, cancel := c.core.Amount().Subscribe()
	defer cancel()
	for {
		select {
		case <-c.ctx.Done():
			return
		case r := <-ch:
			c.amountSubs.Emit(ui.AmountReading{Amount: r.Amount, Source: r.Source.String(), At: r.At})
		}
	}
}

func (c *trayController) getRunner() (*payflow.Runner, error) {
	r, err := c.core.Runner()
	if errors.Is(err, core.ErrNotActivated) {
		return nil, errNotActivated
	}
	return r, err
}

// orderChanged runs on the runner's goroutines: it speaks the result once
// per state, tracks whether the bank is reachable, and tells the views.
func (c *trayController) orderChanged(o order.Order) {
	c.mu.Lock()
	speak := c.announced[o.OutTradeNo] != o.State
	c.announced[o.OutTradeNo] = o.State
	if o.State.Terminal() {
		delete(c.announced, o.OutTradeNo) // bounded: only live orders stay
	}
	switch {
	case o.State == order.StateUnknown || o.ErrCode == payflow.CodeComm:
		c.offline = true
	case o.State.Terminal() || o.State == order.StateWaiting:
		c.offline = false
	}
	c.mu.Unlock()
	if speak {
		c.speaker.Announce(o)
	}
	if o.State == order.StatePaid {
		// The amount was charged: it must not be charged again by accident.
		if r, ok := c.core.Amount().Get(); ok && r.Amount == o.AmountFen {
			c.core.Amount().Clear()
		}
	}
	c.statusSubs.Emit(c.Status())
}

func (c *trayController) Amount() (ui.AmountReading, bool) {
	r, ok := c.core.Amount().Get()
	return ui.AmountReading{Amount: r.Amount, Source: r.Source.String(), At: r.At}, ok
}

func (c *trayController) OnAmount(fn func(ui.AmountReading)) func() { return c.amountSubs.Add(fn) }

func (c *trayController) SetManualAmount(f money.Fen) {
	if err := c.core.Amount().Set(capture.Reading{Amount: f, Source: capture.SourceManual, At: time.Now()}); err != nil {
		c.log.Warn("manual amount refused", "amount_fen", int64(f), "err", err)
	}
}

func (c *trayController) OnScan(fn func(string)) func() { return c.core.OnScan(fn) }

func (c *trayController) Wallet(code string) (order.Channel, error) { return scan.Recognize(code) }

func (c *trayController) Pay(amount money.Fen, code string) (order.Order, error) {
	if _, err := c.getRunner(); err != nil {
		return order.Order{}, err
	}
	// The core drives the order on the program's context, not on a
	// request's: closing the pay window must not abandon a payment.
	return c.core.Pay(amount, code)
}

func (c *trayController) Precreate(amount money.Fen) (order.Order, error) {
	r, err := c.getRunner()
	if err != nil {
		return order.Order{}, err
	}
	return r.Precreate(c.ctx, amount, "")
}

func (c *trayController) Cancel(no string) bool {
	r, err := c.getRunner()
	return err == nil && r.Cancel(no)
}

func (c *trayController) OnOrder(fn func(order.Order)) func() { return c.core.Subscribe(fn) }

func (c *trayController) Recent(n int) []order.Order { return c.journal.Recent(n) }

func (c *trayController) Requery(no string) (order.Order, error) {
	r, err := c.getRunner()
	if err != nil {
		return order.Order{}, err
	}
	return r.Requery(c.ctx, no)
}

func (c *trayController) CloseOrder(no string) (order.Order, error) {
	r, err := c.getRunner()
	if err != nil {
		return order.Order{}, err
	}
	return r.CloseOrder(c.ctx, no)
}

func (c *trayController) Status() ui.Status {
	cs := c.core.Status()
	cfg := c.core.Config()
	c.mu.Lock()
	offline := c.offline
	c.mu.Unlock()
	// An order being driven here (sending, waiting, closing) is in
	// progress; one left over (unknown, or from before a crash) needs
	// attention until the resolver or the cashier settles it.
	return ui.Status{Activated: cs.Activated, MerchantName: cfg.MerchantName, StoreName: cfg.StoreName,
		StaticQR: cfg.StaticQR, Offline: offline, SourceErr: c.core.SourceErr(),
		Waiting: cs.InFlight, Unresolved: cs.Unresolved}
}

func (c *trayController) OnStatus(fn func(ui.Status)) func() { return c.statusSubs.Add(fn) }

func (c *trayController) Logs(after uint64, maxLines int) []ui.LogLine {
	if c.ring == nil {
		return nil
	}
	entries, _ := c.ring.Since(after + 1)
	if len(entries) > maxLines {
		entries = entries[:maxLines]
	}
	out := make([]ui.LogLine, len(entries))
	for i, e := range entries {
		text := e.Msg
		if e.Attrs != "" {
			text += " " + e.Attrs
		}
		out[i] = ui.LogLine{Seq: e.Seq, Time: e.Time, Level: e.Level, Text: text}
	}
	return out
}

func (c *trayController) OnLog(fn func(struct{})) func() { return c.logSubs.Add(fn) }

// ExportSupport writes the support zip (core.ExportSupport: logs, recent
// orders, configuration), the same one the fleet agent uploads on request.
func (c *trayController) ExportSupport(w io.Writer) error { return c.core.ExportSupport(w) }

func (c *trayController) Settings() ui.Settings {
	return settingsFromConfig(c.core.Config())
}

func settingsFromConfig(cfg config.Config) ui.Settings {
	r := cfg.Amount.OCR
	return ui.Settings{
		BankURL: cfg.BankURL, MchID: cfg.MchID, TerminalID: cfg.TerminalID,
		AmountSource: cfg.Amount.Source, SerialPort: cfg.Amount.Serial.Port, SerialBaud: cfg.Amount.Serial.Baud,
		SerialParity: cfg.Amount.Serial.Parity, SerialProfile: cfg.Amount.Serial.Profile,
		SerialForward: cfg.Amount.Serial.ForwardPort, OCRRegion: image.Rect(r.X, r.Y, r.X+r.W, r.Y+r.H),
		ScannerMode: cfg.Scanner.Mode.String(), ScannerPort: cfg.Scanner.Port, ScannerBaud: cfg.Scanner.Baud,
		WedgeMaxGapMS: int(cfg.Scanner.WedgeMaxGap.D() / time.Millisecond),
		PollInterval:  cfg.PollInterval.D(), PollTimeout: cfg.PollTimeout.D(),
		AutoCloseSec: int(cfg.AutoCloseAfterSuccess.D() / time.Second), Hotkey: cfg.Hotkey,
		VoiceOn: cfg.Voice, Volume: cfg.Volume, Language: cfg.Language,
		MaxAmountAge: cfg.Amount.MaxAmountAge.D(), MaxPayment: cfg.MaxPayment, ConfirmAbove: cfg.ConfirmAbove,
		ReceiptPrinter: cfg.Receipt.Printer, ReceiptPaper: orDefault(cfg.Receipt.Paper, "80mm"),
		PaymentSlips: cfg.Receipt.PaymentSlips, ReconcileAt: orDefault(cfg.ReconcileAt, core.DefaultReconcileAt),
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// applySettings writes s over cfg; fields the window does not edit stay.
// The bank identity (URL, merchant, terminal) is never taken from s: it
// changes only by activation, which refuses while orders are open (issue 8
// defect 2: Save used to switch the terminal under open orders).
func applySettings(cfg config.Config, s ui.Settings) (config.Config, error) {
	cfg.Amount.Source = s.AmountSource
	cfg.Amount.Serial.Port, cfg.Amount.Serial.Baud = s.SerialPort, s.SerialBaud
	cfg.Amount.Serial.Parity, cfg.Amount.Serial.Profile = s.SerialParity, s.SerialProfile
	cfg.Amount.Serial.ForwardPort = s.SerialForward
	r := s.OCRRegion
	cfg.Amount.OCR = config.OCRRegion{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy()}
	mode, err := config.ParseScannerMode(s.ScannerMode)
	if err != nil {
		return cfg, err
	}
	cfg.Scanner.Mode, cfg.Scanner.Port, cfg.Scanner.Baud = mode, s.ScannerPort, s.ScannerBaud
	cfg.Scanner.WedgeMaxGap = config.Duration(time.Duration(s.WedgeMaxGapMS) * time.Millisecond)
	cfg.PollInterval, cfg.PollTimeout = config.Duration(s.PollInterval), config.Duration(s.PollTimeout)
	cfg.AutoCloseAfterSuccess = config.Duration(time.Duration(s.AutoCloseSec) * time.Second)
	cfg.Hotkey = s.Hotkey
	cfg.Voice, cfg.Volume, cfg.Language = s.VoiceOn, s.Volume, s.Language
	if s.MaxAmountAge > 0 {
		cfg.Amount.MaxAmountAge = config.Duration(s.MaxAmountAge)
	}
	if s.MaxPayment > 0 {
		cfg.MaxPayment = s.MaxPayment
	}
	cfg.ConfirmAbove = s.ConfirmAbove
	// The window checked the printer's form and the time's range; the
	// core reads them where they are used (a bad one disables only
	// receipts, or the morning reconciliation).
	cfg.Receipt.Printer, cfg.Receipt.PaymentSlips = s.ReceiptPrinter, s.PaymentSlips
	// A default shown and saved unchanged stays unset in the file, so that
	// it follows the program's default.
	if s.ReceiptPaper != "" && (cfg.Receipt.Paper != "" || s.ReceiptPaper != "80mm") {
		cfg.Receipt.Paper = s.ReceiptPaper
	}
	if s.ReconcileAt != "" && (cfg.ReconcileAt != "" || s.ReconcileAt != core.DefaultReconcileAt) {
		cfg.ReconcileAt = s.ReconcileAt
	}
	return cfg, nil
}

// SaveSettings validates and saves through the core, which applies what
// can change live (sources, pacing once no order is in flight) and refuses
// a change of the bank identity (that is activation's); the tray applies
// voice and language.
func (c *trayController) SaveSettings(s ui.Settings) error {
	old := c.core.Config()
	cfg, err := applySettings(old, s)
	if err != nil {
		return err
	}
	if err := c.core.SetConfig(cfg); err != nil {
		return err
	}
	c.log.Info("settings saved", "amount_source", cfg.Amount.Source, "scanner_mode", cfg.Scanner.Mode.String(),
		"voice", cfg.Voice, "volume", cfg.Volume, "language", cfg.Language)
	c.speaker.SetEnabled(cfg.Voice)
	c.speaker.SetVolume(cfg.Volume)
	if cfg.Language != old.Language {
		ui.SetLanguage(ui.ParseLanguage(cfg.Language))
		if c.onLanguage != nil {
			c.onLanguage()
		}
	}
	return nil
}

// Activate goes through the core: refused while a payment is in flight or
// an order of the current identity is unresolved, then payments restart
// with the new key.
func (c *trayController) Activate(url, mch, term, code string) (ui.Status, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if _, err := c.core.Activate(ctx, core.ActivateRequest{URL: url, MchID: mch, TerminalID: term, Code: code}); err != nil {
		return ui.Status{}, err
	}
	return c.Status(), nil
}

func (c *trayController) SerialPorts() ([]string, error) {
	ports, err := serial.GetPortsList()
	sort.Strings(ports)
	return ports, err
}

// SerialProfiles is every customer-display profile, auto first, named by
// display model where drivers differ (the one list is display.Profiles).
func (c *trayController) SerialProfiles() []string { return display.ProfileNames() }

func (c *trayController) OnSerialLine(fn func(string)) func() { return c.core.OnSerialLine(fn) }

// CaptureScreen grabs the whole virtual desktop for the region picker.
func (c *trayController) CaptureScreen() (image.Image, error) {
	n := screenshot.NumActiveDisplays()
	if n == 0 {
		return nil, errors.New("no screen to capture")
	}
	var all image.Rectangle
	for i := range n {
		all = all.Union(screenshot.GetDisplayBounds(i))
	}
	img, err := screenshot.CaptureRect(all)
	if err != nil {
		return nil, fmt.Errorf("cannot capture the screen: %w", err)
	}
	return img, nil
}

func (c *trayController) ReadRegion(r image.Rectangle) (string, money.Fen, error) {
	text, reading, err := c.core.ReadRegion(r)
	return text, reading.Amount, err
}

// CaptureNow reads the OCR region once when OCR is the source: the amount
// is read when the cashier opens the pay window, never in a loop.
func (c *trayController) CaptureNow() {
	c.core.CaptureNow()
}

// EnablePOSAPI turns the POS integration API on with a fresh token (for the
// Settings window); port 0 keeps the configured one. The owner's manager
// starts listening at once.
func (c *trayController) EnablePOSAPI(port int) error {
	_, err := posapi.Enable(c.core, port)
	return err
}

// DisablePOSAPI turns it off and deletes the token.
func (c *trayController) DisablePOSAPI() error { return posapi.Disable(c.core) }

// POSAPIState is where the POS API listens ("" when off) and why it does
// not although enabled (nil when fine), for the Settings window.
func (c *trayController) POSAPIState() (addr string, err error) {
	if c.owner == nil || c.owner.pos == nil {
		return "", nil
	}
	return c.owner.pos.Addr(), c.owner.pos.Err()
}

func (c *trayController) TestVoice() {
	c.speaker.Say(voice.PaidClips(order.ChannelWeChat, 123450))
}

func (c *trayController) DataDir() string { return c.dir }
