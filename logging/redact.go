package logging

import (
	"log/slog"
	"strings"

	"github.com/scanbox/scanbox/scan"
)

// Redacted replaces a secret's value.
const Redacted = "[redacted]"

// secretWords: an attribute (or group) whose key has one of these words,
// split at '_', '-', '.' or a case change, is a secret. Words, not
// substrings, so "hotkey" or "keyboard" stay readable.
var secretWords = map[string]bool{
	"key": true, "keys": true, "sign": true, "signature": true, "secret": true,
	"password": true, "passwd": true, "token": true, "cipher": true, "authorization": true,
}

// secretKeys are whole keys that are secrets though no word says so.
var secretKeys = map[string]bool{"activation_code": true}

// codeKeys carry a payment code: it is logged masked (first 4 + last 4).
var codeKeys = map[string]bool{"auth_code": true, "code": true, "payment_code": true}

// Redact is the slog ReplaceAttr that every handler of this package uses;
// other handlers (e.g. a CLI's stderr logger) can use it too.
func Redact(groups []string, a slog.Attr) slog.Attr {
	for _, g := range groups {
		if isSecret(g) {
			return slog.String(a.Key, Redacted)
		}
	}
	if isSecret(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	if codeKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, scan.Mask(a.Value.String()))
	}
	return a
}

func isSecret(key string) bool {
	lk := strings.ToLower(key)
	if secretKeys[lk] {
		return true
	}
	for _, w := range splitWords(key) {
		if secretWords[w] {
			return true
		}
	}
	return false
}

// splitWords splits "signingKey", "key_cipher", "X-Sign" into lower-case words.
func splitWords(s string) []string {
	var words []string
	start := 0
	flush := func(end int) {
		if end > start {
			words = append(words, strings.ToLower(s[start:end]))
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c == '-' || c == '.' || c == ' ':
			flush(i)
			start = i + 1
		case c >= 'A' && c <= 'Z' && i > start && s[i-1] >= 'a' && s[i-1] <= 'z':
			flush(i)
			start = i
		}
	}
	flush(len(s))
	return words
}
