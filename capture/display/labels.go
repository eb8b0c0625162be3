package display

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"

	"github.com/scanbox/scanbox/money"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// label is a word a POS puts before an amount on a text display.
type label struct {
	text string // upper case for ASCII labels
	role role
}

// labels decide what a number on a text display means. Order matters only
// where one label contains another; none does today.
var labels = []label{
	{"合计", roleTotal}, {"总计", roleTotal}, {"应收", roleTotal}, {"应付", roleTotal},
	{"AMOUNT DUE", roleTotal}, {"TOTAL", roleTotal},
	{"找零", roleEnd}, {"收款", roleEnd}, {"实收", roleEnd}, {"CHANGE", roleEnd}, {"CASH", roleEnd},
	{"单价", roleOther}, {"PRICE", roleOther},
}

// decodeLine turns display bytes into text. Labels arrive in ASCII or GBK;
// GB18030 decodes both (ASCII is a subset) and never fails, so a garbled
// byte becomes U+FFFD instead of hiding the rest of the line.
func decodeLine(b []byte) string { return new(gbkDecoder).decode(b) }

// gbkDecoder keeps one GB18030 decoder for a parser's lifetime: making one
// per line was most of the parsing time.
type gbkDecoder struct {
	dec *encoding.Decoder
	buf []byte
}

func (d *gbkDecoder) decode(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	if d.dec == nil {
		d.dec = simplifiedchinese.GB18030.NewDecoder()
	}
	if cap(d.buf) < 4*len(b) {
		d.buf = make([]byte, 4*len(b))
	}
	d.dec.Reset()
	n, _, err := d.dec.Transform(d.buf[:cap(d.buf)], b, true)
	if err != nil {
		return string(b)
	}
	return string(d.buf[:n])
}

func isASCIILetter(r rune) bool {
	return r < utf8.RuneSelf && ('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z')
}
func isDigitRune(r rune) bool { return '0' <= r && r <= '9' }

// extract finds labelled amounts in lines read top to bottom. A label takes
// the first number after it on its own line, or, if its line has none, the
// first number on the next line ("合计" above "25.00"). A number without a
// label is ignored: it is an item code, a quantity or a clock.
func extract(lines []string, rs []reading) []reading {
	pending := roleNone
	for _, raw := range lines {
		line := strings.ToUpper(raw)
		carried := pending != roleNone
		setHere := false
		for i := 0; i < len(line); {
			if l, n := matchLabel(line, i); n > 0 {
				pending, setHere = l, true
				i += n
				continue
			}
			r, size := utf8.DecodeRuneInString(line[i:])
			if isDigitRune(r) || r == '¥' || r == '￥' {
				tok, n, neg := numberAt(line, i)
				if n == 0 {
					i += size
					continue
				}
				if pending != roleNone {
					f, err := money.Parse(tok)
					rs = append(rs, reading{role: pending, amount: f, valid: err == nil && !neg})
					pending, setHere = roleNone, false
				}
				i += n
				continue
			}
			i += size
		}
		// A label carries over one line break at most.
		if carried && !setHere {
			pending = roleNone
		}
	}
	return rs
}

// labelStart marks the bytes a label can begin with, so that most positions
// are ruled out with one lookup (this was most of the parsing time).
var labelStart = func() (t [256]bool) {
	for _, l := range labels {
		t[l.text[0]] = true
	}
	return t
}()

func matchLabel(line string, i int) (role, int) {
	if !labelStart[line[i]] {
		return roleNone, 0
	}
	for _, l := range labels {
		if !strings.HasPrefix(line[i:], l.text) {
			continue
		}
		first, _ := utf8.DecodeRuneInString(l.text)
		if isASCIILetter(first) {
			// A whole word only: SUBTOTAL is not TOTAL, CASHIER is not CASH.
			if prev, _ := utf8.DecodeLastRuneInString(line[:i]); isASCIILetter(prev) {
				continue
			}
			if next, _ := utf8.DecodeRuneInString(line[i+len(l.text):]); isASCIILetter(next) {
				continue
			}
		}
		return l.role, len(l.text)
	}
	return roleNone, 0
}

// numberAt reads an amount token at i: an optional ¥/￥ and spaces, digits
// and commas, an optional fraction. It returns the token, its length in
// bytes (0 if there is no digit) and whether a minus sign stood before it.
func numberAt(line string, i int) (string, int, bool) {
	j := i
	if r, size := utf8.DecodeRuneInString(line[j:]); r == '¥' || r == '￥' {
		j += size
		for j < len(line) && line[j] == ' ' {
			j++
		}
	}
	start := j
	for j < len(line) && (isDigitRune(rune(line[j])) || line[j] == ',') {
		j++
	}
	if j == start || line[start] == ',' {
		return "", 0, false
	}
	if j < len(line) && line[j] == '.' {
		j++
		for j < len(line) && isDigitRune(rune(line[j])) {
			j++
		}
	}
	neg := false
	k := i - 1
	for k >= 0 && line[k] == ' ' {
		k--
	}
	if k >= 0 && line[k] == '-' {
		neg = true
	}
	return line[start:j], j - i, neg
}
