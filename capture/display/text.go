package display

// Plain text lines: the POS writes "TOTAL 25.00" and the like, ended by CR,
// LF or CRLF. Control bytes are ignored, ESC and the byte after it are
// skipped, and a line longer than maxLine is dropped whole (so memory stays
// bounded on a line that never ends).

type text struct {
	line     []byte
	overflow bool
	escaped  bool
	dirty    bool
	prev     string // the line before, for a label whose number is below it
	tr       tracker
	gbk      gbkDecoder
	rs       []reading
}

func newText() *text {
	return &text{line: make([]byte, 0, maxLine), tr: tracker{profile: ProfileText}}
}

func (p *text) Profile() Profile { return ProfileText }

func (p *text) Feed(b []byte, emit func(Event)) {
	for _, c := range b {
		switch {
		case p.escaped:
			p.escaped = false
		case c == esc:
			p.escaped = true
		case c == cr || c == lf:
			p.endLine(emit)
		case c < 0x20 || c == 0x7F:
			// noise
		case len(p.line) < maxLine:
			p.line = append(p.line, c)
			p.dirty = true
		default:
			p.overflow = true
		}
	}
}

// Flush evaluates a line the POS left without a terminator; the line is
// kept, so that if it goes on, the whole line is evaluated again (and the
// reporting rule drops the repeat).
func (p *text) Flush(emit func(Event)) {
	if p.dirty && !p.overflow {
		p.dirty = false
		p.rs = extract([]string{p.prev, p.gbk.decode(p.line)}, p.rs[:0])
		p.report(emit)
	}
}

func (p *text) endLine(emit func(Event)) {
	if p.overflow {
		p.line, p.overflow, p.dirty = p.line[:0], false, false
		p.prev = ""
		return
	}
	if len(p.line) == 0 {
		return // the LF of a CRLF, or a blank line
	}
	cur := p.gbk.decode(p.line)
	if p.dirty {
		p.rs = extract([]string{p.prev, cur}, p.rs[:0])
		p.report(emit)
	}
	p.prev = cur
	p.line, p.dirty = p.line[:0], false
}

// report passes on only the readings of the current line: the previous line
// is there to lend its trailing label, and its own amounts were reported
// when it ended.
func (p *text) report(emit func(Event)) {
	prevOnly := extract([]string{p.prev}, nil)
	p.tr.screen(p.rs[len(prevOnly):], emit)
}
