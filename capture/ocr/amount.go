package ocr

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/scanbox/scanbox/money"
)

// Errors of amount picking; Read wraps them as well.
var (
	// ErrNoAmount: nothing in the image reads as an amount, or the readings
	// disagree. The cashier must type the amount.
	ErrNoAmount = errors.New("no amount could be read")
)

// PickAmount returns the one amount in the text of one OCR reading.
//
// A token is a candidate only in the shape a POS prints an amount: digits,
// optional thousands commas, a point and exactly two decimals ("1,234.50");
// the yuan signs, 元 after the number, a colon and white space separate tokens, so a label in front
// ("合计：¥1,234.50") never sticks to the number. Integers without decimals
// are refused: on a screen they are as likely a quantity or a misread label.
// Points and commas at the ends of a token are dropped as label debris. The
// reading is refused when a token with a digit and an inner point is not
// amount-shaped or money.Parse rejects it (a garbled amount such as
// "629..40", "1,23.50" or "l2.50"), and when it holds two different amounts.
func PickAmount(text string) (money.Fen, error) {
	// "43139. 21": Tesseract sometimes puts a space beside the point; a POS
	// never prints one there, and nothing else on a line joins digits by a
	// point, so the space goes.
	text = spacedPoint.ReplaceAllString(text, "$1.$2")
	// "Y9.57": the yuan sign read as a Latin Y right before the digits.
	text = yuanAsY.ReplaceAllString(text, "$1 $2")
	fields := strings.FieldsFunc(text, func(r rune) bool {
		// A CJK character is never part of an amount: a label glued on
		// (应收金额¥245.38) or the yuan sign misread (半6572.51) splits off.
		if r >= 0x2E80 {
			return true
		}
		switch r {
		case ':', '：', '¥', '￥', '元', ' ', '\t', '\n', '\r', '\f', '\v':
			return true
		}
		return false
	})
	var found money.Fen
	for _, f := range fields {
		// A point or comma at either end is label debris ("8." from 金额),
		// never part of an amount a POS prints.
		f = strings.TrimLeft(f, leadingDebris)
		f = strings.TrimRight(f, trailingDebris)
		if !strings.ContainsRune(f, '.') || !strings.ContainsAny(f, "0123456789") {
			continue
		}
		if !amountShaped(f) {
			return 0, fmt.Errorf("%w: %q is not an amount with two decimals", ErrNoAmount, f)
		}
		v, err := money.Parse(f)
		if err != nil {
			return 0, fmt.Errorf("%w: %q: %v", ErrNoAmount, f, err)
		}
		if found != 0 && v != found {
			return 0, fmt.Errorf("%w: the image shows more than one amount (%s and %s)", ErrNoAmount, found, v)
		}
		found = v
	}
	if found == 0 {
		return 0, ErrNoAmount
	}
	return found, nil
}

// Debris Tesseract leaves at the ends of a token from label glyphs and
// screen edges. A leading minus is not debris: "-12.50" is a refund, and it
// must be refused, not read as 12.50.
const (
	leadingDebris  = ".,'\"|‘’“”([{"
	trailingDebris = ".,'\"|‘’“”)]}-_"
)

var (
	spacedPoint = regexp.MustCompile(`(\d)[ \t]*\.[ \t]*(\d)`)
	yuanAsY     = regexp.MustCompile(`(^|[^A-Za-z])Y(\d)`)
)

// amountShaped reports whether s is digits and commas, one point, and two
// digits after it. It checks shape only; money.Parse does the reading.
func amountShaped(s string) bool {
	intPart, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 2 || intPart == "" || intPart[0] < '0' || intPart[0] > '9' {
		return false
	}
	for _, c := range intPart {
		if (c < '0' || c > '9') && c != ',' {
			return false
		}
	}
	for _, c := range frac {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
