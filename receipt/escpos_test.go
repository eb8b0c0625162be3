package receipt

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// A small ESC/POS interpreter for the tests: it runs the bytes a slip
// produces the way a GBK receipt printer would, and reports the printed
// lines with their attributes. Any byte sequence it does not know fails
// the test, so a stray command cannot slip through.

type printedLine struct {
	text   string // GBK decoded back to UTF-8
	align  Align
	bold   bool
	double bool
	cols   int // printer columns used, double-size counted twice
}

type printout struct {
	lines    []printedLine
	inits    int
	cuts     int
	chinese  bool
	afterCut int // bytes after the last cut
}

// fataler is the part of testing.TB the parser uses, so that a test can
// check that the parser does fail.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func parseESCPOS(t fataler, b []byte) printout {
	t.Helper()
	var p printout
	var (
		align        Align
		bold         bool
		gsSize       byte
		fsSize       byte
		raw          []byte
		cols         int
		lineStarted  bool
		lineBold     bool
		lineDouble   bool
		lineAlign    Align
		cutAt        = -1
		sawTextAfter bool
	)
	flush := func() {
		text, err := simplifiedchinese.GBK.NewDecoder().Bytes(raw)
		if err != nil {
			t.Fatalf("line %q is not GBK: %v", raw, err)
		}
		l := printedLine{text: string(text), align: align, bold: bold, double: gsSize != 0, cols: cols}
		if lineStarted {
			l.align, l.bold, l.double = lineAlign, lineBold, lineDouble
		}
		if l.double {
			l.cols *= 2
		}
		p.lines = append(p.lines, l)
		raw, cols, lineStarted = nil, 0, false
	}
	need := func(i, n int) {
		if i+n >= len(b) {
			t.Fatalf("command at %d is cut short: % x", i, b[i:])
		}
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if cutAt >= 0 {
			sawTextAfter = true
		}
		switch {
		case c == 0x1B:
			need(i, 1)
			switch b[i+1] {
			case '@':
				p.inits++
				align, bold, gsSize, fsSize, p.chinese = Left, false, 0, 0, false
				i++
			case 'a':
				need(i, 2)
				if b[i+2] > 2 {
					t.Fatalf("ESC a %d: bad alignment", b[i+2])
				}
				align = Align(b[i+2])
				i += 2
			case 'E':
				need(i, 2)
				bold = b[i+2]&1 == 1
				i += 2
			default:
				t.Fatalf("unknown ESC command % x at %d", b[i:i+2], i)
			}
		case c == 0x1D:
			need(i, 1)
			switch b[i+1] {
			case '!':
				need(i, 2)
				gsSize = b[i+2]
				if gsSize != 0 && gsSize != 0x11 {
					t.Fatalf("GS ! %#x: only normal and double size are used", gsSize)
				}
				i += 2
			case 'V':
				need(i, 2)
				m := b[i+2]
				i += 2
				if m == 65 || m == 66 {
					need(i, 0)
					i++ // the feed amount n
				} else if m > 1 && m != 48 && m != 49 {
					t.Fatalf("GS V %d: unknown cut", m)
				}
				p.cuts++
				cutAt = i
			default:
				t.Fatalf("unknown GS command % x at %d", b[i:i+2], i)
			}
		case c == 0x1C:
			need(i, 1)
			switch b[i+1] {
			case '&':
				p.chinese = true
				i++
			case '.':
				p.chinese = false
				i++
			case '!':
				need(i, 2)
				fsSize = b[i+2]
				i += 2
			default:
				t.Fatalf("unknown FS command % x at %d", b[i:i+2], i)
			}
		case c == '\n':
			flush()
		case c < 0x20 || c == 0x7F:
			t.Fatalf("stray control byte %#x at %d", c, i)
		default:
			if !lineStarted {
				lineStarted, lineBold, lineDouble, lineAlign = true, bold, gsSize != 0, align
			} else if bold != lineBold || (gsSize != 0) != lineDouble || align != lineAlign {
				t.Fatalf("attributes change inside a line at %d", i)
			}
			if c >= 0x81 && p.chinese {
				need(i, 1)
				if (fsSize&0x0C == 0x0C) != (gsSize != 0) {
					t.Fatalf("two-byte character at %d: FS ! size %#x disagrees with GS ! %#x", i, fsSize, gsSize)
				}
				raw = append(raw, c, b[i+1])
				cols += 2
				i++
			} else {
				if c >= 0x80 {
					t.Fatalf("high byte %#x outside Chinese mode", c)
				}
				raw = append(raw, c)
				cols++
			}
		}
	}
	if len(raw) > 0 {
		t.Fatalf("text %q after the last line feed is never printed", raw)
	}
	if sawTextAfter {
		p.afterCut = len(b) - cutAt - 1
	}
	return p
}

// paper renders the printout as text the way the paper shows it, with the
// same column rules as Preview, and without the blank feed before the cut.
func (p printout) paper(paper Paper) []string {
	var out []string
	for _, l := range p.lines {
		avail := paper.Columns()
		w := l.cols
		if l.double {
			avail /= 2
			w /= 2
		}
		pad := 0
		switch l.align {
		case Center:
			pad = (avail - w) / 2
		case Right:
			pad = avail - w
		}
		out = append(out, strings.TrimRight(strings.Repeat(" ", pad)+l.text, " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func (p printout) find(t *testing.T, substr string) printedLine {
	t.Helper()
	for _, l := range p.lines {
		if strings.Contains(l.text, substr) {
			return l
		}
	}
	t.Fatalf("no printed line contains %q; lines:\n%s", substr, p.dump())
	return printedLine{}
}

func (p printout) dump() string {
	var b bytes.Buffer
	for _, l := range p.lines {
		b.WriteString(l.text)
		if l.bold {
			b.WriteString("  [bold]")
		}
		if l.double {
			b.WriteString("  [double]")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestParserRefusesUnknownCommands(t *testing.T) {
	// The interpreter must be able to fail: a sub-test with an unknown
	// command must report an error.
	for _, bad := range [][]byte{{0x1B, 'z', 1, '\n'}, {0x07, '\n'}, {'a', 'b'}, {0x1D, 'Q'}} {
		ft := &recorder{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			parseESCPOS(ft, bad)
		}()
		<-done
		if !ft.failed {
			t.Errorf("parser accepted % x", bad)
		}
	}
}

type recorder struct {
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
