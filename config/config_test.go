package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValidAndDocumented(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default() invalid: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"poll_interval", c.PollInterval.D(), 3 * time.Second},
		{"poll_timeout", c.PollTimeout.D(), 45 * time.Second},
		{"http_timeout", c.HTTPTimeout.D(), 10 * time.Second},
		{"language", c.Language, "zh-CN"},
		{"voice", c.Voice, true},
		{"amount.source", c.Amount.Source, "manual"},
		{"baud", c.Amount.Serial.Baud, 9600},
		{"data_bits", c.Amount.Serial.DataBits, 8},
		{"parity", c.Amount.Serial.Parity, "none"},
		{"stop_bits", c.Amount.Serial.StopBits, "1"},
		{"profile", c.Amount.Serial.Profile, "auto"},
		{"max_amount_age", c.Amount.MaxAmountAge.D(), 120 * time.Second},
		{"scanner.mode", c.Scanner.Mode, ScannerWedge},
		{"wedge_max_gap", c.Scanner.WedgeMaxGap.D(), 30 * time.Millisecond},
		{"hotkey", c.Hotkey, "Ctrl+Alt+F9"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("default %s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if c.Activated() {
		t.Error("a fresh config claims to be activated")
	}
}

func TestLoadMissingGivesDefaults(t *testing.T) {
	c, err := Load(testDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if c != Default() {
		t.Fatalf("Load of empty dir = %+v", c)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := testDir(t)
	c := Default()
	c.BankURL = "https://pay.bank.example/device/v1"
	c.MchID, c.TerminalID = "M100", "T7"
	c.MerchantName, c.StoreName = "好又多超市", "一号店"
	c.PollInterval = Duration(1500 * time.Millisecond)
	c.Voice = false
	c.Volume = 0
	c.Amount.Source = "serial"
	c.Amount.Serial.Port = "COM3"
	c.Amount.Serial.ForwardPort = "COM4"
	c.Amount.OCR = OCRRegion{X: 10, Y: 20, W: 300, H: 40}
	c.Scanner = ScannerConfig{Mode: ScannerSerial, Port: "COM5", Baud: 115200, WedgeMaxGap: Duration(20 * time.Millisecond)}
	c.PendingActivation = PendingActivation{URL: "https://pay.bank.example/device/v1", MchID: "M100", TerminalID: "T7"}
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got != c {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	for _, want := range []string{`"poll_interval": "1.5s"`, `"wedge_max_gap": "20ms"`, `"mode": "serial"`, `"voice": false`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("config.json lacks %s:\n%s", want, raw)
		}
	}
	if !c.Activated() {
		t.Error("Activated() false with url, mch and terminal set")
	}
}

func TestLoadPartialAndUnknownKeys(t *testing.T) {
	dir := testDir(t)
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{
  "mch_id": "M1",
  "poll_timeout": "30s",
  "future_setting": {"nested": [1, 2]},
  "amount": {"serial": {"port": "COM9"}}
}`), 0o644)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.MchID = "M1"
	want.PollTimeout = Duration(30 * time.Second)
	want.Amount.Serial.Port = "COM9"
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string
	}{
		{"truncated", `{"mch_id": "M1", "poll_`, []string{"damaged", "line 1"}},
		{"garbage on line 3", "{\n  \"mch_id\": \"M1\",\n  oops\n}", []string{"damaged", "line 3"}},
		{"bad duration", `{"poll_interval": "3 seconds"}`, []string{"3 seconds", "duration"}},
		{"number as duration", `{"poll_interval": 3}`, []string{"poll_interval"}},
		{"zero interval", `{"poll_interval": "0s"}`, []string{"poll_interval must be positive"}},
		{"bad language", `{"language": "fr"}`, []string{"language must be one of zh-CN, en"}},
		{"bad scanner mode", `{"scanner": {"mode": "bluetooth"}}`, []string{"bluetooth", "wedge or serial"}},
		{"bad parity", `{"amount": {"serial": {"parity": "sometimes"}}}`, []string{"amount.serial.parity", "sometimes"}},
		{"bad source", `{"amount": {"source": "telepathy"}}`, []string{"amount.source", "telepathy"}},
		{"two problems", `{"volume": 101, "http_timeout": "-1s"}`, []string{"volume must be 0 to 100", "http_timeout must be positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testDir(t)
			path := filepath.Join(dir, FileName)
			os.WriteFile(path, []byte(tt.file), 0o644)
			c, err := Load(dir)
			if err == nil {
				t.Fatalf("Load accepted %s: %+v", tt.file, c)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Errorf("error %q does not name the file", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line", msg)
			}
			if c != Default() {
				t.Errorf("a failed Load returned %+v, not the defaults", c)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"http bank url", func(c *Config) { c.BankURL = "http://127.0.0.1:8080/device/v1" }, ""},
		{"ftp bank url", func(c *Config) { c.BankURL = "ftp://bank" }, "bank_url"},
		{"relative bank url", func(c *Config) { c.BankURL = "pay.bank.example" }, "bank_url"},
		{"long mch", func(c *Config) { c.MchID = strings.Repeat("9", 33) }, "mch_id"},
		{"device ip", func(c *Config) { c.DeviceIP = "192.168.1.20" }, ""},
		{"bad device ip", func(c *Config) { c.DeviceIP = "pos-pc" }, "device_ip"},
		{"timeout below interval", func(c *Config) { c.PollTimeout = Duration(time.Second) }, "poll_timeout"},
		{"negative autoclose", func(c *Config) { c.AutoCloseAfterSuccess = -1 }, "auto_close_after_success"},
		{"autoclose off", func(c *Config) { c.AutoCloseAfterSuccess = 0 }, ""},
		{"english", func(c *Config) { c.Language = "en" }, ""},
		{"volume", func(c *Config) { c.Volume = -1 }, "volume"},
		{"data bits", func(c *Config) { c.Amount.Serial.DataBits = 9 }, "data_bits"},
		{"baud", func(c *Config) { c.Amount.Serial.Baud = 0 }, "amount.serial.baud"},
		{"stop bits 1.5", func(c *Config) { c.Amount.Serial.StopBits = "1.5" }, ""},
		{"stop bits 3", func(c *Config) { c.Amount.Serial.StopBits = "3" }, "stop_bits"},
		{"profile", func(c *Config) { c.Amount.Serial.Profile = "vfd9000" }, "profile"},
		{"forward to itself", func(c *Config) { c.Amount.Serial.Port, c.Amount.Serial.ForwardPort = "COM3", "COM3" }, "forward_port"},
		{"negative ocr", func(c *Config) { c.Amount.OCR.W = -5 }, "amount.ocr"},
		{"max age", func(c *Config) { c.Amount.MaxAmountAge = 0 }, "max_amount_age"},
		{"serial scanner without port", func(c *Config) { c.Scanner.Mode = ScannerSerial }, "scanner.port"},
		{"scanner mode out of range", func(c *Config) { c.Scanner.Mode = 7 }, "scanner.mode"},
		{"wedge gap", func(c *Config) { c.Scanner.WedgeMaxGap = 0 }, "wedge_max_gap"},
		{"pending url", func(c *Config) { c.PendingActivation.URL = "::" }, "pending_activation.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an ErrInvalid naming %s", err, tt.want)
			}
		})
	}
}

func TestSaveRefusesInvalid(t *testing.T) {
	dir := testDir(t)
	c := Default()
	c.Volume = 500
	if err := Save(dir, c); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Save(invalid) = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an invalid config was written")
	}
}

func TestAtomicSaveLeavesNoTempFiles(t *testing.T) {
	dir := testDir(t)
	for i := range 5 {
		c := Default()
		c.Volume = i * 10
		if err := Save(dir, c); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != FileName {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("data dir holds %v, want only %s", names, FileName)
	}
	c, _ := Load(dir)
	if c.Volume != 40 {
		t.Fatalf("last save lost: volume %d", c.Volume)
	}
	st, _ := os.Stat(filepath.Join(dir, FileName))
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
		t.Errorf("config.json mode %v", st.Mode().Perm())
	}
}

func TestAtomicSaveFailureKeepsOldFile(t *testing.T) {
	dir := testDir(t)
	if err := Save(dir, Default()); err != nil {
		t.Fatal(err)
	}
	// Fail at the last step, after the temp file is written and synced.
	rename = func(string, string) error { return errors.New("injected rename failure") }
	defer func() { rename = os.Rename }()
	c := Default()
	c.Volume = 1
	if err := Save(dir, c); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("Save with a failing rename = %v", err)
	}
	got, err := Load(dir)
	if err != nil || got.Volume != Default().Volume {
		t.Fatalf("old config damaged: %+v %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("a failed save left %d files", len(entries))
	}
	// A data directory path that cannot be created fails cleanly too.
	blocker := filepath.Join(dir, FileName)
	if err := Save(filepath.Join(blocker, "sub"), Default()); err == nil {
		t.Fatal("Save under a file succeeded")
	}
}

func TestScannerModeRoundTrip(t *testing.T) {
	for _, m := range []ScannerMode{ScannerWedge, ScannerSerial} {
		got, err := ParseScannerMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseScannerMode(%q) = %v, %v", m.String(), got, err)
		}
		b, _ := m.MarshalText()
		var back ScannerMode
		if err := back.UnmarshalText(b); err != nil || back != m {
			t.Errorf("text round trip of %v: %v, %v", m, back, err)
		}
	}
	if m, err := ParseScannerMode(" Serial "); err != nil || m != ScannerSerial {
		t.Errorf("case/space-insensitive parse: %v, %v", m, err)
	}
	if _, err := ParseScannerMode(""); err == nil {
		t.Error("empty scanner mode accepted")
	}
}

func TestDurationText(t *testing.T) {
	for _, s := range []string{"3s", "250ms", "1m30s", "0s"} {
		var d Duration
		if err := d.UnmarshalText([]byte(s)); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		b, _ := d.MarshalText()
		if string(b) != s {
			t.Errorf("%s round-trips to %s", s, b)
		}
	}
	var d Duration
	if err := d.UnmarshalText([]byte("3")); err == nil {
		t.Error("a bare number was accepted as a duration")
	}
}

func TestDefaultDataDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Setenv("ProgramData", `D:\Data`)
		if got := DefaultDataDir(); got != `D:\Data\ScanBox` {
			t.Errorf("DefaultDataDir = %s", got)
		}
		return
	}
	t.Setenv("XDG_STATE_HOME", "/var/lib/state")
	if got := DefaultDataDir(); got != "/var/lib/state/scanbox" {
		t.Errorf("with XDG_STATE_HOME: %s", got)
	}
	t.Setenv("XDG_STATE_HOME", "relative/path")
	t.Setenv("HOME", "/home/cashier")
	if got := DefaultDataDir(); got != "/home/cashier/.local/state/scanbox" {
		t.Errorf("with relative XDG_STATE_HOME: %s", got)
	}
	t.Setenv("XDG_STATE_HOME", "")
	if got := DefaultDataDir(); got != "/home/cashier/.local/state/scanbox" {
		t.Errorf("without XDG_STATE_HOME: %s", got)
	}
}

// Issue 11 item 3: a per-payment ceiling with a sensible default, and a
// confirmation threshold not above it.
func TestPaymentLimits(t *testing.T) {
	c := Default()
	if c.MaxPayment != 1_000_000 || c.ConfirmAbove != 200_000 {
		t.Errorf("defaults %d %d", c.MaxPayment, c.ConfirmAbove)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.MaxPayment = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "max_payment_fen") {
		t.Errorf("zero ceiling: %v", err)
	}
	c = Default()
	c.ConfirmAbove = c.MaxPayment + 1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "confirm_above_fen") {
		t.Errorf("threshold above the ceiling: %v", err)
	}
}
