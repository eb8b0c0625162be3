package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"image"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/app/ui"
	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/money"
	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

func TestSettingsConfigRoundTrip(t *testing.T) {
	cfg := config.Default()
	s := settingsFromConfig(cfg)
	s.AmountSource, s.SerialPort, s.SerialBaud, s.SerialParity = "serial", "COM3", 2400, "even"
	s.SerialProfile, s.SerialForward = "cd5220", "COM4"
	s.OCRRegion = image.Rect(10, 20, 110, 60)
	s.ScannerMode, s.ScannerPort, s.WedgeMaxGapMS = "serial", "COM5", 25
	s.PollInterval, s.PollTimeout, s.AutoCloseSec = 2*time.Second, time.Minute, 0
	s.Hotkey, s.VoiceOn, s.Volume, s.Language = "Ctrl+Alt+F8", false, 40, "en"
	s.ReceiptPrinter, s.ReceiptPaper, s.PaymentSlips, s.ReconcileAt = "spool:XP-58", "58mm", true, "07:45"
	got, err := applySettings(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("the window produced an invalid config: %v", err)
	}
	if back := settingsFromConfig(got); back != s {
		t.Errorf("round trip\n got %+v\nwant %+v", back, s)
	}
	if got.Receipt != (config.ReceiptConfig{Printer: "spool:XP-58", Paper: "58mm", PaymentSlips: true}) || got.ReconcileAt != "07:45" {
		t.Errorf("receipt %+v reconcile_at %q", got.Receipt, got.ReconcileAt)
	}
	// The defaults shown and saved unchanged stay unset in the file.
	if d := settingsFromConfig(cfg); d.ReconcileAt != core.DefaultReconcileAt || d.ReceiptPaper != "80mm" {
		t.Errorf("defaults shown %q %q", d.ReconcileAt, d.ReceiptPaper)
	} else if c2, _ := applySettings(cfg, d); c2.ReconcileAt != "" || c2.Receipt.Paper != "" {
		t.Errorf("defaults written: %q %q", c2.ReconcileAt, c2.Receipt.Paper)
	}
	if got.Amount.OCR != (config.OCRRegion{X: 10, Y: 20, W: 100, H: 40}) || got.HTTPTimeout != cfg.HTTPTimeout {
		t.Errorf("OCR %+v, untouched field changed: %v", got.Amount.OCR, got.HTTPTimeout)
	}
	if _, err := applySettings(cfg, ui.Settings{ScannerMode: "bluetooth"}); err == nil {
		t.Error("an unknown scanner mode was accepted")
	}
}

// Issue 8 defect 2: Settings' Save must not switch the terminal; the bank
// identity changes only by activation.
func TestApplySettingsKeepsBankIdentity(t *testing.T) {
	cfg := config.Default()
	cfg.BankURL, cfg.MchID, cfg.TerminalID = "https://bank.example/v1", "100000001", "T0001"
	s := settingsFromConfig(cfg)
	s.BankURL, s.MchID, s.TerminalID = "https://other.example/v1", "999", "T0002"
	got, err := applySettings(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	if got.BankURL != cfg.BankURL || got.MchID != cfg.MchID || got.TerminalID != cfg.TerminalID {
		t.Errorf("Save changed the bank identity to %s %s %s", got.BankURL, got.MchID, got.TerminalID)
	}
	// The amount guards go through to the configuration.
	s.MaxPayment, s.ConfirmAbove, s.MaxAmountAge = 500000, 50000, 90*time.Second
	got, _ = applySettings(cfg, s)
	if got.MaxPayment != 500000 || got.ConfirmAbove != 50000 || got.Amount.MaxAmountAge.D() != 90*time.Second {
		t.Errorf("guards %v %v %v", got.MaxPayment, got.ConfirmAbove, got.Amount.MaxAmountAge)
	}
}

// The controller over the real parts: activate against the simulator, pay,
// see the order paid in the journal, export a support zip without the key.
func TestControllerOnSimulator(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{})
	dir := t.TempDir()
	c, err := newTrayController(dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Pay(100, "134567890123456780"); err != errNotActivated {
		t.Fatalf("Pay before activation: %v", err)
	}
	if c.Status().Activated {
		t.Fatal("activated before activation")
	}
	st, err := c.Activate(url, banksim.DefaultMchID, banksim.DefaultTerminalID, banksim.DefaultActivationCode)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Activated || st.MerchantName == "" || st.StaticQR == "" {
		t.Fatalf("status after activation %+v", st)
	}
	final := make(chan order.Order, 1)
	c.OnOrder(func(o order.Order) {
		if o.State.Terminal() {
			final <- o
		}
	})
	c.SetManualAmount(1250)
	o, err := c.Pay(money.Fen(1250), "134567890123456780")
	if err != nil {
		t.Fatal(err)
	}
	var got order.Order
	select {
	case got = <-final:
	case <-time.After(30 * time.Second): // a guard against a hang, not a speed check
		t.Fatal("the order never ended")
	}
	if got.OutTradeNo != o.OutTradeNo || got.State != order.StatePaid || got.Channel != order.ChannelWeChat {
		t.Fatalf("final %+v", got)
	}
	if r := c.Recent(10); len(r) != 1 || r[0].State != order.StatePaid {
		t.Errorf("recent %+v", r)
	}
	if _, ok := c.Amount(); ok {
		t.Error("the charged amount is still current: it could be charged twice")
	}
	if st := c.Status(); st.Waiting != 0 || st.Unresolved != 0 || st.Offline {
		t.Errorf("status after paying %+v", st)
	}

	var buf bytes.Buffer
	if err := c.ExportSupport(&buf); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	key, err := config.LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range z.File {
		names[f.Name] = true
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, key) {
			t.Errorf("%s contains the signing key", f.Name)
		}
		if f.Name == "orders.json" && !bytes.Contains(b, []byte(o.OutTradeNo)) {
			t.Errorf("orders.json lacks the order")
		}
	}
	for _, n := range []string{"orders.json", "config.json", "about.txt", "logs/scanbox.log"} {
		if !names[n] {
			t.Errorf("support zip lacks %s (has %v)", n, names)
		}
	}

	// Settings saved through the controller are on disk.
	s := c.Settings()
	s.Volume, s.VoiceOn = 30, false
	if err := c.SaveSettings(s); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil || cfg.Volume != 30 || cfg.Voice {
		t.Errorf("saved config volume %d voice %v (%v)", cfg.Volume, cfg.Voice, err)
	}
}

// The tray refuses to switch to another terminal while an order of the
// current one is unresolved: only the first terminal's bank knows it.
func TestControllerRefusesTerminalSwitchWithOpenOrders(t *testing.T) {
	_, url := simtest.NewServer(t, banksim.Options{Terminals: []string{"T0001", "T0002"}})
	dir := t.TempDir()
	c, err := newTrayController(dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Activate(url, banksim.DefaultMchID, "T0001", banksim.DefaultActivationCode); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// A payer still confirming: the background resolver may pick it up
	// (then the refusal is "payment in progress") or not ("not resolved").
	if err := c.journal.Append(order.Order{OutTradeNo: "SBOPEN000001", AmountFen: 100, State: order.StateWaiting,
		TerminalID: "T0001", CreatedAt: now, UpdatedAt: now, SentAt: now, Deadline: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Activate(url, banksim.DefaultMchID, "T0002", banksim.DefaultActivationCode); err == nil ||
		!(errors.Is(err, errPaymentInProgress) || strings.Contains(err.Error(), "not resolved")) {
		t.Fatalf("switch with an open order: %v", err)
	}
	if c.Status().MerchantName == "" {
		t.Fatal("the refused switch lost the activation")
	}
}
