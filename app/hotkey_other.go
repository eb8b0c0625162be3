//go:build !windows

package main

// startHotkey has no global hook outside Windows: the tray menu opens the
// pay window there. It parses the chord anyway, so a bad setting is
// reported the same on every OS.
func startHotkey(spec string, _ func()) (stop func(), err error) {
	if _, err := parseHotkey(spec); err != nil {
		return func() {}, err
	}
	return func() {}, errHotkeyUnsupported
}
