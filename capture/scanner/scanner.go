// Package scanner is the input side of the payment-code scan box: codes read
// line by line from a serial (USB virtual COM) scanner, and codes typed by a
// keyboard-wedge scanner, picked out of the keyboard stream by a burst
// detector so that they do not land in the POS.
//
// It delivers the scanned text only; whether it is a payment code, and of
// which channel, is for package scan to decide. It must never log a whole
// code (see Mask) and never keep keys the cashier typed.
package scanner

import (
	"errors"
	"fmt"
	"strings"
)

// Mode is how the scan box is connected.
type Mode int

// Scanner modes.
const (
	ModeSerial Mode = iota + 1 // USB virtual COM port (preferred: nothing reaches the POS)
	ModeWedge                  // keyboard emulation, picked out by the burst detector (Windows)
)

var modeNames = map[Mode]string{ModeSerial: "serial", ModeWedge: "wedge"}

func (m Mode) String() string {
	if n, ok := modeNames[m]; ok {
		return n
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// ParseMode is the inverse of Mode.String; "keyboard" is accepted for wedge.
func ParseMode(s string) (Mode, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "keyboard" {
		return ModeWedge, nil
	}
	for m, n := range modeNames {
		if n == t {
			return m, nil
		}
	}
	return 0, fmt.Errorf("scanner: unknown mode %q (use serial or wedge)", s)
}

// ErrWedgeUnsupported is returned by StartWedge where there is no
// low-level keyboard hook.
var ErrWedgeUnsupported = errors.New("scanner: keyboard-wedge capture is only available on Windows")
