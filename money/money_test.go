package money

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	ok := []struct {
		in   string
		want Fen
	}{
		{"12.5", 1250}, {"12.50", 1250}, {"1,234.50", 123450}, {"¥12.50", 1250},
		{"￥ 12.50", 1250}, {" 0.01 ", 1}, {"10", 1000}, {"1000000", 100000000},
		{"1,000,000.00", 100000000}, {".5", 50}, {"7.", 700}, {"007.10", 710}, {"RMB 3", 300},
	}
	for _, c := range ok {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	bad := []struct {
		in   string
		want error
	}{
		{"12.505", ErrPrecision}, {"-1", ErrNotPos}, {"0", ErrNotPos}, {"0.00", ErrNotPos},
		{"abc", ErrSyntax}, {"1000000.01", ErrTooLarge}, {"99999999", ErrTooLarge},
		{"", ErrEmpty}, {"  ", ErrEmpty}, {"12,34", ErrSyntax}, {"1,2345.00", ErrSyntax},
		{"12.3.4", ErrSyntax}, {"1e3", ErrSyntax}, {".", ErrSyntax}, {"¥", ErrEmpty},
		{"12 .50", ErrSyntax}, {"--1", ErrSyntax}, {"0x10", ErrSyntax}, {"１２", ErrSyntax},
	}
	for _, c := range bad {
		got, err := Parse(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("Parse(%q) = %d, %v; want error %v", c.in, got, err, c.want)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	for _, f := range []Fen{1, 9, 10, 99, 100, 1250, 123450, 100000000} {
		got, err := Parse(f.String())
		if err != nil || got != f {
			t.Errorf("round trip %d via %q: %d, %v", f, f.String(), got, err)
		}
		got, err = Parse(f.Grouped())
		if err != nil || got != f {
			t.Errorf("round trip %d via %q: %d, %v", f, f.Grouped(), got, err)
		}
	}
	if s := Fen(123456789).Grouped(); s != "1,234,567.89" {
		t.Errorf("Grouped = %q", s)
	}
	if s := Fen(5).String(); s != "0.05" {
		t.Errorf("String = %q", s)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"12.50", "1,234.5", "¥0.01", "-3", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		if v <= 0 || v > Max {
			t.Fatalf("Parse(%q) accepted out-of-range %d", s, v)
		}
		back, err := Parse(v.String())
		if err != nil || back != v {
			t.Fatalf("Parse(%q)=%d does not round-trip: %d %v", s, v, back, err)
		}
	})
}

// Issue 11 item 8: a Chinese IME types full-width digits and ￥.
func TestNormalizeFullWidth(t *testing.T) {
	for in, want := range map[string]Fen{"１２５０": 125000, "￥１２．５": 1250, "１，２３４．５０": 123450, "　12.50元": 1250, "12。5": 1250} {
		got, err := Parse(Normalize(in))
		if err != nil || got != want {
			t.Errorf("Parse(Normalize(%q)) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := Parse(Normalize("－５")); err != ErrNotPos {
		t.Errorf("full-width minus: %v", err)
	}
	if Normalize("12.50") != "12.50" {
		t.Error("ASCII changed")
	}
}
