package scanner

import (
	"errors"
	"fmt"
	"strings"
)

// Errors for refused serial lines. They never carry the line itself, which
// may be a payment code.
var (
	ErrTooLong    = errors.New("scanner: line longer than the limit")
	ErrGarbage    = errors.New("scanner: line has bytes a scanner does not send")
	ErrIncomplete = errors.New("scanner: line cut off without an end")
)

// DefaultMaxLen is the longest line accepted by default; payment codes are
// 16–24 digits, so 64 leaves room for prefixes and other code types.
const DefaultMaxLen = 64

// Lines splits a serial scanner's byte stream into codes: CR, LF or CRLF
// end a line, blank lines are skipped, surrounding spaces trimmed. A line
// with a byte outside printable ASCII (noise, a wrong baud rate) or longer
// than the limit is refused whole; the buffer never grows past the limit.
type Lines struct {
	MaxLen int // 0 means DefaultMaxLen

	buf      []byte
	overflow bool
	garbage  bool
}

// Feed processes p, calling code for each accepted line and reject for each
// refused one.
func (l *Lines) Feed(p []byte, code func(string), reject func(error)) {
	max := l.MaxLen
	if max <= 0 {
		max = DefaultMaxLen
	}
	for _, c := range p {
		switch {
		case c == '\r' || c == '\n':
			l.end(max, code, reject)
		case c < 0x20 || c > 0x7E:
			l.garbage = true
		case len(l.buf) < max:
			l.buf = append(l.buf, c)
		default:
			l.overflow = true
		}
	}
}

func (l *Lines) end(max int, code func(string), reject func(error)) {
	defer l.reset()
	switch {
	case l.overflow:
		reject(fmt.Errorf("%w (%d bytes)", ErrTooLong, max))
	case l.garbage:
		reject(ErrGarbage)
	default:
		if s := strings.TrimSpace(string(l.buf)); s != "" {
			code(s)
		}
	}
}

func (l *Lines) reset() {
	l.buf, l.overflow, l.garbage = l.buf[:0], false, false
}

// Idle drops a partial line after the line went quiet: a fragment of noise
// from plugging the scanner in must not be glued to the next real code.
func (l *Lines) Idle(reject func(error)) {
	if len(l.buf) > 0 || l.overflow || l.garbage {
		reject(ErrIncomplete)
	}
	l.reset()
}
