package usbdev

import (
	"strings"
	"testing"
)

func TestParseInstanceID(t *testing.T) {
	tests := []struct {
		in        string
		enum      string
		vid, pid  uint16
		hasVIDPID bool
		mi        int
		serial    string
	}{
		// Windows' rule: the instance component is the serial only when it has no '&'.
		{`USB\VID_1EAB&PID_0D10\5&1A2B3C&0&2`, "USB", 0x1EAB, 0x0D10, true, -1, ""},
		{`USB\VID_1EAB&PID_1D06\NLS-FR40-0012345`, "USB", 0x1EAB, 0x1D06, true, -1, "NLS-FR40-0012345"},
		{`USB\VID_10C4&PID_EA60\0001`, "USB", 0x10C4, 0xEA60, true, -1, "0001"},
		{`USB\VID_1A86&PID_7523\5&1C2F3A&0&3`, "USB", 0x1A86, 0x7523, true, -1, ""},
		{`usb\vid_1eab&pid_0d10\abc123`, "USB", 0x1EAB, 0x0D10, true, -1, "abc123"},
		// Interfaces of a composite device: the serial lives in the parent.
		{`USB\VID_1EAB&PID_1D06&MI_00\6&2C4E1F&0&0000`, "USB", 0x1EAB, 0x1D06, true, 0, ""},
		{`USB\VID_1EAB&PID_1D06&MI_02\NOAMPERSAND`, "USB", 0x1EAB, 0x1D06, true, 2, ""},
		// HID nodes never carry a serial.
		{`HID\VID_0C2E&PID_0B61&MI_00\7&3A0B5C1&0&0000`, "HID", 0x0C2E, 0x0B61, true, 0, ""},
		{`HID\VID_1EAB&PID_0D03\7&ABC&0&0000`, "HID", 0x1EAB, 0x0D03, true, -1, ""},
		{`HID\VID_046D&PID_C52B&MI_01&Col02\8&1&0&0001`, "HID", 0x046D, 0xC52B, true, 1, ""},
		{`HID\VID_1EAB&PID_0D03\SERIALLIKE`, "HID", 0x1EAB, 0x0D03, true, -1, ""},
		// FTDI's bus: serial + channel letter in the device part.
		{`FTDIBUS\VID_0403+PID_6001+A1B2C3D4A\0000`, "FTDIBUS", 0x0403, 0x6001, true, -1, "A1B2C3D4"},
		{`FTDIBUS\VID_0403+PID_6010+FT1XYZ9B\0000`, "FTDIBUS", 0x0403, 0x6010, true, -1, "FT1XYZ9"},
		{`FTDIBUS\VID_0403+PID_6001+5&2A4C1E1B&0&2\0000`, "FTDIBUS", 0x0403, 0x6001, true, -1, ""},
		{`FTDIBUS\VID_0403+PID_6001+A1B2C3D4Z\0000`, "FTDIBUS", 0x0403, 0x6001, true, -1, ""}, // not a channel letter: not guessed
		{`FTDIBUS\VID_0403+PID_6001\0000`, "FTDIBUS", 0x0403, 0x6001, true, -1, ""},
		// Hardware IDs: no instance, so no serial.
		{`USB\VID_1EAB&PID_0D10&REV_0100`, "USB", 0x1EAB, 0x0D10, true, -1, ""},
		{`USB\VID_1EAB&PID_1D06&REV_0100&MI_00`, "USB", 0x1EAB, 0x1D06, true, 0, ""},
		// Not USB IDs at all.
		{`ACPI\PNP0501\1`, "ACPI", 0, 0, false, -1, ""},
		{`USB\ROOT_HUB30\4&1234ABCD&0&0`, "USB", 0, 0, false, -1, ""},
		{`HID\{00001124-0000-1000-8000-00805f9b34fb}_VID&0002045e_PID&0800&Col01\9&1&0&0000`, "HID", 0, 0, false, -1, ""},
		{`USB\VID_1EAB\5&1`, "USB", 0x1EAB, 0, false, -1, ""},
		{`USB\VID_XYZW&PID_0D10\SER`, "USB", 0, 0x0D10, false, -1, ""},
		{`USB\VID_1EAB0&PID_0D10\SER`, "USB", 0, 0x0D10, false, -1, ""},
		{`USB\VID_1EAB&PID_1D06\`, "USB", 0x1EAB, 0x1D06, true, -1, ""},
		{``, "", 0, 0, false, -1, ""},
		{`USB`, "USB", 0, 0, false, -1, ""},
	}
	for _, tt := range tests {
		got := ParseInstanceID(tt.in)
		if got.HasVIDPID != tt.hasVIDPID || got.Enumerator != tt.enum || got.MI != tt.mi || got.Serial != tt.serial {
			t.Errorf("ParseInstanceID(%q) = %+v, want enum %q hasVIDPID %v mi %d serial %q", tt.in, got, tt.enum, tt.hasVIDPID, tt.mi, tt.serial)
			continue
		}
		if tt.hasVIDPID && (got.VID != tt.vid || got.PID != tt.pid) {
			t.Errorf("ParseInstanceID(%q) = %04X:%04X, want %04X:%04X", tt.in, got.VID, got.PID, tt.vid, tt.pid)
		}
	}
}

func TestNormalizePort(t *testing.T) {
	for in, want := range map[string]string{
		"COM3": "COM3", "com3": "COM3", " COM12 ": "COM12", `\\.\COM10`: "COM10", `\\?\com4`: "COM4",
		"COM03": "COM3", "": "", "COM": "COM", "COM0": "COM0", "COM+3": "COM+3", "/dev/ttyACM0": "/DEV/TTYACM0",
	} {
		if got := NormalizePort(in); got != want {
			t.Errorf("NormalizePort(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPortFromName(t *testing.T) {
	for in, want := range map[string]string{
		"USB-SERIAL CH340 (COM3)":                        "COM3",
		"Silicon Labs CP210x USB to UART Bridge (COM12)": "COM12",
		"USB Serial Port (com5) ":                        "COM5",
		"Prolific USB-to-Serial Comm Port (COM7)":        "COM7",
		"Communications Port (COM1)":                     "COM1",
		"USB Serial Device":                              "",
		"Device (COM)":                                   "",
		"Device (COM0)":                                  "",
		"Device (COMX)":                                  "",
		"Device (LPT1)":                                  "",
		"Device (COM3) extra":                            "",
		"":                                               "",
	} {
		if got := PortFromName(in); got != want {
			t.Errorf("PortFromName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseInstanceID(f *testing.F) {
	for _, s := range []string{
		`USB\VID_1EAB&PID_0D10\5&1A2B3C&0&2`, `USB\VID_1EAB&PID_1D06\NLS-FR40-0012345`,
		`HID\VID_0C2E&PID_0B61&MI_00\7&1&0&0000`, `FTDIBUS\VID_0403+PID_6001+A1B2C3D4A\0000`, `ACPI\PNP0501\1`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id := ParseInstanceID(s)
		if id.Serial != "" {
			if !id.HasVIDPID {
				t.Fatalf("%q: serial %q without VID:PID", s, id.Serial)
			}
			if strings.Contains(id.Serial, "&") {
				t.Fatalf("%q: serial %q has '&'", s, id.Serial)
			}
			if id.Enumerator != "USB" && id.Enumerator != "FTDIBUS" {
				t.Fatalf("%q: serial from enumerator %q", s, id.Enumerator)
			}
			if id.MI >= 0 {
				t.Fatalf("%q: serial on interface %d", s, id.MI)
			}
		}
		_ = PortFromName(s)
		_ = NormalizePort(s)
	})
}
