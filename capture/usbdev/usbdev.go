// Package usbdev answers "which scan box is attached to this PC": the USB
// VID:PID, serial number (only where Windows tells it), vendor and model of
// the device behind the configured COM port (serial mode) or of the keyboard
// that is a known scanner (wedge/hook mode). The fleet heartbeat reports it
// to feed the bank's device stock.
//
// The parsing of Windows device instance IDs and the choice are pure and
// portable; only the SetupAPI enumeration is Windows code. It must never
// guess: an unknown vendor in hook mode, two different scanners, or a COM
// port without a USB device behind it give no answer rather than a wrong
// one. It must never be called on the payment path: Lookup is bounded by its
// context and enumerates at most once per cache period (a minute).
package usbdev

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors.
var (
	ErrMode      = errors.New("usbdev: unknown scanner mode")
	ErrNoPort    = errors.New("usbdev: serial mode without a COM port")
	ErrEnumerate = errors.New("usbdev: cannot list the present devices")
)

// Kind says what a USB vendor ID stands for.
type Kind int

// Kinds.
const (
	KindUnknown Kind = iota // vendor not in the table
	KindScanner             // a scan-box maker
	KindBridge              // a generic USB-serial bridge chip (FTDI, Prolific, CH340, CP210x)
)

var kindNames = [...]string{"unknown", "scanner", "bridge"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, n := range kindNames {
		if t == n {
			return Kind(i), nil
		}
	}
	return KindUnknown, fmt.Errorf("usbdev: unknown kind %q", s)
}

// Mode is how the scan box is connected, as the scanner configuration says.
type Mode int

// Modes.
const (
	ModeSerial Mode = iota + 1 // USB virtual COM port: the device behind Want.Port
	ModeWedge                  // keyboard wedge ("hook"): a HID keyboard from a scanner vendor
)

func (m Mode) String() string {
	switch m {
	case ModeSerial:
		return "serial"
	case ModeWedge:
		return "wedge"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// ParseMode is the inverse of Mode.String. It also accepts "hook" (the
// fleet protocol's word) and "keyboard" for the wedge.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "serial":
		return ModeSerial, nil
	case "wedge", "hook", "keyboard":
		return ModeWedge, nil
	}
	return 0, fmt.Errorf("%w %q", ErrMode, s)
}

// Want is the scanner configuration the answer must match.
type Want struct {
	Mode string // "serial", or "wedge"/"hook"
	Port string // serial mode: "COM3"
}

// Device is the scan box as far as Windows tells it.
type Device struct {
	VIDPID  string // "1EAB:0D10", upper-case hex
	Serial  string // the serial the device reported, only where Windows' instance ID carries it
	Vendor  string // brand ("Newland") for scanners, chip maker for bridges; "" when unknown
	Model   string // usb.ids product name, scanners only; "" when unknown
	Product string // usb.ids product name for any kind (a bridge's chip, e.g. "CH340 serial converter")
	Kind    Kind
	Port    string // serial mode: the COM port
	Name    string // Windows' friendly name, e.g. "USB-SERIAL CH340 (COM3)"
	// InstanceID is the device instance ID the answer came from.
	InstanceID string
}

// ModelLabel is the text for the fleet heartbeat's model field: "Newland
// EM2028 Barcode scanner engine (HID Pos)", "Newland" when the product is
// not in the table, "bridge: CH340 serial converter" for a USB-serial bridge
// (the scanner behind it is not known), "" otherwise.
func (d Device) ModelLabel() string {
	switch d.Kind {
	case KindScanner:
		if d.Model == "" {
			return d.Vendor
		}
		return d.Vendor + " " + d.Model
	case KindBridge:
		if d.Product == "" {
			return "bridge"
		}
		return "bridge: " + d.Product
	}
	return ""
}
