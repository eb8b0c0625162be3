// Package ui holds ScanBox's fyne views: the tray menu, the pay window, the
// customer-scans (dynamic QR) window, recent orders, logs, settings and
// about. Views talk only to the Controller interface below; app/ wires it to
// the payment runner, journal, configuration, capture and logging. The views
// must never call the bank, the journal or the disk themselves, never block
// the UI thread (slow calls go through Env.Go, results come back through
// fyne.Do), and never import fyne.io/fyne/v2/app, so that their tests run
// headless with fyne's test driver even with CGO_ENABLED=0.
package ui

import (
	"image"
	"io"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"

	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
)

// AmountReading is the captured amount: what, from where, when.
type AmountReading struct {
	Amount money.Fen
	Source string // "manual", "serial" or "ocr"
	At     time.Time
}

// LogLine is one line of the log ring.
type LogLine struct {
	Seq   uint64 // increasing; Logs(after) returns lines with Seq > after
	Time  time.Time
	Level slog.Level
	Text  string // the formatted line, without time and level
}

// Status is what the tray icon shows.
type Status struct {
	Activated    bool
	MerchantName string
	StoreName    string
	StaticQR     string // the store's static QR payload, from activation
	Offline      bool   // the last bank call failed to communicate
	Waiting      int    // orders waiting for the payer
	Unresolved   int    // orders without a definite outcome (not being waited on)
	SourceErr    string // the amount source is broken: one sentence
}

// Settings are the fields the settings window edits.
type Settings struct {
	BankURL    string
	MchID      string
	TerminalID string

	AmountSource  string // "manual", "serial", "ocr"
	SerialPort    string
	SerialBaud    int
	SerialParity  string // "none", "odd", "even"
	SerialProfile string // customer-display protocol name
	SerialForward string // port of the real display, "" for none
	OCRRegion     image.Rectangle

	ScannerMode   string // "wedge" or "serial"
	ScannerPort   string
	ScannerBaud   int
	WedgeMaxGapMS int // keystrokes closer than this are a scanner, not a person

	PollInterval time.Duration
	PollTimeout  time.Duration
	AutoCloseSec int // close the pay window this long after success; 0 never
	Hotkey       string

	VoiceOn  bool
	Volume   int // 0–100
	Language string

	// MaxAmountAge: an amount seen longer ago than this is not charged by a
	// scan without asking the cashier (config amount.max_amount_age).
	MaxAmountAge time.Duration
	// MaxPayment is the largest amount one payment may take; ConfirmAbove
	// asks the cashier to confirm an amount at or above it, shown large
	// (0: never ask).
	MaxPayment   money.Fen
	ConfirmAbove money.Fen

	// ReceiptPrinter is a receipt.Target ("" none, "spool:NAME",
	// "serial:PORT@BAUD", "file:PATH"); ReceiptPaper "80mm" or "58mm";
	// PaymentSlips prints a slip for each payment too.
	ReceiptPrinter string
	ReceiptPaper   string
	PaymentSlips   bool
	// ReconcileAt is when the tray reconciles yesterday each morning,
	// "HH:MM" (China time), or "off".
	ReconcileAt string
}

// Defaults for the amount guards when the configuration has none.
const (
	DefaultMaxPayment   money.Fen = 1_000_000 // 10,000.00 yuan
	DefaultConfirmAbove money.Fen = 200_000   // 2,000.00 yuan
	DefaultMaxAmountAge           = 2 * time.Minute
)

// Controller is everything the views need. Methods marked "slow" may block
// on the network or disk and are called through Env.Go; the others return at
// once. The On* subscriptions call back on any goroutine; views pass the
// update to the UI thread with fyne.Do.
type Controller interface {
	// Amount is the current captured amount, if any.
	Amount() (AmountReading, bool)
	OnAmount(func(AmountReading)) (cancel func())
	// SetManualAmount records the cashier's correction as the current amount.
	SetManualAmount(money.Fen)
	// OnScan delivers codes from the scan box (serial or keyboard wedge).
	OnScan(func(code string)) (cancel func())
	// Wallet recognises a code's wallet from its shape, or says why not.
	Wallet(code string) (order.Channel, error)

	// Pay journals the order and starts the charge; it returns at once with
	// the order (or an error when refused before anything was sent).
	Pay(amount money.Fen, code string) (order.Order, error)
	Precreate(amount money.Fen) (order.Order, error) // slow
	Cancel(outTradeNo string) bool
	OnOrder(func(order.Order)) (cancel func())
	Recent(n int) []order.Order
	Requery(outTradeNo string) (order.Order, error)    // slow
	CloseOrder(outTradeNo string) (order.Order, error) // slow

	Status() Status
	OnStatus(func(Status)) (cancel func())

	// Logs returns up to max lines with Seq > after, oldest first.
	Logs(after uint64, max int) []LogLine
	// OnLog is called when new lines arrive (no polling); the argument
	// carries nothing.
	OnLog(func(struct{})) (cancel func())
	// ExportSupport writes a zip of logs, recent orders and the configuration
	// with secrets removed.
	ExportSupport(w io.Writer) error // slow

	Settings() Settings
	SaveSettings(Settings) error                              // slow
	Activate(url, mch, terminal, code string) (Status, error) // slow
	SerialPorts() ([]string, error)                           // slow
	SerialProfiles() []string                                 //
	// OnSerialLine reports what the customer-display line carries (totals,
	// port state), one line each, for the settings' live view.
	OnSerialLine(func(string)) (cancel func())
	CaptureScreen() (image.Image, error)                                     // slow
	ReadRegion(r image.Rectangle) (text string, amount money.Fen, err error) // slow
	// CaptureNow refreshes the amount from a source that reads on demand
	// (OCR reads when the pay window opens, never in a loop). Slow.
	CaptureNow()
	// ReadAmountNow reads the amount source once more and returns that
	// fresh reading (bounded: it gives up after a few seconds), or why
	// there is none. The pay window calls it for a scan when OCR is the
	// source, so that the scan charges the screen's amount of now. Slow.
	ReadAmountNow() (AmountReading, error)
	TestVoice()
	// VoiceError is the last playback error (nil when the last sentence
	// played): what 试听 reports when nothing can be heard.
	VoiceError() error
	DataDir() string
}

// Env is what every view is built with.
type Env struct {
	App  fyne.App
	Ctrl Controller
	Now  func() time.Time
	// Receipts lists and tests receipt printers for Settings (nil: the
	// printer can be set but not tested).
	Receipts ReceiptController
	// Go runs slow work off the UI thread. Tests make it synchronous.
	Go func(func())
	// Every calls fn on the UI thread every d until stop is called. Tests
	// replace it with a manual clock.
	Every func(d time.Duration, fn func()) (stop func())

	// handoff carries the pay and QR windows' in-flight orders over a
	// rebuild (a language switch): the new window shows them, and takes no
	// second order while one is open.
	handoff struct {
		pay    *payState
		qr     *order.Order
		payWin *PayWindow // the pay window in use (the newest built)
	}
}

// NewEnv fills the defaults: real clock, goroutines, tickers.
func NewEnv(a fyne.App, c Controller) *Env {
	return &Env{App: a, Ctrl: c, Now: time.Now, Go: func(f func()) { go f() }, Every: every}
}

func every(d time.Duration, fn func()) (stop func()) {
	t := time.NewTicker(d)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-t.C:
				fyne.Do(fn)
			case <-done:
				return
			}
		}
	}()
	var stopped bool
	return func() {
		if !stopped {
			stopped = true
			t.Stop()
			close(done)
		}
	}
}
