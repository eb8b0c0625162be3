package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/scanbox/scanbox/assets"
)

// cjkFont is the embedded GB2312 subset of Noto Sans CJK SC. fyne's bundled
// font has no CJK glyphs, and a stock Windows install only falls back to a
// system font by luck; shipping the font makes Chinese render the same on
// every PC, and in screenshots taken under Xvfb.
var cjkFont = fyne.NewStaticResource("NotoSansSC-GB2312.otf", assets.FontCJK())

// Theme is fyne's default theme with the CJK font for all text, the log
// view's monospace included: log lines carry Chinese (merchant and store
// names), and where no Chinese system font exists (a fresh Wine prefix,
// some Windows installs) fyne's mono font would draw them as "�".
// Readable beats aligned for support staff.
type Theme struct{ fyne.Theme }

// NewTheme wraps the default theme.
func NewTheme() *Theme { return &Theme{Theme: theme.DefaultTheme()} }

func (t *Theme) Font(s fyne.TextStyle) fyne.Resource {
	if s.Symbol {
		return t.Theme.Font(s)
	}
	return cjkFont
}

// Color darkens what has the keyboard focus instead of fyne's pale blue
// focus tint, which vanishes on the blue (high-importance) buttons: the
// cashier drives the pay window from the keyboard and must see where Enter
// goes.
func (t *Theme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNameFocus {
		if v == theme.VariantDark {
			return color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0x50}
		}
		return color.NRGBA{R: 0x00, G: 0x00, B: 0x00, A: 0x48}
	}
	return t.Theme.Color(n, v)
}

// Outcome colours: the result must read at a glance from across the counter.
var (
	colorPaid      = color.NRGBA{R: 0x1a, G: 0x9c, B: 0x3c, A: 0xff}
	colorFailed    = color.NRGBA{R: 0xd0, G: 0x21, B: 0x21, A: 0xff}
	colorWaiting   = color.NRGBA{R: 0x1f, G: 0x6f, B: 0xd1, A: 0xff}
	colorAttention = color.NRGBA{R: 0xe0, G: 0x70, B: 0x00, A: 0xff}
	colorNeutral   = color.NRGBA{R: 0x70, G: 0x70, B: 0x70, A: 0xff}
	// colorAmount is the amount to charge: dark, never the green of "paid".
	colorAmount = color.NRGBA{R: 0x22, G: 0x2a, B: 0x36, A: 0xff}
)

// stateColor is how an order state is shown.
func stateColor(s string) color.Color {
	switch s {
	case "paid":
		return colorPaid
	case "failed", "revoked":
		return colorFailed
	case "waiting", "pending":
		return colorWaiting
	case "unknown", "closing":
		return colorAttention
	}
	return colorNeutral
}
