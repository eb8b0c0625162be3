package main

import "testing"

func TestParseHotkey(t *testing.T) {
	cases := []struct {
		in        string
		want      string
		mods, vk  uint32
		wantError bool
	}{
		{in: "Ctrl+Alt+F9", want: "Ctrl+Alt+F9", mods: modNoRepeat | modControl | modAlt, vk: 0x78},
		{in: " ctrl + alt + f9 ", want: "Ctrl+Alt+F9", mods: modNoRepeat | modControl | modAlt, vk: 0x78},
		{in: "F12", want: "F12", mods: modNoRepeat, vk: 0x7B},
		{in: "Win+Shift+P", want: "Shift+Win+P", mods: modNoRepeat | modShift | modWin, vk: 'P'},
		{in: "Control+1", want: "Ctrl+1", mods: modNoRepeat | modControl, vk: '1'},
		{in: "F24", want: "F24", mods: modNoRepeat, vk: 0x87},
		{in: "P", wantError: true},
		{in: "Shift+P", wantError: true},
		{in: "Ctrl+Alt+F25", wantError: true},
		{in: "Hyper+F9", wantError: true},
		{in: "Ctrl+", wantError: true},
		{in: "", wantError: true},
	}
	for _, c := range cases {
		h, err := parseHotkey(c.in)
		if c.wantError {
			if err == nil {
				t.Errorf("parseHotkey(%q) = %v, want an error", c.in, h)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseHotkey(%q): %v", c.in, err)
			continue
		}
		mods, vk := h.win32()
		if h.String() != c.want || mods != c.mods || vk != c.vk {
			t.Errorf("parseHotkey(%q) = %s mods %#x vk %#x, want %s %#x %#x", c.in, h, mods, vk, c.want, c.mods, c.vk)
		}
	}
}
