// Package config owns ScanBox's settings and its data directory: one Config
// struct with documented defaults, stored as DATA_DIR/config.json with an
// atomic save, and the secrets (the terminal's signing key and an installer's
// pending activation code), which are stored apart from the config, protected
// at rest (DPAPI on Windows, a 0600 file elsewhere). It must never log or
// print a secret, and never put one in config.json.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/capture/display"
	"github.com/scanbox/scanbox/capture/serialport"
	"github.com/scanbox/scanbox/money"
)

// FileName is the configuration file inside the data directory.
const FileName = "config.json"

// ErrInvalid is behind every validation error.
var ErrInvalid = errors.New("config: invalid")

// Duration is a time.Duration written in config.json as a Go duration
// string ("3s", "250ms") rather than as nanoseconds.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("not a duration like \"3s\" or \"250ms\": %q", b)
	}
	*d = Duration(v)
	return nil
}

// ScannerMode is how the payment-code scanner is connected.
type ScannerMode int

const (
	// ScannerWedge: the scanner types like a keyboard; ScanBox tells its
	// bursts from human typing by the gap between keys (WedgeMaxGap).
	ScannerWedge ScannerMode = iota
	// ScannerSerial: the scanner is a (virtual) COM port.
	ScannerSerial
)

var scannerModeNames = [...]string{"wedge", "serial"}

func (m ScannerMode) String() string {
	if m < 0 || int(m) >= len(scannerModeNames) {
		return fmt.Sprintf("scanner_mode(%d)", int(m))
	}
	return scannerModeNames[m]
}

// ParseScannerMode is the one parser for ScannerMode; it ignores case and
// surrounding spaces (config files are edited by hand).
func ParseScannerMode(s string) (ScannerMode, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, n := range scannerModeNames {
		if n == t {
			return ScannerMode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown scanner mode %q (use wedge or serial)", s)
}

func (m ScannerMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }
func (m *ScannerMode) UnmarshalText(b []byte) error {
	v, err := ParseScannerMode(string(b))
	*m = v
	return err
}

// Languages are the UI languages ScanBox ships; the first is the default.
var Languages = []string{"zh-CN", "en"}

// Config is everything ScanBox remembers between runs except secrets.
// JSON keys are stable: old files must keep loading. Defaults are in Default.
type Config struct {
	// Bank connection, set by activation.
	BankURL      string `json:"bank_url"`      // e.g. https://pay.bank.example/device/v1
	MchID        string `json:"mch_id"`        // merchant number
	TerminalID   string `json:"terminal_id"`   // this device's terminal number
	MerchantName string `json:"merchant_name"` // from /merchant/info, shown in the UI
	StoreName    string `json:"store_name"`    // from /merchant/info; also the micropay body
	StaticQR     string `json:"static_qr"`     // the store's static QR payload (a URL)
	// Bank API 1.1, from activation: the terminal serial number the bank
	// registered (sent as device_sn) and the shop's area code. Empty on a
	// terminal activated before 1.1: it must be activated again to pay.
	// (device_id is never stored: it is derived from the PC each start.)
	TerminalSN string `json:"terminal_sn,omitempty"`
	AreaCode   string `json:"area_code,omitempty"`
	// DeviceIP is sent as micropay's device_ip; empty means "detect".
	DeviceIP string `json:"device_ip,omitempty"`

	// Payment pacing (bank-api.md "Recommended client procedure").
	PollInterval Duration `json:"poll_interval"` // default 3s
	PollTimeout  Duration `json:"poll_timeout"`  // default 45s, measured from the micropay
	HTTPTimeout  Duration `json:"http_timeout"`  // default 10s per request
	// AutoCloseAfterSuccess closes the pay window this long after "paid"
	// (default 3s); 0 leaves it open until the cashier closes it.
	AutoCloseAfterSuccess Duration `json:"auto_close_after_success"`

	Language string `json:"language"` // one of Languages; default "zh-CN"
	Voice    bool   `json:"voice"`    // speak results; default on
	Volume   int    `json:"volume"`   // 0..100; default 80

	Amount  AmountConfig  `json:"amount"`
	Scanner ScannerConfig `json:"scanner"`
	// Receipt is the optional receipt printer (docs/receipts.md); off
	// when Printer is empty. A printer that fails never affects payments.
	Receipt ReceiptConfig `json:"receipt,omitzero"`
	// ReconcileAt is when (HH:MM, China time) the running tray or serve
	// reconciles yesterday with the bank's bill each day; "" means 09:00,
	// "off" never.
	ReconcileAt string `json:"reconcile_at,omitempty"`

	// MaxPayment is the largest amount one payment may take (default
	// 10,000.00 yuan): an amount with two zeros too many must never reach
	// the bank. ConfirmAbove makes the pay window ask, with the amount shown
	// large, for amounts at or above it (default 2,000.00 yuan; 0 never).
	MaxPayment   money.Fen `json:"max_payment_fen"`
	ConfirmAbove money.Fen `json:"confirm_above_fen"`

	// Hotkey opens the pay window. The default is a chord POS software
	// rarely binds; "" disables it.
	Hotkey string `json:"hotkey"`

	// POSAPI is the optional JSON API for POS software (docs/pos-api.md);
	// off unless enabled.
	POSAPI POSAPIConfig `json:"pos_api,omitzero"`

	// PendingActivation is what a silent install left for the first start
	// (the activation code itself is a secret: SavePendingActivationCode).
	PendingActivation PendingActivation `json:"pending_activation,omitzero"`
}

// POSAPIConfig is the POS integration API: JSON over HTTP on 127.0.0.1
// only, with a bearer token kept in the data directory (posapi owns it).
type POSAPIConfig struct {
	Enabled bool `json:"enabled"`
	Port    int  `json:"port,omitempty"` // on 127.0.0.1; 0 means posapi.DefaultPort
	// AllowOrigins are the browser origins allowed to call it (CORS),
	// separated by commas or spaces; none by default, so that no web page
	// can drive payments. A string, so that Config stays comparable.
	AllowOrigins string `json:"allow_origins,omitempty"`
}

// AmountConfig says where the amount to charge comes from.
// ReceiptConfig says where and how slips are printed.
type ReceiptConfig struct {
	// Printer is a receipt.Target: "" (none), "spool:NAME",
	// "serial:PORT[@BAUD]" or "file:PATH".
	Printer string `json:"printer,omitempty"`
	// Paper is "80mm" (default) or "58mm".
	Paper string `json:"paper,omitempty"`
	// PaymentSlips also prints a slip for each payment (refund slips and
	// shift summaries are printed whenever a printer is set).
	PaymentSlips bool `json:"payment_slips,omitempty"`
}

type AmountConfig struct {
	// Source is a capture.Source name: manual, serial or ocr (default manual).
	Source string       `json:"source"`
	Serial SerialConfig `json:"serial"`
	OCR    OCRRegion    `json:"ocr"`
	// MaxAmountAge: an amount older than this is not charged without the
	// cashier confirming it (default 120s).
	MaxAmountAge Duration `json:"max_amount_age"`
}

// SerialConfig is the customer-display line that the serial source sniffs.
// Names are parsed by the capture packages that own them.
type SerialConfig struct {
	Port        string `json:"port"`         // COM3, /dev/ttyUSB0
	Baud        int    `json:"baud"`         // default 9600
	DataBits    int    `json:"data_bits"`    // 5..8, default 8
	Parity      string `json:"parity"`       // serialport.ParseParity: none (default), odd, even, mark, space
	StopBits    string `json:"stop_bits"`    // serialport.ParseStopBits: "1" (default), "1.5", "2"
	Profile     string `json:"profile"`      // display.ParseProfile: auto (default), led8, cd5220, escpos, text
	ForwardPort string `json:"forward_port"` // pass bytes through to the real display; "" = none
}

// OCRRegion is the screen rectangle (pixels) holding the POS total.
type OCRRegion struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Empty reports that no region has been chosen.
func (r OCRRegion) Empty() bool { return r.W == 0 || r.H == 0 }

// ScannerConfig is how payment codes arrive.
type ScannerConfig struct {
	Mode ScannerMode `json:"mode"` // default wedge
	Port string      `json:"port"` // serial mode only
	Baud int         `json:"baud"` // serial mode; default 9600
	// WedgeMaxGap is the longest gap between keys of one scan (default
	// 30ms); people type slower.
	WedgeMaxGap Duration `json:"wedge_max_gap"`
}

// PendingActivation is what the installer's silent path leaves for the first
// start to activate with.
type PendingActivation struct {
	URL        string `json:"url,omitempty"`
	MchID      string `json:"mch_id,omitempty"`
	TerminalID string `json:"terminal_id,omitempty"`
}

// IsZero reports that no activation is pending.
func (p PendingActivation) IsZero() bool { return p == PendingActivation{} }

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Default returns the configuration of a fresh install.
func Default() Config {
	return Config{
		PollInterval:          Duration(3 * time.Second),
		PollTimeout:           Duration(45 * time.Second),
		HTTPTimeout:           Duration(10 * time.Second),
		AutoCloseAfterSuccess: Duration(3 * time.Second),
		Language:              Languages[0],
		Voice:                 true,
		Volume:                80,
		Amount: AmountConfig{
			Source: "manual",
			Serial: SerialConfig{
				Baud:     9600,
				DataBits: 8,
				Parity:   "none",
				StopBits: "1",
				Profile:  "auto",
			},
			MaxAmountAge: Duration(120 * time.Second),
		},
		Scanner: ScannerConfig{
			Mode:        ScannerWedge,
			Baud:        9600,
			WedgeMaxGap: Duration(30 * time.Millisecond),
		},
		Hotkey:       "Ctrl+Alt+F9",
		MaxPayment:   1_000_000,
		ConfirmAbove: 200_000,
	}
}

// Activated reports whether the bank connection is configured (the key is
// checked separately with LoadKey).
func (c Config) Activated() bool {
	return c.BankURL != "" && c.MchID != "" && c.TerminalID != ""
}

// Validate reports every invalid value at once, naming the JSON key.
func (c Config) Validate() error {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }

	if c.BankURL != "" {
		if u, err := url.Parse(c.BankURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("bank_url must be an https:// address, got %q", c.BankURL)
		}
	}
	for _, f := range []struct{ key, v string }{{"mch_id", c.MchID}, {"terminal_id", c.TerminalID},
		{"pending_activation.mch_id", c.PendingActivation.MchID}, {"pending_activation.terminal_id", c.PendingActivation.TerminalID}} {
		if len(f.v) > 32 {
			bad("%s must be at most 32 characters", f.key)
		}
	}
	if c.TerminalSN != "" && (len(c.TerminalSN) < 8 || len(c.TerminalSN) > 32 || strings.Trim(c.TerminalSN, alnum) != "") {
		bad("terminal_sn must be 8 to 32 of [0-9A-Za-z], got %q", c.TerminalSN)
	}
	if c.AreaCode != "" && (len(c.AreaCode) != 6 || strings.Trim(c.AreaCode, "0123456789") != "") {
		bad("area_code must be 6 digits, got %q", c.AreaCode)
	}
	if c.DeviceIP != "" && net.ParseIP(c.DeviceIP) == nil {
		bad("device_ip must be an IP address, got %q", c.DeviceIP)
	}
	if c.PollInterval <= 0 {
		bad("poll_interval must be positive, got %s", c.PollInterval)
	}
	if c.PollTimeout < c.PollInterval {
		bad("poll_timeout (%s) must be at least poll_interval (%s)", c.PollTimeout, c.PollInterval)
	}
	if c.HTTPTimeout <= 0 {
		bad("http_timeout must be positive, got %s", c.HTTPTimeout)
	}
	if c.POSAPI.Port < 0 || c.POSAPI.Port > 65535 {
		bad("pos_api.port must be between 1 and 65535 (0: the default), got %d", c.POSAPI.Port)
	}
	if c.AutoCloseAfterSuccess < 0 {
		bad("auto_close_after_success must not be negative, got %s", c.AutoCloseAfterSuccess)
	}
	if !slices.Contains(Languages, c.Language) {
		bad("language must be one of %s, got %q", strings.Join(Languages, ", "), c.Language)
	}
	if c.Volume < 0 || c.Volume > 100 {
		bad("volume must be 0 to 100, got %d", c.Volume)
	}
	if _, err := capture.ParseSource(c.Amount.Source); err != nil {
		bad("amount.source: %v", err)
	}
	s := c.Amount.Serial
	if s.Baud <= 0 {
		bad("amount.serial.baud must be positive, got %d", s.Baud)
	}
	if s.DataBits < 5 || s.DataBits > 8 {
		bad("amount.serial.data_bits must be 5 to 8, got %d", s.DataBits)
	}
	if _, err := serialport.ParseParity(s.Parity); err != nil {
		bad("amount.serial.parity: %v", err)
	}
	if _, err := serialport.ParseStopBits(s.StopBits); err != nil {
		bad("amount.serial.stop_bits: %v", err)
	}
	if _, err := display.ParseProfile(s.Profile); err != nil {
		bad("amount.serial.profile: %v", err)
	}
	if s.ForwardPort != "" && s.ForwardPort == s.Port {
		bad("amount.serial.forward_port must differ from amount.serial.port")
	}
	if r := c.Amount.OCR; r.X < 0 || r.Y < 0 || r.W < 0 || r.H < 0 {
		bad("amount.ocr region must not have negative values, got %d,%d,%d,%d", r.X, r.Y, r.W, r.H)
	}
	if c.Amount.MaxAmountAge <= 0 {
		bad("amount.max_amount_age must be positive, got %s", c.Amount.MaxAmountAge)
	}
	if c.MaxPayment <= 0 || c.MaxPayment > money.Max {
		bad("max_payment_fen must be 1 to %d, got %d", int64(money.Max), int64(c.MaxPayment))
	}
	if c.ConfirmAbove < 0 || c.ConfirmAbove > c.MaxPayment {
		bad("confirm_above_fen must be 0 to max_payment_fen (%d), got %d", int64(c.MaxPayment), int64(c.ConfirmAbove))
	}
	if c.Scanner.Mode != ScannerWedge && c.Scanner.Mode != ScannerSerial {
		bad("scanner.mode is invalid (%d)", int(c.Scanner.Mode))
	}
	if c.Scanner.Mode == ScannerSerial && c.Scanner.Port == "" {
		bad("scanner.port is required when scanner.mode is serial")
	}
	if c.Scanner.Baud <= 0 {
		bad("scanner.baud must be positive, got %d", c.Scanner.Baud)
	}
	if c.Scanner.WedgeMaxGap <= 0 {
		bad("scanner.wedge_max_gap must be positive, got %s", c.Scanner.WedgeMaxGap)
	}
	if c.PendingActivation.URL != "" {
		if u, err := url.Parse(c.PendingActivation.URL); err != nil || u.Host == "" {
			bad("pending_activation.url must be an address, got %q", c.PendingActivation.URL)
		}
	}
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(p, "; "))
}

// Load reads DATA_DIR/config.json over the defaults: a missing file gives
// Default(), a missing key keeps its default, an unknown key is ignored (a
// newer version may have written it). A file that is not valid JSON or holds
// an invalid value is an error naming the file and the problem.
func Load(dir string) (Config, error) {
	path := filepath.Join(dir, FileName)
	c := Default()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("config: read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(data, se.Offset)
			return Default(), fmt.Errorf("config: %s is damaged at line %d, column %d: %v", path, line, col, se)
		}
		return Default(), fmt.Errorf("config: %s: %v", path, strings.TrimPrefix(err.Error(), "json: "))
	}
	if err := c.Validate(); err != nil {
		return Default(), fmt.Errorf("config: %s: %w", path, err)
	}
	return c, nil
}

func lineCol(data []byte, off int64) (line, col int) {
	line, col = 1, 1
	for i := 0; i < int(off) && i < len(data); i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// Save validates c and writes it atomically (temp file, fsync, rename, dir
// fsync): a crash leaves the old or the new file, never half of one.
func Save(dir string, c Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("config: not saved: %w", err)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("config: encode: %w", err)
	}
	data = append(data, '\n')
	if err := writeFileAtomic(dir, FileName, data, 0o644); err != nil {
		return fmt.Errorf("config: save: %w", err)
	}
	return nil
}

// rename is os.Rename; tests replace it to fail at the last step.
var rename = os.Rename

// writeFileAtomic replaces dir/name with data.
//
// Crash safety: the temp file is fsynced before the rename and the directory
// after it, so the rename cannot reach the disk before the content does.
func writeFileAtomic(dir, name string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file 0600; widen (or keep) before any data.
	if err := f.Chmod(perm); err != nil && !isWindows {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}
