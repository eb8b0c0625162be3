package usbdev

import (
	"strings"
	"testing"
)

// Every vendor ScanBox names is cited by usb.ids (ids_gen.go is generated
// from it by gen_ids.sh).
func TestKnownVendorsAreInUSBIDs(t *testing.T) {
	if usbIDsVersion == "" {
		t.Fatal("ids_gen.go has no usb.ids version")
	}
	for vid, v := range knownVendors {
		name, ok := registeredVendor[vid]
		if !ok {
			t.Errorf("vendor %04X (%s) is not in usb.ids %s", vid, v.Brand, usbIDsVersion)
			continue
		}
		if v.Kind == KindUnknown || v.Brand == "" {
			t.Errorf("vendor %04X (%s): kind %v brand %q", vid, name, v.Kind, v.Brand)
		}
	}
	for key := range productName {
		if _, ok := knownVendors[uint16(key>>16)]; !ok {
			t.Errorf("product %08X belongs to no known vendor", key)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		vid, pid      uint16
		vidpid        string
		vendor, model string
		product       string
		kind          Kind
		label         string
	}{
		{0x1EAB, 0x0D10, "1EAB:0D10", "Newland", "EM2028 Barcode scanner engine (HID Pos)", "EM2028 Barcode scanner engine (HID Pos)", KindScanner, "Newland EM2028 Barcode scanner engine (HID Pos)"},
		{0x0C2E, 0x0B61, "0C2E:0B61", "Honeywell", "Vuquest 3310g", "Vuquest 3310g", KindScanner, "Honeywell Vuquest 3310g"},
		{0x05E0, 0x1200, "05E0:1200", "Zebra", "Bar Code Scanner", "Bar Code Scanner", KindScanner, "Zebra Bar Code Scanner"},
		{0x05F9, 0x2206, "05F9:2206", "Datalogic", "Gryphon series (keyboard emulation mode)", "Gryphon series (keyboard emulation mode)", KindScanner, "Datalogic Gryphon series (keyboard emulation mode)"},
		{0x1EAB, 0xFFFF, "1EAB:FFFF", "Newland", "", "", KindScanner, "Newland"}, // vendor known, product not
		{0x1A86, 0x7523, "1A86:7523", "QinHeng (CH340)", "", "CH340 serial converter", KindBridge, "bridge: CH340 serial converter"},
		{0x0403, 0x6001, "0403:6001", "FTDI", "", "FT232 Serial (UART) IC", KindBridge, "bridge: FT232 Serial (UART) IC"},
		{0x067B, 0x2303, "067B:2303", "Prolific", "", "PL2303 Serial Port / Mobile Phone Data Cable", KindBridge, "bridge: PL2303 Serial Port / Mobile Phone Data Cable"},
		{0x10C4, 0xEA60, "10C4:EA60", "Silicon Labs (CP210x)", "", "CP210x UART Bridge", KindBridge, "bridge: CP210x UART Bridge"},
		{0x10C4, 0x0001, "10C4:0001", "Silicon Labs (CP210x)", "", "", KindBridge, "bridge"},
		{0x046D, 0xC31C, "046D:C31C", "", "", "", KindUnknown, ""}, // a Logitech keyboard
	}
	for _, tt := range tests {
		d := describe(tt.vid, tt.pid)
		if d.VIDPID != tt.vidpid || d.Vendor != tt.vendor || d.Model != tt.model || d.Product != tt.product || d.Kind != tt.kind {
			t.Errorf("describe(%04X, %04X) = %+v", tt.vid, tt.pid, d)
		}
		if got := d.ModelLabel(); got != tt.label {
			t.Errorf("%s: ModelLabel = %q, want %q", tt.vidpid, got, tt.label)
		}
	}
}

func TestKindRoundTrip(t *testing.T) {
	for k := KindUnknown; k <= KindBridge; k++ {
		got, err := ParseKind(strings.ToUpper(k.String()))
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseKind("printer"); err == nil {
		t.Error("ParseKind(printer) did not fail")
	}
	if s := Kind(9).String(); s != "kind(9)" {
		t.Errorf("Kind(9) = %q", s)
	}
}

func TestModeRoundTrip(t *testing.T) {
	for _, m := range []Mode{ModeSerial, ModeWedge} {
		got, err := ParseMode(" " + strings.ToUpper(m.String()))
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	for _, s := range []string{"hook", "keyboard", "Wedge"} {
		if got, err := ParseMode(s); err != nil || got != ModeWedge {
			t.Errorf("ParseMode(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseMode("bluetooth"); err == nil {
		t.Error("ParseMode(bluetooth) did not fail")
	}
}
