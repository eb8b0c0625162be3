// Package money owns the one representation of an amount: integer fen.
// It has the only parser and the only formatter; nothing else in ScanBox may
// turn text into money or money into text. It must never use floats.
package money

import (
	"errors"
	"fmt"
	"strings"
)

// Fen is an amount in fen (1 yuan = 100 fen).
type Fen int64

// Max is the largest amount ScanBox accepts: 1,000,000.00 yuan, which is also
// the bank API's total_fee ceiling (100000000 fen).
const Max Fen = 100_000_000

// Errors returned by Parse; each is one sentence a cashier can read.
var (
	ErrEmpty     = errors.New("no amount was entered")
	ErrSyntax    = errors.New("the amount is not a number like 12.50")
	ErrPrecision = errors.New("the amount has more than two decimal places")
	ErrNotPos    = errors.New("the amount must be greater than zero")
	ErrTooLarge  = errors.New("the amount is more than 1,000,000.00 yuan")
)

// Parse reads a yuan amount as a cashier or a POS screen writes it:
// "12.5", "12.50", "1,234.50", "¥12.50", "￥ 12.50". It refuses "12.505",
// "-1", "0", "abc" and anything above Max, with an error from this package.
func Parse(s string) (Fen, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(t, "¥")
	t = strings.TrimPrefix(t, "￥")
	t = strings.TrimPrefix(t, "RMB")
	t = strings.TrimSpace(t)
	if t == "" {
		return 0, ErrEmpty
	}
	if t[0] == '-' {
		if len(t) > 1 && isDigit(t[1]) {
			return 0, ErrNotPos
		}
		return 0, ErrSyntax
	}
	t = strings.TrimPrefix(t, "+")
	intPart, frac, hasDot := strings.Cut(t, ".")
	if intPart == "" && !hasDot {
		return 0, ErrSyntax
	}
	if err := checkGrouping(intPart); err != nil {
		return 0, err
	}
	digits := strings.ReplaceAll(intPart, ",", "")
	if digits == "" {
		digits = "0"
	}
	if hasDot && frac == "" && intPart == "" {
		return 0, ErrSyntax
	}
	for i := 0; i < len(frac); i++ {
		if !isDigit(frac[i]) {
			return 0, ErrSyntax
		}
	}
	if len(frac) > 2 {
		return 0, ErrPrecision
	}
	// Strip leading zeros so the length check below is about magnitude.
	digits = strings.TrimLeft(digits, "0")
	if len(digits) > 7 { // more than 9,999,999 yuan: certainly too large
		return 0, ErrTooLarge
	}
	var v Fen
	for i := 0; i < len(digits); i++ {
		v = v*10 + Fen(digits[i]-'0')
	}
	v *= 100
	switch len(frac) {
	case 1:
		v += Fen(frac[0]-'0') * 10
	case 2:
		v += Fen(frac[0]-'0')*10 + Fen(frac[1]-'0')
	}
	if v <= 0 {
		return 0, ErrNotPos
	}
	if v > Max {
		return 0, ErrTooLarge
	}
	return v, nil
}

// checkGrouping accepts plain digits or digits grouped by commas in threes
// ("1,234,567"); a stray comma ("12,34") is a syntax error, because on a POS
// screen it is more likely a misread than a separator.
func checkGrouping(s string) error {
	if s == "" {
		return nil
	}
	groups := strings.Split(s, ",")
	for i, g := range groups {
		if g == "" {
			return ErrSyntax
		}
		for j := 0; j < len(g); j++ {
			if !isDigit(g[j]) {
				return ErrSyntax
			}
		}
		if len(groups) > 1 {
			if i == 0 && len(g) > 3 {
				return ErrSyntax
			}
			if i > 0 && len(g) != 3 {
				return ErrSyntax
			}
		}
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// String formats the amount as yuan with two decimals and no grouping: "1234.50".
func (f Fen) String() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign = "-"
		v = -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Grouped formats with thousands separators for display: "1,234.50".
func (f Fen) Grouped() string {
	s := f.String()
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i := 0; i < len(intPart); i++ {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(intPart[i])
	}
	return sign + b.String() + "." + frac
}

// Yuan returns whole yuan and the remaining fen (0..99) of a non-negative amount.
func (f Fen) Yuan() (yuan int64, fen int64) { return int64(f) / 100, int64(f) % 100 }

// Normalize turns what a Chinese input method types into the ASCII that
// Parse reads: full-width digits (１２５０), the full-width point, comma,
// plus and minus signs, the ideographic space and the yuan signs (￥, 元
// at the end). Parse stays the one parser; callers that take typed text
// (the pay window, the customer-scans window) pass it through Normalize
// first.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == '．' || r == '。':
			b.WriteByte('.')
		case r == '，':
			b.WriteByte(',')
		case r == '＋':
			b.WriteByte('+')
		case r == '－':
			b.WriteByte('-')
		case r == '\u3000':
			b.WriteByte(' ')
		case r == '￥':
			b.WriteRune('¥')
		default:
			b.WriteRune(r)
		}
	}
	t := strings.TrimSpace(b.String())
	t = strings.TrimSuffix(t, "元")
	return strings.TrimSpace(t)
}
