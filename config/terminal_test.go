package config

import (
	"errors"
	"testing"
)

// TestTerminalInfoFields: bank API 1.1's activation results are kept and
// checked; an old config.json without them still loads.
func TestTerminalInfoFields(t *testing.T) {
	dir := t.TempDir()
	c := Default()
	c.BankURL, c.MchID, c.TerminalID = "https://pay.bank.example/device/v1", "100000001", "T0001"
	c.TerminalSN, c.AreaCode = "SN0123456789ABCDEF", "310101"
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil || got.TerminalSN != c.TerminalSN || got.AreaCode != c.AreaCode {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []Config{{TerminalSN: "SN-12345678"}, {TerminalSN: "SN1"}, {AreaCode: "31010"}, {AreaCode: "31010a"}} {
		b := Default()
		b.TerminalSN, b.AreaCode = bad.TerminalSN, bad.AreaCode
		if err := b.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q/%q accepted", bad.TerminalSN, bad.AreaCode)
		}
	}
}
