// Package scan owns the shape check of a scanned payment code: it tells which
// wallet a code belongs to (by bank-api.md's "Payment-code shapes" table),
// refuses anything else with one clear sentence, and provides the only ways a
// payment code may appear outside the bank request: masked for people (Mask,
// the one masking rule), and as a keyed fingerprint for the journal. It must never send a code anywhere, log it, or store it.
package scan

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/scanbox/scanbox/order"
)

// ErrNotPaymentCode is the sentinel behind every refusal of Recognize. Use
// errors.As with *RefusalError to learn why (e.g. to pick a translated text).
var ErrNotPaymentCode = errors.New("not a payment code")

// Rule is one row of the wallet table: a code of Channel has a length in
// [MinLen, MaxLen] digits and starts with one of Prefixes.
type Rule struct {
	Channel  order.Channel
	MinLen   int
	MaxLen   int
	Prefixes []string
}

// Rules is bank-api.md's "Payment-code shapes" table as data. The e-CNY row is
// not confirmed by a primary source; correcting a row must be a data edit,
// never a new code path. Rows are checked in order; the first match wins.
var Rules = []Rule{
	{Channel: order.ChannelWeChat, MinLen: 18, MaxLen: 18, Prefixes: []string{"10", "11", "12", "13", "14", "15"}},
	{Channel: order.ChannelAlipay, MinLen: 16, MaxLen: 24, Prefixes: []string{"25", "26", "27", "28", "29", "30"}},
	{Channel: order.ChannelUnionPay, MinLen: 19, MaxLen: 19, Prefixes: []string{"62"}},
	{Channel: order.ChannelECNY, MinLen: 19, MaxLen: 19, Prefixes: []string{"01"}},
}

// Reason says why a scanned value is not a payment code.
type Reason int

const (
	ReasonEmpty Reason = iota + 1
	ReasonProductBarcode
	ReasonURL
	ReasonLetters
	ReasonSymbols
	ReasonWrongLength
	ReasonUnknownPrefix
)

var reasonNames = [...]string{"", "empty", "product_barcode", "url", "letters", "symbols", "wrong_length", "unknown_prefix"}

// String is a stable snake_case name for logs and tests.
func (r Reason) String() string {
	if r < 0 || int(r) >= len(reasonNames) || r == 0 {
		return fmt.Sprintf("reason(%d)", int(r))
	}
	return reasonNames[r]
}

// Reasons lists every Reason, for message catalogs that must cover them all.
func Reasons() []Reason {
	out := make([]Reason, 0, len(reasonNames)-1)
	for i := 1; i < len(reasonNames); i++ {
		out = append(out, Reason(i))
	}
	return out
}

// ParseReason is the one parser for Reason; it accepts exactly what String writes.
func ParseReason(s string) (Reason, error) {
	for i, n := range reasonNames {
		if i > 0 && n == s {
			return Reason(i), nil
		}
	}
	return 0, fmt.Errorf("scan: unknown reason %q", s)
}

// reasonText is one English sentence per reason, for the cashier and the log.
// The UI translates by Reason, not by parsing this text.
var reasonText = map[Reason]string{
	ReasonEmpty:          "nothing was scanned",
	ReasonProductBarcode: "this looks like a product barcode, not a payment code: scan the code on the customer's phone",
	ReasonURL:            "this is a web address, not a payment code",
	ReasonLetters:        "this contains letters, but a payment code is digits only",
	ReasonSymbols:        "this contains characters other than digits, but a payment code is digits only",
	ReasonWrongLength:    "this number has the wrong length for a payment code",
	ReasonUnknownPrefix:  "this number does not start like any supported wallet's payment code",
}

// RefusalError is what Recognize returns for a value it will not send to the
// bank. It never contains the scanned value itself (it may be logged).
type RefusalError struct {
	Reason Reason
	// Length is the number of characters scanned (after trimming), for support.
	Length int
}

func (e *RefusalError) Error() string {
	return "scan: " + reasonText[e.Reason]
}

// Is makes errors.Is(err, ErrNotPaymentCode) true for every refusal.
func (e *RefusalError) Is(target error) bool { return target == ErrNotPaymentCode }

// Clean trims what scanners add around a code: spaces, tabs, CR and LF.
func Clean(code string) string {
	return strings.TrimSpace(code)
}

// Recognize tells which wallet a scanned code belongs to by its shape. It
// trims surrounding whitespace (scanners send CR/LF). Anything that matches no
// rule is refused with a *RefusalError wrapping ErrNotPaymentCode.
func Recognize(code string) (order.Channel, error) {
	c := Clean(code)
	refuse := func(r Reason) (order.Channel, error) {
		return order.ChannelNone, &RefusalError{Reason: r, Length: len([]rune(c))}
	}
	if c == "" {
		return refuse(ReasonEmpty)
	}
	if looksLikeURL(c) {
		return refuse(ReasonURL)
	}
	if !allDigits(c) {
		for _, r := range c {
			if unicode.IsLetter(r) {
				return refuse(ReasonLetters)
			}
		}
		return refuse(ReasonSymbols)
	}
	lengthFits := false
	for _, rule := range Rules {
		if len(c) < rule.MinLen || len(c) > rule.MaxLen {
			continue
		}
		lengthFits = true
		for _, p := range rule.Prefixes {
			if strings.HasPrefix(c, p) {
				return rule.Channel, nil
			}
		}
	}
	if isProductBarcode(c) {
		return refuse(ReasonProductBarcode)
	}
	if !lengthFits {
		return refuse(ReasonWrongLength)
	}
	return refuse(ReasonUnknownPrefix)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func looksLikeURL(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "://") || strings.HasPrefix(l, "www.") ||
		strings.HasPrefix(l, "weixin:") || strings.HasPrefix(l, "alipays:")
}

// isProductBarcode reports an EAN-8, UPC-A (12) or EAN-13 number whose GS1
// check digit is valid. s must be all ASCII digits.
func isProductBarcode(s string) bool {
	switch len(s) {
	case 8, 12, 13:
	default:
		return false
	}
	// GS1 mod-10: from the digit left of the check digit going left, weights 3,1,3,…
	sum := 0
	for i, w := len(s)-2, 3; i >= 0; i, w = i-1, 4-w {
		sum += int(s[i]-'0') * w
	}
	return (10-sum%10)%10 == int(s[len(s)-1]-'0')
}

// Mask shows a code to people: the first 4 and last 4 characters, the middle
// as '*'. Codes shorter than 16 characters are masked entirely, so that at
// least 8 characters always stay hidden (every payment code has 16 or more).
func Mask(code string) string {
	r := []rune(Clean(code))
	if len(r) < 16 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// Fingerprint identifies a code without storing it (order.CodeHash), so
// that a rescan of the same code can be refused while its order is open:
// "m1:", the key's KeyID, ":", and the lowercase hex HMAC-SHA256 of the
// trimmed code under key, the installation's secret (config.CodeKey). An
// unkeyed hash would not do: next to the masked code (first 4 + last 4
// digits) only about 1e10 codes are possible, and each guess is checked
// with one hash. Without the key a fingerprint confirms nothing. The key
// id tells a reader whether it can compare a fingerprint at all.
func Fingerprint(key []byte, code string) string {
	return FingerprintPrefix + KeyID(key) + ":" + hex.EncodeToString(mac(key, fingerprintDomain, Clean(code)))
}

// KeyID names a fingerprint key without revealing it: 8 hex digits of a
// MAC of a constant under the key.
func KeyID(key []byte) string {
	return hex.EncodeToString(mac(key, keyIDDomain, ""))[:8]
}

// Comparable reports whether fingerprint fp was made under key, so that a
// different fingerprint means a different code. A fingerprint under
// another key (or no fingerprint) says nothing about the code.
func Comparable(fp string, key []byte) bool {
	return strings.HasPrefix(fp, FingerprintPrefix+KeyID(key)+":")
}

func mac(key []byte, domain, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(domain))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// FingerprintPrefix starts every Fingerprint (and no legacy hash).
const FingerprintPrefix = "m1:"

// The domains keep the key's two uses apart.
const (
	fingerprintDomain = "ScanBox payment code\x00"
	keyIDDomain       = "ScanBox key id\x00"
)

// LegacyHash is what ScanBox before issue 8 stored as order.CodeHash: the
// unsalted SHA-256 of the trimmed code. It is computed only in memory, to
// recognise a rescan of a code whose order an earlier version journaled and
// that is still unresolved; it must never be stored again.
func LegacyHash(code string) string {
	h := sha256.Sum256([]byte(Clean(code)))
	return hex.EncodeToString(h[:])
}

// IsLegacyHash reports whether a stored order.CodeHash is a LegacyHash
// (64 lowercase hex digits), which the journal drops as soon as the order
// is resolved.
func IsLegacyHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !(h[i] >= '0' && h[i] <= '9' || h[i] >= 'a' && h[i] <= 'f') {
			return false
		}
	}
	return true
}
