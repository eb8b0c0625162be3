package scan

import (
	"errors"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/order"
)

func TestRecognizeWallets(t *testing.T) {
	tests := []struct {
		name string
		code string
		want order.Channel
	}{
		{"wechat 10", "134567890123456789", order.ChannelWeChat},
		{"wechat low prefix", "100000000000000000", order.ChannelWeChat},
		{"wechat high prefix", "159999999999999999", order.ChannelWeChat},
		{"wechat with CRLF", "134567890123456789\r\n", order.ChannelWeChat},
		{"wechat with spaces", "  134567890123456789\t", order.ChannelWeChat},
		{"alipay 16", "2800000000000000", order.ChannelAlipay},
		{"alipay 18", "281234567890123456", order.ChannelAlipay},
		{"alipay 24", "300000000000000000000000", order.ChannelAlipay},
		{"alipay 25 prefix", "250000000000000000", order.ChannelAlipay},
		{"unionpay", "6212345678901234567", order.ChannelUnionPay},
		{"ecny", "0112345678901234567", order.ChannelECNY},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Recognize(tt.code)
			if err != nil {
				t.Fatalf("Recognize(%q) error: %v", tt.code, err)
			}
			if got != tt.want {
				t.Fatalf("Recognize(%q) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}

func TestRecognizeRefusals(t *testing.T) {
	tests := []struct {
		name string
		code string
		want Reason
		text string
	}{
		{"empty", "", ReasonEmpty, "nothing"},
		{"only CRLF", "\r\n", ReasonEmpty, "nothing"},
		{"EAN-13", "6901234567892", ReasonProductBarcode, "product barcode"},
		{"EAN-13 with LF", "4006381333931\n", ReasonProductBarcode, "product barcode"},
		{"EAN-8", "96385074", ReasonProductBarcode, "product barcode"},
		{"UPC-A", "036000291452", ReasonProductBarcode, "product barcode"},
		{"EAN-13 bad check digit", "6901234567893", ReasonWrongLength, "wrong length"},
		{"url https", "https://qr.alipay.com/abc", ReasonURL, "web address"},
		{"url http", "HTTP://example.com/134567890123456789", ReasonURL, "web address"},
		{"url www", "www.example.com", ReasonURL, "web address"},
		{"wechat scheme", "weixin://wxpay/bizpayurl?pr=abc", ReasonURL, "web address"},
		{"letters", "13456789012345678A", ReasonLetters, "letters"},
		{"chinese letters", "付款码", ReasonLetters, "letters"},
		{"symbols", "1345-6789-0123-4567", ReasonSymbols, "other than digits"},
		{"inner space", "134567890 123456789", ReasonSymbols, "other than digits"},
		{"fullwidth digits", "１３４５６７８９０１２３４５６７８９", ReasonSymbols, "other than digits"},
		{"too short", "1345678901", ReasonWrongLength, "wrong length"},
		{"too long", "1345678901234567890123456", ReasonWrongLength, "wrong length"},
		{"wechat 17 digits", "13456789012345678", ReasonUnknownPrefix, "does not start"},
		{"wechat 19 digits", "1345678901234567890", ReasonUnknownPrefix, "does not start"},
		{"prefix 16 at 18", "164567890123456789", ReasonUnknownPrefix, "does not start"},
		{"prefix 09 at 18", "094567890123456789", ReasonUnknownPrefix, "does not start"},
		{"prefix 31 at 18", "314567890123456789", ReasonUnknownPrefix, "does not start"},
		{"alipay prefix 24", "2400000000000000", ReasonUnknownPrefix, "does not start"},
		{"unionpay 18 digits", "621234567890123456", ReasonUnknownPrefix, "does not start"},
		{"unionpay 20 digits", "62123456789012345678", ReasonUnknownPrefix, "does not start"},
		{"ecny 18 digits", "011234567890123456", ReasonUnknownPrefix, "does not start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := Recognize(tt.code)
			if err == nil {
				t.Fatalf("Recognize(%q) = %v, want refusal %v", tt.code, ch, tt.want)
			}
			if ch != order.ChannelNone {
				t.Errorf("channel = %v on refusal", ch)
			}
			if !errors.Is(err, ErrNotPaymentCode) {
				t.Errorf("error %v is not ErrNotPaymentCode", err)
			}
			var re *RefusalError
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not *RefusalError", err)
			}
			if re.Reason != tt.want {
				t.Errorf("reason = %v, want %v", re.Reason, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.text) {
				t.Errorf("message %q does not contain %q", msg, tt.text)
			}
			// A refusal may be logged: it must not carry the scanned value.
			if c := Clean(tt.code); len(c) >= 4 && strings.Contains(msg, c) {
				t.Errorf("message %q contains the scanned value", msg)
			}
			if strings.Count(msg, "\n") != 0 {
				t.Errorf("message %q is not one line", msg)
			}
		})
	}
}

func TestRulesTableIsConsistent(t *testing.T) {
	for _, r := range Rules {
		if r.MinLen <= 0 || r.MaxLen < r.MinLen || len(r.Prefixes) == 0 || r.Channel == order.ChannelNone {
			t.Errorf("bad rule %+v", r)
		}
		for _, p := range r.Prefixes {
			if p == "" || !allDigits(p) {
				t.Errorf("rule %v: bad prefix %q", r.Channel, p)
			}
			// Every rule must be reachable: build a code from it.
			code := p + strings.Repeat("0", r.MinLen-len(p))
			if got, err := Recognize(code); err != nil || got != r.Channel {
				t.Errorf("code %s built from rule %v recognised as %v, %v", code, r.Channel, got, err)
			}
		}
	}
}

func TestReasonRoundTrip(t *testing.T) {
	if all := Reasons(); len(all) != int(ReasonUnknownPrefix) || all[0] != ReasonEmpty {
		t.Errorf("Reasons() = %v", all)
	}
	for _, r := range Reasons() {
		got, err := ParseReason(r.String())
		if err != nil || got != r {
			t.Errorf("ParseReason(%q) = %v, %v", r.String(), got, err)
		}
		if reasonText[r] == "" {
			t.Errorf("reason %v has no text", r)
		}
	}
	if _, err := ParseReason("EMPTY"); err == nil {
		t.Error("ParseReason accepted wrong case")
	}
	if _, err := ParseReason(""); err == nil {
		t.Error("ParseReason accepted empty")
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"134567890123456789", "1345**********6789"},
		{"134567890123456789\r\n", "1345**********6789"},
		{"2800000000000001", "2800********0001"},
		{"6212345678901234567", "6212***********4567"},
		{"123456789012345", "***************"},
		{"12345678", "********"},
		{"123", "***"},
		{"", ""},
		{"付款码付款码付款码付款码付款码付款码", "付款码付**********码付款码"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLegacyHash(t *testing.T) {
	// SHA-256("abc"), the FIPS 180-2 test vector.
	if got := LegacyHash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("LegacyHash(abc) = %s", got)
	}
	if LegacyHash("134567890123456789") != LegacyHash("134567890123456789\r\n") {
		t.Error("trailing CRLF changes the hash")
	}
	if LegacyHash("134567890123456789") == LegacyHash("134567890123456788") {
		t.Error("different codes hash the same")
	}
	if !IsLegacyHash(LegacyHash("134567890123456789")) || IsLegacyHash(Fingerprint([]byte("k"), "134567890123456789")) ||
		IsLegacyHash("hash-A0001") || IsLegacyHash(strings.ToUpper(LegacyHash("1"))) {
		t.Error("IsLegacyHash")
	}
}

func TestFingerprint(t *testing.T) {
	k1, k2 := []byte("installation one's key, 32 bytes"), []byte("installation two's key, 32 bytes")
	const code = "134567890123456789"
	f := Fingerprint(k1, code)
	// Key id: HMAC-SHA256(k1, "ScanBox key id\x00")[:8 hex]; MAC:
	// HMAC-SHA256(k1, "ScanBox payment code\x00134567890123456789"); both
	// computed independently with openssl, e.g.
	//   printf 'ScanBox payment code\0%s' 134567890123456789 |
	//   openssl dgst -sha256 -hmac "installation one's key, 32 bytes"
	if f != "m1:691878f8:bffb28c9e3b2c6edc92339b31f294e8ed08cfb855228b377883d0b4cae982d5e" {
		t.Fatalf("Fingerprint = %q", f)
	}
	if f != Fingerprint(k1, code+"\r\n") {
		t.Error("trailing CRLF changes the fingerprint")
	}
	if f == Fingerprint(k2, code) || f == Fingerprint(k1, "134567890123456788") {
		t.Error("fingerprint ignores the key or the code")
	}
	if strings.Contains(f, LegacyHash(code)) {
		t.Error("the fingerprint contains the unkeyed hash")
	}
	if !Comparable(f, k1) || Comparable(f, k2) || Comparable(LegacyHash(code), k1) || Comparable("", k1) {
		t.Error("Comparable")
	}
}

func FuzzRecognize(f *testing.F) {
	for _, s := range []string{"134567890123456789", "2800000000000000", "6212345678901234567",
		"0112345678901234567", "6901234567892", "https://x", "abc", "", "\r\n", "１２３"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ch, err := Recognize(s)
		c := Clean(s)
		if err == nil {
			if !allDigits(c) {
				t.Fatalf("accepted non-digits %q", s)
			}
			matched := false
			for _, r := range Rules {
				if r.Channel != ch || len(c) < r.MinLen || len(c) > r.MaxLen {
					continue
				}
				for _, p := range r.Prefixes {
					matched = matched || strings.HasPrefix(c, p)
				}
			}
			if !matched {
				t.Fatalf("accepted %q as %v without a matching rule", s, ch)
			}
		} else {
			var re *RefusalError
			if !errors.As(err, &re) || !errors.Is(err, ErrNotPaymentCode) || reasonText[re.Reason] == "" {
				t.Fatalf("bad refusal for %q: %v", s, err)
			}
			if ch != order.ChannelNone {
				t.Fatalf("refusal with channel %v", ch)
			}
		}
		m := Mask(s)
		mr, cr := []rune(m), []rune(c)
		if len(mr) != len(cr) {
			t.Fatalf("Mask(%q) = %q changes the length", s, m)
		}
		shown := 0
		for i := range mr {
			if mr[i] != '*' {
				shown++
				if mr[i] != cr[i] {
					t.Fatalf("Mask(%q) = %q alters characters", s, m)
				}
			}
		}
		if shown > 8 || (len(cr) < 16 && shown > 0) {
			t.Fatalf("Mask(%q) = %q shows %d characters", s, m, shown)
		}
		if len(LegacyHash(s)) != 64 || !strings.HasPrefix(Fingerprint([]byte("k"), s), FingerprintPrefix) {
			t.Fatalf("hash length")
		}
	})
}
