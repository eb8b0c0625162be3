package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

// provisioningFile writes what the MSI would leave, in firstrun --from form.
func provisioningFile(t *testing.T, lines ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "provisioning.txt")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestFirstrunImportsAndActivates(t *testing.T) {
	_, base := simtest.NewServer(t, banksim.Options{ActivationCodes: []string{"SHOP-1234"}, SingleUse: true})
	dir := t.TempDir()
	f := provisioningFile(t, "# left by the MSI", "BANK_URL="+base, "MCH_ID="+banksim.DefaultMchID,
		"TERMINAL_ID="+banksim.DefaultTerminalID, "ACTIVATION_CODE=SHOP-1234")

	code, _, stderr := runCmd(t, "firstrun", "--data-dir", dir, "--from", f)
	if code != exitOK {
		t.Fatalf("firstrun = %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the provisioning source was not deleted: %v", err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := config.PendingActivation{URL: base, MchID: banksim.DefaultMchID, TerminalID: banksim.DefaultTerminalID}
	if cfg.PendingActivation != want || cfg.Activated() {
		t.Errorf("after import: pending %+v activated %v; want pending %+v, not yet activated", cfg.PendingActivation, cfg.Activated(), want)
	}
	if _, err := config.LoadKey(dir); !errors.Is(err, config.ErrNoKey) {
		t.Errorf("a key exists before the first start: %v", err)
	}

	// First start.
	code, stdout, stderr := runCmd(t, "firstrun", "--data-dir", dir, "--activate")
	if code != exitOK {
		t.Fatalf("firstrun --activate = %d, stderr %q", code, stderr)
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(stdout), &info); err != nil || info["merchant_name"] != banksim.DefaultMerchantName || info["store_name"] != banksim.DefaultStoreName {
		t.Errorf("firstrun --activate printed %q (%v)", stdout, err)
	}
	cfg, err = config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Activated() || cfg.BankURL != base || !cfg.PendingActivation.IsZero() || cfg.MerchantName != banksim.DefaultMerchantName {
		t.Errorf("after first start: %+v", cfg)
	}
	if key, err := config.LoadKey(dir); err != nil || len(key) == 0 {
		t.Errorf("no signing key after activation: %v", err)
	}
	if _, err := config.TakePendingActivationCode(dir); !errors.Is(err, config.ErrNoPendingActivation) {
		t.Errorf("the used activation code is still stored: %v", err)
	}

	// Second start: nothing pending, nothing sent (the code was single-use).
	code, stdout, stderr = runCmd(t, "firstrun", "--data-dir", dir, "--activate")
	if code != exitOK || stdout != "" || !strings.Contains(stderr, "no pending activation") {
		t.Errorf("second start = %d, %q, %q", code, stdout, stderr)
	}
}

// A first start that cannot reach the bank keeps the code for the next one.
func TestFirstrunActivationRetriesAfterFailure(t *testing.T) {
	dir := t.TempDir()
	f := provisioningFile(t, "BANK_URL=http://127.0.0.1:1/device/v1", "MCH_ID=100000001", "TERMINAL_ID=T0001", "ACTIVATION_CODE=SHOP-1234")
	if code, _, stderr := runCmd(t, "firstrun", "--data-dir", dir, "--from", f); code != exitOK {
		t.Fatalf("firstrun = %d, %q", code, stderr)
	}
	code, _, stderr := runCmd(t, "firstrun", "--data-dir", dir, "--activate", "--data-dir", dir)
	if code == exitOK || strings.Count(strings.TrimSpace(stderr), "\n") > 2 {
		t.Errorf("activation against a closed port = %d, stderr %q", code, stderr)
	}
	got, err := config.TakePendingActivationCode(dir)
	if err != nil || got != "SHOP-1234" {
		t.Errorf("after a failed first start the code is %q, %v; want it kept for a retry", got, err)
	}
	if cfg, _ := config.Load(dir); cfg.PendingActivation.IsZero() {
		t.Error("the pending provisioning was dropped after a failed activation")
	}
}

func TestFirstrunWithoutCodeKeepsConfiguration(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.BankURL, cfg.MchID, cfg.TerminalID = "https://pay.bank.example/device/v1", "1", "T1"
	if err := config.Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, config.FileName))
	// The MSI writes the values even when empty (an upgrade without properties).
	f := provisioningFile(t, "BANK_URL=", "MCH_ID=", "TERMINAL_ID=", "ACTIVATION_CODE=")
	if code, _, stderr := runCmd(t, "firstrun", "--data-dir", dir, "--from", f); code != exitOK {
		t.Fatalf("firstrun = %d, %q", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, config.FileName))
	if !bytes.Equal(before, after) {
		t.Errorf("configuration changed by an empty provisioning:\n%s\n%s", before, after)
	}
	if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
		t.Error("the empty provisioning was not deleted")
	}
}

func TestFirstrunRefusesIncompleteProvisioning(t *testing.T) {
	for name, lines := range map[string][]string{
		"code without url": {"MCH_ID=1", "TERMINAL_ID=T1", "ACTIVATION_CODE=X"},
		"plain http bank":  {"BANK_URL=http://pay.bank.example/device/v1", "MCH_ID=1", "TERMINAL_ID=T1", "ACTIVATION_CODE=X"},
		"unknown property": {"BANK=https://pay.bank.example", "ACTIVATION_CODE=X"},
		"line without a =": {"ACTIVATION_CODE"},
	} {
		dir := t.TempDir()
		f := provisioningFile(t, lines...)
		code, _, stderr := runCmd(t, "firstrun", "--data-dir", dir, "--from", f)
		if code != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: firstrun = %d, stderr %q; want exit 2 and one line", name, code, stderr)
		}
		// Refused provisioning stays where it was, so the failed install
		// can be rolled back and retried; nothing half-stored.
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: provisioning source deleted after a refusal", name)
		}
		if _, err := config.TakePendingActivationCode(dir); !errors.Is(err, config.ErrNoPendingActivation) {
			t.Errorf("%s: a code was stored: %v", name, err)
		}
	}
}

// MAX_PAYMENT (issue 11 item 3) and FLEET_URL/FLEET_CODE (issue 10 item 2)
// from a silent install: validated, then written like the activation.
func TestFirstrunMaxPaymentAndFleetEnrollment(t *testing.T) {
	_, base := simtest.NewServer(t, banksim.Options{ActivationCodes: []string{"SHOP-1234"}, SingleUse: true})
	dir := t.TempDir()
	// A fleet that refuses connections: the enrollment must survive for
	// the next start.
	fleetURL := "http://127.0.0.1:1"
	f := provisioningFile(t, "BANK_URL="+base, "MCH_ID="+banksim.DefaultMchID, "TERMINAL_ID="+banksim.DefaultTerminalID,
		"ACTIVATION_CODE=SHOP-1234", "FLEET_URL="+fleetURL, "FLEET_CODE=ENROL-42", "MAX_PAYMENT=500")
	if code, _, stderr := runCmd(t, "firstrun", "--data-dir", dir, "--from", f); code != exitOK {
		t.Fatalf("firstrun = %d, stderr %q", code, stderr)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxPayment != 50000 || cfg.ConfirmAbove != 50000 {
		t.Errorf("MAX_PAYMENT=500: max %d fen, confirm above %d fen; want 50000 and the confirmation lowered to it", cfg.MaxPayment, cfg.ConfirmAbove)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, config.FileName))
	if strings.Contains(string(raw), "ENROL-42") {
		t.Error("the fleet enrollment code is in the configuration in clear")
	}

	// First start: activation succeeds, the fleet cannot be reached, the
	// enrollment is kept for the next start.
	code, _, stderr := runCmd(t, "firstrun", "--data-dir", dir, "--activate")
	if code != exitOK || !strings.Contains(stderr, "cannot be reached") {
		t.Errorf("firstrun --activate = %d, stderr %q; want activated, and the fleet named unreachable", code, stderr)
	}
	if c, _ := config.Load(dir); !c.Activated() {
		t.Fatal("not activated")
	}
	url, enrol, err := config.TakePendingFleetJoin(dir)
	if err != nil || url != fleetURL || enrol != "ENROL-42" {
		t.Errorf("pending enrollment after an unreachable fleet: %q %q %v", url, enrol, err)
	}

	// An upgrade that only raises the maximum changes only that.
	f = provisioningFile(t, "MAX_PAYMENT=20,000.00")
	if code, _, stderr := runCmd(t, "firstrun", "--data-dir", dir, "--from", f); code != exitOK {
		t.Fatalf("firstrun MAX_PAYMENT only = %d, %q", code, stderr)
	}
	after, _ := config.Load(dir)
	if after.MaxPayment != 2_000_000 || after.ConfirmAbove != 50000 || !after.Activated() {
		t.Errorf("after MAX_PAYMENT=20,000.00: max %d confirm %d activated %v", after.MaxPayment, after.ConfirmAbove, after.Activated())
	}
}

func TestFirstrunRefusesBadProvisioning(t *testing.T) {
	for name, lines := range map[string][]string{
		"max not a number":   {"MAX_PAYMENT=abc"},
		"max zero":           {"MAX_PAYMENT=0"},
		"max three decimals": {"MAX_PAYMENT=12.505"},
		"max above ceiling":  {"MAX_PAYMENT=2000000"},
		"max negative":       {"MAX_PAYMENT=-5"},
		"fleet url alone":    {"FLEET_URL=https://fleet.bank.example"},
		"fleet code alone":   {"FLEET_CODE=ENROL-1"},
		"fleet not http":     {"FLEET_URL=ftp://fleet.bank.example", "FLEET_CODE=ENROL-1"},
		"fleet no host":      {"FLEET_URL=https://", "FLEET_CODE=ENROL-1"},
		"fleet with query":   {"FLEET_URL=https://fleet.bank.example/?x=1", "FLEET_CODE=ENROL-1"},
		// A bad value anywhere stores nothing, the good ones neither.
		"good max, bad fleet": {"MAX_PAYMENT=500", "FLEET_URL=fleet.bank.example", "FLEET_CODE=ENROL-1"},
	} {
		dir := t.TempDir()
		f := provisioningFile(t, lines...)
		code, _, stderr := runCmd(t, "firstrun", "--data-dir", dir, "--from", f)
		if code != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, strings.SplitN(lines[len(lines)-1], "=", 2)[0][:5]) {
			t.Errorf("%s: firstrun = %d, stderr %q; want exit %d and one sentence naming the property", name, code, stderr, exitUsage)
		}
		if _, err := os.Stat(filepath.Join(dir, config.FileName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a configuration was written: %v", name, err)
		}
		if _, _, err := config.TakePendingFleetJoin(dir); !errors.Is(err, config.ErrNoPendingFleetJoin) {
			t.Errorf("%s: a fleet enrollment was stored: %v", name, err)
		}
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: the provisioning source was deleted although nothing was imported: %v", name, err)
		}
	}
}
