// Package receipt owns the paper slips ScanBox prints on the POS PC's
// receipt printer: a payment slip, a refund slip and a shift summary. One
// layout model (Slip, a list of Lines) is turned both into ESC/POS bytes in
// GBK for the printer (Bytes) and into plain text lines for the UI's preview
// (Preview), so that what the cashier previews is what is printed.
//
// It also owns the ways to reach a printer (Printer): the Windows spooler
// as RAW, CUPS' lp elsewhere, a serial port, and a file.
//
// It must never put a full payment code, a key, a PIN or a signature on a
// slip (a code is printed masked, by the one masking rule), and a printer
// that is missing or fails must only ever produce an *Error for the caller to
// show and ignore: receipts are optional, payments and refunds never wait on
// them.
package receipt

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Paper is the width of the receipt roll.
type Paper int

const (
	// Paper80 is 80 mm paper: 48 columns of the standard 12×24 font.
	Paper80 Paper = iota
	// Paper58 is 58 mm paper: 32 columns.
	Paper58
)

var paperNames = [...]string{"80mm", "58mm"}

func (p Paper) String() string {
	if p < 0 || int(p) >= len(paperNames) {
		return fmt.Sprintf("paper(%d)", int(p))
	}
	return paperNames[p]
}

// ParsePaper accepts what String writes, and "80"/"58".
func ParsePaper(s string) (Paper, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, n := range paperNames {
		if t == n || t == strings.TrimSuffix(n, "mm") {
			return Paper(i), nil
		}
	}
	return 0, fmt.Errorf("receipt: unknown paper width %q (use 80mm or 58mm)", s)
}

// Columns is how many single-width characters fit on a line.
func (p Paper) Columns() int {
	if p == Paper58 {
		return 32
	}
	return 48
}

// Lang is the language of the slip's labels.
type Lang int

const (
	// Chinese is the default, as for the UI.
	Chinese Lang = iota
	English
)

var langNames = [...]string{"zh-CN", "en"}

func (l Lang) String() string {
	if l < 0 || int(l) >= len(langNames) {
		return fmt.Sprintf("lang(%d)", int(l))
	}
	return langNames[l]
}

// ParseLang accepts config.Languages' names ("zh-CN", "en").
func ParseLang(s string) (Lang, error) {
	for i, n := range langNames {
		if s == n {
			return Lang(i), nil
		}
	}
	return 0, fmt.Errorf("receipt: unknown language %q (use zh-CN or en)", s)
}

// Align is a line's horizontal alignment.
type Align int

const (
	Left Align = iota
	Center
	Right
)

// Line is one element of the layout model. A line with Rule set is a
// separator across the paper. Otherwise Text is printed, or, when Value is
// set, Text at the left and Value at the right of the same line (a label and
// its value), wrapped onto more lines when both do not fit.
type Line struct {
	Text   string
	Value  string
	Align  Align
	Bold   bool
	Double bool // double width and height: each character takes two columns and two rows
	Rule   bool
}

// Slip is a laid-out receipt for one paper width.
type Slip struct {
	Paper Paper
	Lines []Line
}

// row is one printed line after layout: text that fits the paper, with its
// attributes. Both Bytes and Preview are made from rows only.
type row struct {
	text   string
	align  Align
	bold   bool
	double bool
}

// Width is the number of printer columns s takes: one per single-byte
// character, two per GBK double-byte character (every CJK character),
// which is exactly how a GBK receipt printer spaces them. A character GBK
// cannot encode is printed as "?" and counts as one.
func Width(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	if r < utf8.RuneSelf {
		return 1
	}
	if _, ok := gbkRune(r); ok {
		return 2
	}
	return 1
}

// gbkRune encodes one rune; ok is false when GBK has no such character.
func gbkRune(r rune) ([]byte, bool) {
	if r < utf8.RuneSelf {
		return []byte{byte(r)}, true
	}
	enc := encoders.Get().(*encoding.Encoder)
	defer encoders.Put(enc)
	var in [utf8.UTFMax]byte
	b, err := enc.Bytes(in[:utf8.EncodeRune(in[:], r)])
	if err != nil || len(b) != 2 {
		return nil, false
	}
	return b, true
}

// encoders keeps GBK encoders for reuse: making one per character made a
// long slip take seconds.
var encoders = sync.Pool{New: func() any { return simplifiedchinese.GBK.NewEncoder() }}

// clean removes control characters (a store name from the bank could
// otherwise carry printer commands), folds line breaks to spaces and turns
// a character GBK lacks into "?", as the printer would print it.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r) || r == utf8.RuneError:
			return -1
		}
		if _, ok := gbkRune(r); !ok {
			return '?' // printed as "?", so previewed as "?"
		}
		return r
	}, s)
}

// wrap breaks s into pieces of at most cols columns, preferring spaces.
func wrap(s string, cols int) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{""}
	}
	var out []string
	for s != "" {
		if Width(s) <= cols {
			out = append(out, s)
			break
		}
		// Longest prefix that fits.
		w, cut, lastSpace := 0, 0, -1
		for i, r := range s {
			rw := runeWidth(r)
			if w+rw > cols {
				break
			}
			w += rw
			cut = i + utf8.RuneLen(r)
			if r == ' ' {
				lastSpace = i
			}
		}
		if cut == 0 { // cols < 2 and a wide rune: take it anyway
			_, n := utf8.DecodeRuneInString(s)
			cut = n
		}
		if lastSpace > 0 && lastSpace >= cut/2 {
			cut = lastSpace
		}
		out = append(out, strings.TrimRight(s[:cut], " "))
		s = strings.TrimLeft(s[cut:], " ")
	}
	return out
}

// rows lays the slip out for its paper width.
func (s Slip) rows() []row {
	cols := s.Paper.Columns()
	var out []row
	for _, l := range s.Lines {
		c := cols
		if l.Double {
			c = cols / 2
		}
		switch {
		case l.Rule:
			out = append(out, row{text: strings.Repeat("-", cols)})
		case l.Value != "":
			text, value := clean(l.Text), clean(l.Value)
			gap := c - Width(text) - Width(value)
			if gap >= 1 {
				out = append(out, row{text: text + strings.Repeat(" ", gap) + value, bold: l.Bold, double: l.Double})
				break
			}
			// The label on its own line(s), the value right-aligned below.
			for _, t := range wrap(text, c) {
				out = append(out, row{text: t, bold: l.Bold, double: l.Double})
			}
			for _, v := range wrap(value, c) {
				out = append(out, row{text: v, align: Right, bold: l.Bold, double: l.Double})
			}
		default:
			for _, t := range wrap(clean(l.Text), c) {
				out = append(out, row{text: t, align: l.Align, bold: l.Bold, double: l.Double})
			}
		}
	}
	return out
}

// PreviewRow is one row of the preview with the attributes the printer
// gives it, for a UI that draws bold and double size.
type PreviewRow struct {
	Text   string // as in Preview, alignment padding included
	Bold   bool
	Double bool
}

// PreviewRows is Preview with each row's attributes.
func (s Slip) PreviewRows() []PreviewRow {
	rows := s.rows()
	out := make([]PreviewRow, len(rows))
	for i, t := range s.Preview() {
		out[i] = PreviewRow{Text: t, Bold: rows[i].bold, Double: rows[i].double}
	}
	return out
}

// Preview is the slip as the UI shows it: one string per printed row,
// padded as the printer aligns it. A double-size row is shown with its
// characters once (a UI draws it larger); its alignment padding is in
// printer columns halved, as on paper.
func (s Slip) Preview() []string {
	cols := s.Paper.Columns()
	var out []string
	for _, r := range s.rows() {
		c := cols
		if r.double {
			c = cols / 2
		}
		pad := 0
		switch r.align {
		case Center:
			pad = (c - Width(r.text)) / 2
		case Right:
			pad = c - Width(r.text)
		}
		if pad < 0 {
			pad = 0
		}
		out = append(out, strings.TrimRight(strings.Repeat(" ", pad)+r.text, " "))
	}
	return out
}

// Text is Preview joined with newlines, for a plain text box or a log-free
// demo file.
func (s Slip) Text() string { return strings.Join(s.Preview(), "\n") + "\n" }

// ESC/POS commands used (Epson ESC/POS, as Chinese receipt printers
// implement it).
var (
	cmdInit       = []byte{0x1B, '@'}        // ESC @: reset the printer's modes
	cmdChineseOn  = []byte{0x1C, '&'}        // FS &: two-byte (GBK) character mode
	cmdBoldOn     = []byte{0x1B, 'E', 1}     // ESC E 1
	cmdBoldOff    = []byte{0x1B, 'E', 0}     // ESC E 0
	cmdSizeDouble = []byte{0x1D, '!', 0x11}  // GS ! 0x11: double width and height (one-byte characters)
	cmdSizeNormal = []byte{0x1D, '!', 0x00}  // GS ! 0
	cmdCJKDouble  = []byte{0x1C, '!', 0x0C}  // FS ! 0x0C: the same for two-byte characters
	cmdCJKNormal  = []byte{0x1C, '!', 0x00}  // FS ! 0
	cmdFeedCut    = []byte{0x1D, 'V', 66, 3} // GS V 66 n: feed to the cutter (+3 dots) and cut partially
)

func cmdAlign(a Align) []byte { return []byte{0x1B, 'a', byte(a)} } // ESC a n

// Bytes is the slip as ESC/POS in GBK: initialise, Chinese mode, the rows
// with their alignment, bold and size, a few blank lines, and a cut.
func (s Slip) Bytes() []byte {
	var b bytes.Buffer
	b.Write(cmdInit)
	b.Write(cmdChineseOn)
	align, bold, double := Left, false, false
	for _, r := range s.rows() {
		if r.align != align {
			b.Write(cmdAlign(r.align))
			align = r.align
		}
		if r.bold != bold {
			if r.bold {
				b.Write(cmdBoldOn)
			} else {
				b.Write(cmdBoldOff)
			}
			bold = r.bold
		}
		if r.double != double {
			if r.double {
				b.Write(cmdSizeDouble)
				b.Write(cmdCJKDouble)
			} else {
				b.Write(cmdSizeNormal)
				b.Write(cmdCJKNormal)
			}
			double = r.double
		}
		for _, c := range r.text {
			if e, ok := gbkRune(c); ok {
				b.Write(e)
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte('\n')
	}
	if bold {
		b.Write(cmdBoldOff)
	}
	if double {
		b.Write(cmdSizeNormal)
		b.Write(cmdCJKNormal)
	}
	if align != Left {
		b.Write(cmdAlign(Left))
	}
	// Blank lines so that the last row clears the cutter on printers whose
	// GS V 66 feeds too little.
	b.WriteString("\n\n\n")
	b.Write(cmdFeedCut)
	return b.Bytes()
}
