package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/kbinani/screenshot"
	"go.bug.st/serial"

	"github.com/scanbox/scanbox/app/ui"
	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/capture/display"
	"github.com/scanbox/scanbox/capture/ocr"
	"github.com/scanbox/scanbox/capture/scanner"
	"github.com/scanbox/scanbox/capture/serialport"
	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/journal"
	"github.com/scanbox/scanbox/logging"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient"
	"github.com/scanbox/scanbox/payflow"
	"github.com/scanbox/scanbox/scan"
	"github.com/scanbox/scanbox/version"
	"github.com/scanbox/scanbox/voice"
)

// errNotActivated refuses payments before activation, in one sentence.
var errNotActivated = ui.ErrNotActivated

// errPaymentInProgress refuses re-activation while an order is in flight.
var errPaymentInProgress = errors.New("a payment is in progress; activate again when it has finished")

// fanout calls every subscriber with each value.
type fanout[T any] struct {
	mu   sync.Mutex
	subs map[int]func(T)
	next int
}

func (f *fanout[T]) add(fn func(T)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[int]func(T){}
	}
	id := f.next
	f.next++
	f.subs[id] = fn
	return func() {
		f.mu.Lock()
		delete(f.subs, id)
		f.mu.Unlock()
	}
}

func (f *fanout[T]) emit(v T) {
	f.mu.Lock()
	fns := make([]func(T), 0, len(f.subs))
	for _, fn := range f.subs {
		fns = append(fns, fn)
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(v)
	}
}

// trayController implements ui.Controller over the real parts: the payment
// runner, journal, configuration, capture sources, logging and voice. It
// holds no payment logic: every charge goes through payflow.
type trayController struct {
	dir       string
	log       *slog.Logger
	ring      *logging.Ring
	logCloser io.Closer
	journal   *journal.Journal
	speaker   *voice.Speaker
	amount    capture.Current
	ocr       *ocr.Reader
	ctx       context.Context
	cancel    context.CancelFunc

	mu          sync.Mutex
	cfg         config.Config
	runner      *payflow.Runner
	stopRunner  func()
	offline     bool
	sourceErr   string
	stopSources func()
	announced   map[string]order.State
	// onLanguage is called (from the saving goroutine) after the language
	// changed, so the tray can rebuild its windows.
	onLanguage func()

	amountSubs fanout[ui.AmountReading]
	scanSubs   fanout[string]
	orderSubs  fanout[order.Order]
	statusSubs fanout[ui.Status]
	logSubs    fanout[struct{}]
	serialSubs fanout[string]
}

var _ ui.Controller = (*trayController)(nil)

// newTrayController opens everything in dir. It fails only when the data
// directory cannot be used at all (unwritable, or another ScanBox holds the
// journal lock); a broken optional part (sound, serial port, OCR) is logged
// and reported in the status instead.
func newTrayController(dir string, stderr io.Writer) (*trayController, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the data directory %s: %v", dir, err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, err
	}
	c := &trayController{dir: dir, cfg: cfg, announced: map[string]order.State{}}
	c.log, c.ring, c.logCloser = openLogs(dir, stderr)
	c.journal, err = journal.Open(dir, journal.WithLogger(c.log))
	if err != nil {
		c.logCloser.Close()
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.speaker = voice.New(voice.Options{Log: c.log, Volume: max(cfg.Volume, 1)})
	c.speaker.SetVolume(cfg.Volume)
	c.speaker.SetEnabled(cfg.Voice)
	c.ocr = ocr.NewReader(ocr.Options{})
	if c.ring != nil {
		go c.followRing()
	}
	go c.followAmount()
	if cfg.Activated() {
		if err := c.startRunner(); err != nil {
			c.log.Error("cannot start payments", "err", err)
		}
	}
	c.startSources()
	c.log.Info("tray started", "version", version.Version, "data_dir", dir, "activated", cfg.Activated())
	return c, nil
}

// Close stops everything, newest first.
func (c *trayController) Close() {
	c.cancel()
	c.mu.Lock()
	stopR, stopS := c.stopRunner, c.stopSources
	c.mu.Unlock()
	if stopR != nil {
		stopR()
	}
	if stopS != nil {
		stopS()
	}
	c.speaker.Close()
	c.ocr.Close()
	c.journal.Close()
	c.log.Info("tray stopped")
	c.logCloser.Close()
}

// followRing wakes the log view when the ring grows; nothing polls.
func (c *trayController) followRing() {
	for {
		ch := c.ring.Changed()
		select {
		case <-c.ctx.Done():
			return
		case <-ch:
			c.logSubs.emit(struct{}{})
		}
	}
}

func (c *trayController) followAmount() {
	ch, cancel := c.amount.Subscribe()
	defer cancel()
	for {
		select {
		case <-c.ctx.Done():
			return
		case r := <-ch:
			c.amountSubs.emit(ui.AmountReading{Amount: r.Amount, Source: r.Source.String(), At: r.At})
		}
	}
}

// startRunner builds the bank client and payment runner from the
// configuration and key, replacing any previous one.
func (c *trayController) startRunner() error {
	key, err := config.LoadKey(c.dir)
	if err != nil {
		return err
	}
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	client, err := payclient.New(payclient.Config{
		BaseURL: cfg.BankURL, MchID: cfg.MchID, TerminalID: cfg.TerminalID, Key: key, TerminalSN: cfg.TerminalSN,
		HTTPTimeout: cfg.HTTPTimeout.D(), DeviceIP: cfg.DeviceIP, Logger: c.log,
	})
	if err != nil {
		return err
	}
	r := payflow.New(c.journal, client, payflow.Config{
		PollInterval: cfg.PollInterval.D(), PollTimeout: cfg.PollTimeout.D(), Body: cfg.StoreName,
		MchID: cfg.MchID, TerminalID: cfg.TerminalID,
	}, c.log)
	ctx, cancel := context.WithCancel(c.ctx)
	unsub := r.Subscribe(c.orderChanged)
	go r.Background(ctx)
	c.mu.Lock()
	old := c.stopRunner
	c.runner = r
	c.stopRunner = func() { unsub(); cancel() }
	c.mu.Unlock()
	if old != nil {
		old()
	}
	c.statusSubs.emit(c.Status())
	return nil
}

func (c *trayController) getRunner() (*payflow.Runner, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runner == nil {
		return nil, errNotActivated
	}
	return c.runner, nil
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
		if r, ok := c.amount.Get(); ok && r.Amount == o.AmountFen {
			c.amount.Clear()
		}
	}
	c.orderSubs.emit(o)
	c.statusSubs.emit(c.Status())
}

func (c *trayController) Amount() (ui.AmountReading, bool) {
	r, ok := c.amount.Get()
	return ui.AmountReading{Amount: r.Amount, Source: r.Source.String(), At: r.At}, ok
}

func (c *trayController) OnAmount(fn func(ui.AmountReading)) func() { return c.amountSubs.add(fn) }

func (c *trayController) SetManualAmount(f money.Fen) {
	if err := c.amount.Set(capture.Reading{Amount: f, Source: capture.SourceManual, At: time.Now()}); err != nil {
		c.log.Warn("manual amount refused", "amount_fen", int64(f), "err", err)
	}
}

func (c *trayController) OnScan(fn func(string)) func() { return c.scanSubs.add(fn) }

func (c *trayController) Wallet(code string) (order.Channel, error) { return scan.Recognize(code) }

func (c *trayController) Pay(amount money.Fen, code string) (order.Order, error) {
	r, err := c.getRunner()
	if err != nil {
		return order.Order{}, err
	}
	// The runner drives the order on the program's context, not on a
	// request's: closing the pay window must not abandon a payment.
	return r.Start(c.ctx, payflow.PayRequest{Amount: amount, Code: code})
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

func (c *trayController) OnOrder(fn func(order.Order)) func() { return c.orderSubs.add(fn) }

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
	c.mu.Lock()
	cfg, r := c.cfg, c.runner
	st := ui.Status{Activated: cfg.Activated() && r != nil, MerchantName: cfg.MerchantName, StoreName: cfg.StoreName,
		StaticQR: cfg.StaticQR, Offline: c.offline, SourceErr: c.sourceErr}
	c.mu.Unlock()
	active := map[string]bool{}
	if r != nil {
		for _, no := range r.Active() {
			active[no] = true
		}
	}
	for _, o := range c.journal.Unresolved() {
		// An order being driven here (sending, waiting, closing) is in
		// progress; one left over (unknown, or from before a crash) needs
		// attention until the resolver or the cashier settles it.
		if active[o.OutTradeNo] {
			st.Waiting++
		} else {
			st.Unresolved++
		}
	}
	return st
}

func (c *trayController) OnStatus(fn func(ui.Status)) func() { return c.statusSubs.add(fn) }

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

func (c *trayController) OnLog(fn func(struct{})) func() { return c.logSubs.add(fn) }

// ExportSupport writes the zip support staff ask for: the log files, the
// recent orders as JSON and the configuration. config.json never holds a
// secret (the key is stored apart, protected), so it is copied as loaded;
// the pending activation's URL and numbers are not secret either.
func (c *trayController) ExportSupport(w io.Writer) error {
	z := zip.NewWriter(w)
	add := func(name string, data []byte) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	logs, _ := filepath.Glob(filepath.Join(logging.LogDir(c.dir), "*"))
	sort.Strings(logs)
	for _, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // a rotating file may vanish; the others still help
		}
		if err := add("logs/"+filepath.Base(p), b); err != nil {
			return err
		}
	}
	orders, _ := json.MarshalIndent(c.journal.Recent(100), "", "  ")
	if err := add("orders.json", orders); err != nil {
		return err
	}
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	cfgJSON, _ := json.MarshalIndent(cfg, "", "  ")
	if err := add("config.json", cfgJSON); err != nil {
		return err
	}
	about := fmt.Sprintf("%s %s\nos=%s arch=%s\ndata_dir=%s\nexported=%s\n", version.Product, version.Version,
		runtime.GOOS, runtime.GOARCH, c.dir, time.Now().Format(time.RFC3339))
	if err := add("about.txt", []byte(about)); err != nil {
		return err
	}
	c.log.Info("support bundle exported", "log_files", len(logs))
	return z.Close()
}

func (c *trayController) Settings() ui.Settings {
	c.mu.Lock()
	defer c.mu.Unlock()
	return settingsFromConfig(c.cfg)
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
	}
}

// applySettings writes s over cfg; fields the window does not edit stay.
func applySettings(cfg config.Config, s ui.Settings) (config.Config, error) {
	cfg.BankURL, cfg.MchID, cfg.TerminalID = s.BankURL, s.MchID, s.TerminalID
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
	return cfg, nil
}

// SaveSettings validates and saves, then applies what can change live:
// voice, language, sources, and the pacing (once no order is in flight).
func (c *trayController) SaveSettings(s ui.Settings) error {
	c.mu.Lock()
	old := c.cfg
	c.mu.Unlock()
	cfg, err := applySettings(old, s)
	if err != nil {
		return err
	}
	if err := config.Save(c.dir, cfg); err != nil {
		return err
	}
	c.mu.Lock()
	c.cfg = cfg
	r := c.runner
	c.mu.Unlock()
	c.log.Info("settings saved", "amount_source", cfg.Amount.Source, "scanner_mode", cfg.Scanner.Mode.String(),
		"voice", cfg.Voice, "volume", cfg.Volume, "language", cfg.Language)
	c.speaker.SetEnabled(cfg.Voice)
	c.speaker.SetVolume(cfg.Volume)
	if cfg.Amount != old.Amount || cfg.Scanner != old.Scanner {
		c.startSources()
	}
	if cfg.PollInterval != old.PollInterval || cfg.PollTimeout != old.PollTimeout || cfg.BankURL != old.BankURL {
		if r != nil && len(r.Active()) > 0 {
			c.log.Info("new pacing applies after the orders in flight end or at restart")
		} else if cfg.Activated() {
			if err := c.startRunner(); err != nil {
				c.log.Warn("payments restart failed", "err", err)
			}
		}
	}
	if cfg.Language != old.Language {
		ui.SetLanguage(ui.ParseLanguage(cfg.Language))
		if c.onLanguage != nil {
			c.onLanguage()
		}
	}
	return nil
}

// Activate calls /merchant/info and stores the key and the merchant data,
// then starts payments with the new key.
func (c *trayController) Activate(url, mch, term, code string) (ui.Status, error) {
	if err := payclient.CheckBaseURL(url); err != nil {
		return ui.Status{}, err
	}
	c.mu.Lock()
	cur, r := c.cfg, c.runner
	c.mu.Unlock()
	// A second runner must never drive orders the first one is driving,
	// and another terminal must never resolve this one's open orders.
	if r != nil && len(r.Active()) > 0 {
		return ui.Status{}, errPaymentInProgress
	}
	if cur.Activated() && (cur.MchID != mch || cur.TerminalID != term) {
		if err := unresolvedBlocksSwitch(c.journal.Unresolved(), cur.TerminalID); err != nil {
			return ui.Status{}, err
		}
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	info, err := payclient.Activate(ctx, payclient.ActivateRequest{BaseURL: url, MchID: mch, TerminalID: term,
		ActivationCode: code}, payclient.ActivateWithLogger(c.log))
	if err != nil {
		return ui.Status{}, fmt.Errorf("activation failed: %w", err)
	}
	if err := config.SaveKey(c.dir, info.Key); err != nil {
		return ui.Status{}, err
	}
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	cfg.BankURL, cfg.MchID, cfg.TerminalID = url, mch, term
	cfg.MerchantName, cfg.StoreName, cfg.StaticQR = info.MerchantName, info.StoreName, info.StaticQR
	cfg.TerminalSN, cfg.AreaCode = info.TerminalSN, info.AreaCode // bank API 1.1
	if err := config.Save(c.dir, cfg); err != nil {
		return ui.Status{}, err
	}
	c.mu.Lock()
	c.cfg = cfg
	c.mu.Unlock()
	c.log.Info("terminal activated", "mch_id", mch, "terminal_id", term, "merchant_name", info.MerchantName)
	if err := c.startRunner(); err != nil {
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

func (c *trayController) OnSerialLine(fn func(string)) func() { return c.serialSubs.add(fn) }

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
	img, err := ocr.Capture(r)
	if err != nil {
		return "", 0, err
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	res, err := c.ocr.Read(ctx, img)
	return res.Text, res.Amount, err
}

// CaptureNow reads the OCR region once when OCR is the source: the amount
// is read when the cashier opens the pay window, never in a loop.
func (c *trayController) CaptureNow() {
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	if cfg.Amount.Source != capture.SourceOCR.String() || cfg.Amount.OCR.Empty() {
		return
	}
	reg := cfg.Amount.OCR
	_, amount, err := c.ReadRegion(image.Rect(reg.X, reg.Y, reg.X+reg.W, reg.Y+reg.H))
	c.mu.Lock()
	if err != nil {
		c.sourceErr = oneLine(err.Error())
	} else {
		c.sourceErr = ""
	}
	c.mu.Unlock()
	if err != nil {
		c.log.Warn("OCR read failed", "err", err)
	} else if err := c.amount.Set(capture.Reading{Amount: amount, Source: capture.SourceOCR, At: time.Now()}); err != nil {
		c.log.Warn("OCR amount refused", "err", err)
	}
	c.statusSubs.emit(c.Status())
}

func (c *trayController) TestVoice() {
	c.speaker.Say(voice.PaidClips(order.ChannelWeChat, 123450))
}

func (c *trayController) DataDir() string { return c.dir }

// setSourceErr records (or clears, with "") a broken amount source or scanner.
func (c *trayController) setSourceErr(msg string) {
	c.mu.Lock()
	changed := c.sourceErr != msg
	c.sourceErr = msg
	c.mu.Unlock()
	if changed {
		c.statusSubs.emit(c.Status())
	}
}

// startSources (re)starts the serial customer-display sniffer and the
// scanner input from the configuration. Each runs on its own goroutine and
// reopens its port by itself; a failure is reported, never fatal.
func (c *trayController) startSources() {
	c.mu.Lock()
	cfg := c.cfg
	old := c.stopSources
	c.mu.Unlock()
	if old != nil {
		old()
	}
	ctx, cancel := context.WithCancel(c.ctx)
	var wg sync.WaitGroup
	var wedge *scanner.Wedge
	c.setSourceErr("")
	if cfg.Amount.Source == capture.SourceSerial.String() && cfg.Amount.Serial.Port != "" {
		if sn, err := c.sniffer(cfg.Amount.Serial); err != nil {
			c.setSourceErr(oneLine(err.Error()))
			c.log.Warn("serial amount source not started", "err", err)
		} else {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := sn.Run(ctx); err != nil && ctx.Err() == nil {
					c.setSourceErr(oneLine(err.Error()))
					c.log.Warn("serial amount source stopped", "err", err)
				}
			}()
		}
	}
	switch cfg.Scanner.Mode {
	case config.ScannerSerial:
		if cfg.Scanner.Port != "" {
			s := &scanner.Serial{Port: serialport.Config{Name: cfg.Scanner.Port, Baud: cfg.Scanner.Baud},
				OnCode: c.scanSubs.emit,
				OnStatus: func(st serialport.Status) {
					c.log.Info("scanner port", "status", st.String())
				}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Run(ctx); err != nil && ctx.Err() == nil {
					c.setSourceErr(oneLine(err.Error()))
				}
			}()
		}
	case config.ScannerWedge:
		w, err := scanner.StartWedge(scanner.BurstConfig{MaxGap: cfg.Scanner.WedgeMaxGap.D()}, c.scanSubs.emit)
		if err != nil {
			// Without the hook a wedge scanner still types into the pay
			// window's code field, so this is not an attention state.
			c.log.Info("keyboard-wedge capture unavailable; scans go to the focused window", "err", err)
		} else {
			wedge = w
		}
	}
	c.mu.Lock()
	c.stopSources = func() {
		cancel()
		if wedge != nil {
			wedge.Close()
		}
		wg.Wait()
	}
	c.mu.Unlock()
}

func (c *trayController) sniffer(s config.SerialConfig) (*display.Sniffer, error) {
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
			c.serialSubs.emit(fmt.Sprintf("%s total %s (%s)", time.Now().Format("15:04:05"), e.Amount, e.Profile))
		},
		OnStatus: func(st serialport.Status) {
			c.serialSubs.emit(time.Now().Format("15:04:05") + " " + st.String())
			if st.Err != nil {
				c.setSourceErr(oneLine(st.String()))
			} else {
				c.setSourceErr("")
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
