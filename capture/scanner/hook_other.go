//go:build !windows

package scanner

// Wedge is a running keyboard-wedge capture. Only Windows has one.
type Wedge struct{}

// StartWedge returns ErrWedgeUnsupported: there is no low-level keyboard
// hook here. Use a serial scanner (ModeSerial).
func StartWedge(BurstConfig, func(code string)) (*Wedge, error) {
	return nil, ErrWedgeUnsupported
}

// Close does nothing.
func (w *Wedge) Close() error { return nil }
