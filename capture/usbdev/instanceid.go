package usbdev

import (
	"strconv"
	"strings"
)

// ID is a parsed Windows device instance ID or hardware ID, e.g.
//
//	USB\VID_1EAB&PID_1D06\NLS-FR40-0012345     a USB device that reported a serial
//	USB\VID_1EAB&PID_0D10\5&1A2B3C&0&2         one that did not (Windows made the instance up)
//	USB\VID_1EAB&PID_1D06&MI_00\6&2C4E1F&0&0000 interface 0 of a composite device
//	HID\VID_0C2E&PID_0B61&MI_00\7&3A0B5C1&0&0000 a HID keyboard
//	FTDIBUS\VID_0403+PID_6001+A1B2C3D4A\0000    a port of FTDI's driver (serial A1B2C3D4, channel A)
type ID struct {
	Raw        string
	Enumerator string // "USB", "HID", "FTDIBUS", ... upper-case
	VID, PID   uint16
	HasVIDPID  bool   // both VID_ and PID_ were there
	MI         int    // interface number of a composite device's child, -1 for none
	Instance   string // the third component, "" when absent (a hardware ID)
	// Serial is the device's serial number where the ID carries it by
	// Windows' rule: a USB device (not an interface of one) whose instance
	// component has no '&' (Windows builds the instance from the serial the
	// device reported; otherwise it makes one up from the port location,
	// always with '&'). FTDI's driver puts the serial plus a channel letter
	// in the device part.
	Serial string
}

// ParseInstanceID parses a device instance ID or hardware ID. It never
// fails: what it does not recognise is left empty (HasVIDPID false for
// ACPI\PNP0501\1, BTHENUM\..., USB\ROOT_HUB30\...).
func ParseInstanceID(s string) ID {
	id := ID{Raw: s, MI: -1}
	parts := strings.SplitN(strings.TrimSpace(s), `\`, 3)
	id.Enumerator = strings.ToUpper(parts[0])
	if len(parts) < 2 {
		return id
	}
	if len(parts) == 3 {
		id.Instance = parts[2]
	}
	sep := "&"
	if id.Enumerator == "FTDIBUS" {
		sep = "+"
	}
	tokens := strings.Split(parts[1], sep)
	var haveVID, havePID bool
	var rest []string
	for _, t := range tokens {
		switch {
		case !haveVID && hexField(t, "VID_", 4) >= 0:
			id.VID, haveVID = uint16(hexField(t, "VID_", 4)), true
		case !havePID && hexField(t, "PID_", 4) >= 0:
			id.PID, havePID = uint16(hexField(t, "PID_", 4)), true
		case id.MI < 0 && hexField(t, "MI_", 2) >= 0:
			id.MI = hexField(t, "MI_", 2)
		default:
			rest = append(rest, t)
		}
	}
	id.HasVIDPID = haveVID && havePID
	if !id.HasVIDPID {
		return id
	}
	switch id.Enumerator {
	case "USB":
		if id.MI < 0 && id.Instance != "" && !strings.Contains(id.Instance, "&") {
			id.Serial = id.Instance
		}
	case "FTDIBUS":
		id.Serial = ftdiSerial(rest)
	}
	return id
}

// ftdiSerial takes the serial out of the part after VID_xxxx+PID_yyyy in
// an FTDIBUS ID: FTDI's VCP driver writes the chip's serial followed by the
// channel letter (A for the first or only port, up to D on a FT4232H). A
// chip without a serial gets a made-up location ID with '&': no serial.
// Anything else is not guessed at.
func ftdiSerial(rest []string) string {
	if len(rest) != 1 {
		return ""
	}
	t := rest[0]
	if len(t) < 2 || strings.Contains(t, "&") {
		return ""
	}
	if c := t[len(t)-1]; c < 'A' || c > 'D' {
		return ""
	}
	return t[:len(t)-1]
}

// hexField returns the value of a token "VID_1EAB" (prefix "VID_", n=4
// hex digits), case-insensitively, or -1.
func hexField(t, prefix string, n int) int {
	if len(t) != len(prefix)+n || !strings.EqualFold(t[:len(prefix)], prefix) {
		return -1
	}
	v, err := strconv.ParseUint(t[len(prefix):], 16, 16)
	if err != nil {
		return -1
	}
	return int(v)
}

// NormalizePort turns "com3", " COM3 ", `\\.\COM3` into "COM3". Anything
// that is not COMn comes back trimmed and upper-case, so that it matches
// only itself.
func NormalizePort(s string) string {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, `\\.\`)
	t = strings.TrimPrefix(t, `\\?\`)
	if n, ok := strings.CutPrefix(t, "COM"); ok {
		if v, err := strconv.Atoi(n); err == nil && v > 0 && n[0] != '+' && n[0] != '-' {
			return "COM" + strconv.Itoa(v)
		}
	}
	return t
}

// PortFromName takes the COM port out of a Ports-class friendly name such
// as "USB-SERIAL CH340 (COM3)" or "Silicon Labs CP210x USB to UART Bridge
// (COM12)": the last parenthesised "COMn". "" when there is none.
func PortFromName(name string) string {
	t := strings.TrimSpace(name)
	if !strings.HasSuffix(t, ")") {
		return ""
	}
	open := strings.LastIndexByte(t, '(')
	if open < 0 {
		return ""
	}
	inner := strings.TrimSpace(t[open+1 : len(t)-1])
	if len(inner) < 4 || !strings.EqualFold(inner[:3], "COM") {
		return ""
	}
	for _, c := range inner[3:] {
		if c < '0' || c > '9' {
			return ""
		}
	}
	p := NormalizePort(inner)
	if p == "COM0" || !strings.HasPrefix(p, "COM") {
		return ""
	}
	return p
}
