package main

import (
	"errors"
	"fmt"
	"strings"
)

// hotkey is a global key chord such as Ctrl+Alt+F9.
type hotkey struct {
	ctrl, alt, shift, win bool
	key                   string // "F1"…"F24", "A"…"Z", "0"…"9"
}

var errHotkeyUnsupported = errors.New("global hotkeys are only available on Windows")

// parseHotkey reads "Ctrl+Alt+F9" (any case, spaces allowed). A chord needs
// at least one of Ctrl, Alt or Win unless the key is a function key: a
// plain letter would steal typing from the POS.
func parseHotkey(s string) (hotkey, error) {
	var h hotkey
	parts := strings.Split(s, "+")
	for i, p := range parts {
		t := strings.ToUpper(strings.TrimSpace(p))
		if i < len(parts)-1 {
			switch t {
			case "CTRL", "CONTROL":
				h.ctrl = true
			case "ALT":
				h.alt = true
			case "SHIFT":
				h.shift = true
			case "WIN", "SUPER", "META":
				h.win = true
			default:
				return h, fmt.Errorf("hotkey %q: unknown modifier %q (use Ctrl, Alt, Shift, Win)", s, p)
			}
			continue
		}
		switch {
		case len(t) == 1 && (t[0] >= 'A' && t[0] <= 'Z' || t[0] >= '0' && t[0] <= '9'):
			h.key = t
		case len(t) >= 2 && t[0] == 'F' && fnNumber(t) > 0:
			h.key = t
		default:
			return h, fmt.Errorf("hotkey %q: unknown key %q (use F1–F24, A–Z or 0–9)", s, p)
		}
	}
	if h.key == "" {
		return h, fmt.Errorf("hotkey %q: no key", s)
	}
	if !h.ctrl && !h.alt && !h.win && fnNumber(h.key) == 0 {
		return h, fmt.Errorf("hotkey %q: a letter or digit needs Ctrl, Alt or Win", s)
	}
	return h, nil
}

// fnNumber is n for "Fn" (1–24), else 0.
func fnNumber(t string) int {
	if len(t) < 2 || t[0] != 'F' {
		return 0
	}
	n := 0
	for _, c := range t[1:] {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > 24 {
		return 0
	}
	return n
}

func (h hotkey) String() string {
	var parts []string
	if h.ctrl {
		parts = append(parts, "Ctrl")
	}
	if h.alt {
		parts = append(parts, "Alt")
	}
	if h.shift {
		parts = append(parts, "Shift")
	}
	if h.win {
		parts = append(parts, "Win")
	}
	return strings.Join(append(parts, h.key), "+")
}

// Win32 values for RegisterHotKey, kept here (not in the _windows file) so
// that their mapping is tested on every OS.
const (
	modAlt      = 0x0001
	modControl  = 0x0002
	modShift    = 0x0004
	modWin      = 0x0008
	modNoRepeat = 0x4000
)

func (h hotkey) win32() (mods, vk uint32) {
	mods = modNoRepeat
	if h.ctrl {
		mods |= modControl
	}
	if h.alt {
		mods |= modAlt
	}
	if h.shift {
		mods |= modShift
	}
	if h.win {
		mods |= modWin
	}
	if n := fnNumber(h.key); n > 0 {
		return mods, 0x70 + uint32(n-1) // VK_F1 = 0x70
	}
	return mods, uint32(h.key[0]) // VK for A–Z and 0–9 is the ASCII code
}
