package display

// The 2-line text displays (CD5220-style VFDs and Epson ESC/POS customer
// displays) share one screen model: two lines of width columns, a cursor,
// and commands that write text, move the cursor or clear. The screen is
// evaluated (labels and amounts read) whenever the POS finishes a piece of
// drawing: a CR or LF, a cursor move, an ESC Q line, before a clear, and when
// the line goes quiet (Flush).

type dialect int

const (
	dialectCD5220 dialect = iota
	dialectESCPOS
	dialectANSI // Wincor BA63/I8: ESC [ params final (ECMA-48 subset)
	dialectIBM  // IBM SurePOS-style / Logic Controls: DLE n cursor, NUL SOH mode
)

type scrState int

const (
	scrIdle scrState = iota
	scrEsc
	scrUS
	scrSkip    // skipping a fixed number of parameter bytes
	scrQ       // CD5220 ESC Q: which line
	scrQText   // CD5220 ESC Q A/B/D text up to CR
	scrCursor  // cursor position: x then y
	scrEscEq   // ESC/POS ESC = n
	scrAmp     // ESC/POS ESC & y c1 c2 header
	scrAmpData // ESC/POS ESC & glyph data
	scrBracket // CD5220 ESC [ x
	scrWindow  // ESC/POS ESC W n m [x1 y1 x2 y2]
	scrCSI     // ANSI ESC [ parameters up to the final byte
	scrDLE     // IBM DLE n: cursor to cell n
)

type screen struct {
	d       dialect
	width   int
	lines   [2][]byte
	row     int
	col     int
	dirty   bool
	enabled bool // ESC/POS ESC = n can route the data to the printer instead
	scroll  bool // LF on the last line scrolls up (else wraps to the top)

	st        scrState
	skip      int
	qLine     int
	text      []byte
	overflow  bool
	param     [3]byte
	nparam    int
	ampLeft   int // glyphs still to skip in ESC &
	ampY      int
	ampData   int // data bytes still to skip in the current glyph
	ampHeader bool

	csi  [8]byte // ANSI parameter bytes
	ncsi int
	mb   int // bytes still to come of a multi-byte character being put
	cell int // the cursor's cell on its line (col is its byte offset); mb -1: a lead byte was put

	tr  tracker
	rs  []reading
	gbk gbkDecoder
}

func newScreen(d dialect, width int, p Profile) *screen {
	if width <= 0 {
		width = 20
	}
	if width > maxWidth {
		width = maxWidth
	}
	s := &screen{d: d, width: width, enabled: true, text: make([]byte, 0, maxText)}
	s.lines[0] = make([]byte, 0, maxWidth)
	s.lines[1] = make([]byte, 0, maxWidth)
	s.tr.profile = p
	// CD5220 poles are usually driven line by line and scroll; Epson
	// displays power up in overwrite mode (US MD1).
	s.scroll = d == dialectCD5220
	return s
}

func (s *screen) Profile() Profile { return s.tr.profile }

func (s *screen) Flush(emit func(Event)) { s.evaluate(emit) }

func (s *screen) evaluate(emit func(Event)) {
	if !s.dirty {
		return
	}
	s.dirty = false
	s.rs = extract([]string{s.gbk.decode(s.lines[0]), s.gbk.decode(s.lines[1])}, s.rs[:0])
	s.tr.screen(s.rs, emit)
}

func (s *screen) clear() {
	s.lines[0], s.lines[1] = s.lines[0][:0], s.lines[1][:0]
	s.row, s.col, s.cell, s.mb = 0, 0, 0, 0
	s.dirty = true
}

// put writes one byte at the cursor, overwriting, and moves right,
// wrapping to the next line before a character that would not fit. Widths
// are counted in characters as the POS counts them: a GBK character is two
// bytes and two cells, but a GB18030 four-byte character (¥ is one) takes
// one cell, so a POS padding "¥25.00" to 20 characters does not wrap the
// amount off its line. A character is never split by a wrap.
func (s *screen) put(c byte) {
	switch {
	case s.mb == 0: // a new character
		if s.cell >= s.width {
			s.col, s.cell = 0, 0
			s.lineFeed()
		}
		if c >= 0x81 && c <= 0xFE {
			s.mb = -1 // a lead byte: its second byte says how long it is
		} else {
			s.cell++
		}
	case s.mb < 0: // the second byte: a digit makes it a four-byte character
		if c >= '0' && c <= '9' {
			s.mb = 2
		} else {
			s.mb = 0
			s.cell += 2
		}
	default:
		s.mb--
		if s.mb == 0 {
			s.cell++
		}
	}
	l := s.lines[s.row]
	for len(l) < s.col {
		l = append(l, ' ')
	}
	if s.col < len(l) {
		l[s.col] = c
	} else {
		l = append(l, c)
	}
	s.lines[s.row] = l
	s.col++
	s.dirty = true
}

// charLen is the length of the GB18030 character at the start of b (1 for
// ASCII and for a byte that starts no valid sequence).
func charLen(b []byte) int {
	if len(b) >= 2 && b[0] >= 0x81 && b[0] <= 0xFE {
		if len(b) >= 4 && b[1] >= '0' && b[1] <= '9' && b[2] >= 0x81 && b[2] <= 0xFE && b[3] >= '0' && b[3] <= '9' {
			return 4
		}
		if b[1] >= 0x40 && b[1] != 0x7F && b[1] <= 0xFE {
			return 2
		}
	}
	return 1
}

// cellPos is the cursor's cell on its line.
func (s *screen) cellPos() int { return s.cell }

// cellToByte is the byte offset of cell x on line row.
func (s *screen) cellToByte(row, x int) int {
	l := s.lines[row]
	i, n := 0, 0
	for i < len(l) && n < x {
		k := charLen(l[i:])
		if k == 4 {
			n++
		} else {
			n += k
		}
		i += k
	}
	return i + (x - n)
}

func (s *screen) lineFeed() {
	if s.row == 0 {
		s.row = 1
		return
	}
	if s.scroll {
		s.lines[0] = append(s.lines[0][:0], s.lines[1]...)
		s.lines[1] = s.lines[1][:0]
		s.dirty = true
		return
	}
	s.row = 0
}

func (s *screen) setLine(row int, text []byte) {
	l := s.lines[row][:0]
	if len(text) > maxWidth {
		text = text[:maxWidth]
	}
	s.lines[row] = append(l, text...)
	s.dirty = true
}

// moveTo puts the cursor on cell col of row (both 0-based, clamped).
func (s *screen) moveTo(col, row int) {
	s.row = min(max(row, 0), 1)
	s.cell = min(max(col, 0), s.width-1)
	s.col = s.cellToByte(s.row, s.cell)
	s.mb = 0
}

// param converts a position byte: binary 1..n, or an ASCII digit from POSes
// that send '1'/'2' for the line.
func posParam(b byte) int {
	if b >= '1' && b <= '9' {
		return int(b - '0')
	}
	return int(b)
}

func (s *screen) Feed(b []byte, emit func(Event)) {
	for _, c := range b {
		s.step(c, emit)
	}
}

func (s *screen) step(c byte, emit func(Event)) {
	switch s.st {
	case scrIdle:
		s.control(c, emit)
	case scrEsc:
		s.st = scrIdle
		s.escape(c, emit)
	case scrUS:
		s.st = scrIdle
		s.unit(c, emit)
	case scrSkip:
		s.skip--
		if s.skip <= 0 {
			s.st = scrIdle
		}
	case scrQ:
		switch c {
		case 'A', 'D':
			s.qLine = 0
		case 'B':
			s.qLine = 1
		default:
			s.st = scrIdle
			if c == esc {
				s.st = scrEsc
			}
			return
		}
		s.text, s.overflow = s.text[:0], false
		s.st = scrQText
	case scrQText:
		switch {
		case c == cr:
			s.st = scrIdle
			if !s.overflow {
				s.setLine(s.qLine, s.text)
				s.evaluate(emit)
			}
		case c == esc:
			s.st = scrEsc // unterminated: dropped
		case c < 0x20:
			// control noise inside the text: the pole ignores it
		case len(s.text) < maxText:
			s.text = append(s.text, c)
		default:
			s.overflow = true
		}
	case scrCursor:
		s.param[s.nparam] = c
		s.nparam++
		if s.nparam == 2 {
			s.st = scrIdle
			s.evaluate(emit)
			s.moveTo(posParam(s.param[0])-1, posParam(s.param[1])-1)
		}
	case scrEscEq:
		s.st = scrIdle
		if s.d == dialectESCPOS {
			// Bit 1 selects the display; 1 alone sends what follows to the
			// printer, which is not on the customer's screen.
			s.enabled = posParam(c)&2 != 0
		}
	case scrBracket:
		s.st = scrIdle
		s.evaluate(emit)
		switch c {
		case 'H':
			s.moveTo(0, 0)
		case 'L':
			s.moveTo(0, s.row)
		case 'R':
			s.moveTo(s.width-1, s.row)
		case 'D':
			s.moveTo(s.cellPos()-1, s.row)
		case 'C':
			s.moveTo(s.cellPos()+1, s.row)
		case 'A':
			s.row = 0
		case 'B':
			s.row = 1
		}
	case scrWindow:
		// ESC W n m: m = 1 sets a window and 4 coordinates follow; m = 0
		// cancels it. Coordinates are small binary numbers that would
		// otherwise read as LF, FF and the like.
		s.nparam++
		if s.nparam == 2 {
			if posParam(c) == 1 {
				s.skipN(4)
			} else {
				s.st = scrIdle
			}
		}
	case scrCSI:
		switch {
		case c >= '0' && c <= '9' || c == ';' || c == '?':
			if s.ncsi < len(s.csi) {
				s.csi[s.ncsi] = c
			}
			s.ncsi++
		case c == esc:
			s.st = scrEsc // an unterminated sequence
		default:
			s.st = scrIdle
			if s.ncsi <= len(s.csi) {
				s.csiFinal(c, emit)
			}
		}
	case scrDLE:
		s.st = scrIdle
		s.evaluate(emit)
		if n := int(c); n < 2*s.width {
			s.moveTo(n%s.width, n/s.width)
		}
	case scrAmp:
		s.param[s.nparam] = c
		s.nparam++
		if s.nparam == 3 {
			// ESC & y c1 c2, then for each glyph c1..c2: x and y·x bytes.
			s.ampY = int(s.param[0])
			s.ampLeft = int(s.param[2]) - int(s.param[1]) + 1
			if s.ampLeft <= 0 || s.ampLeft > 95 || s.ampY > 4 {
				s.st = scrIdle
				return
			}
			s.st, s.ampHeader = scrAmpData, true
		}
	case scrAmpData:
		if s.ampHeader {
			s.ampData = s.ampY * int(c)
			s.ampHeader = false
		} else {
			s.ampData--
		}
		if s.ampData <= 0 {
			s.ampLeft--
			s.ampHeader = true
			if s.ampLeft <= 0 {
				s.st = scrIdle
			}
		}
	}
}

// control handles a byte outside any sequence.
func (s *screen) control(c byte, emit func(Event)) {
	switch c {
	case esc:
		s.st = scrEsc
		return
	case us:
		if s.d == dialectESCPOS || s.d == dialectIBM {
			s.st = scrUS
		}
		return
	case dle:
		if s.d == dialectIBM {
			s.st = scrDLE
			return
		}
	case 0x04:
		if s.d == dialectIBM { // brightness, one parameter byte
			s.skipN(1)
			return
		}
	}
	if !s.enabled {
		return
	}
	switch c {
	case ff:
		s.evaluate(emit)
		s.clear()
	case cr:
		s.evaluate(emit)
		s.col, s.cell, s.mb = 0, 0, 0
	case lf:
		s.evaluate(emit)
		s.lineFeed()
	case 0x08: // BS
		s.moveTo(s.cellPos()-1, s.row)
	case 0x09: // HT
		s.moveTo(s.cellPos()+1, s.row)
	case 0x0B: // HOM
		s.evaluate(emit)
		s.moveTo(0, 0)
	case 0x18: // CAN: clear the cursor line
		s.evaluate(emit)
		s.lines[s.row] = s.lines[s.row][:0]
		s.col, s.cell, s.mb = 0, 0, 0
		s.dirty = true
	default:
		if c >= 0x20 && c != 0x7F {
			s.put(c)
		}
		// other control bytes are noise the display ignores
	}
}

func (s *screen) skipN(n int) {
	s.st, s.skip = scrSkip, n
}

// escape handles ESC c.
func (s *screen) escape(c byte, emit func(Event)) {
	switch c {
	case '@':
		s.evaluate(emit)
		s.clear()
		s.enabled = true
		s.scroll = s.d == dialectCD5220
	case esc:
		s.st = scrEsc
	case 'Q':
		if s.d == dialectCD5220 {
			s.st = scrQ
		}
	case 'l':
		if s.d == dialectCD5220 {
			s.st, s.nparam = scrCursor, 0
		}
	case 's', 'R', 't', '?', '%', 'c', '*':
		// One parameter byte. On a CD5220, ESC s 1 stores the screen; it
		// is not a lamp.
		s.skipN(1)
	case '=':
		s.st = scrEscEq
	case '[':
		switch s.d {
		case dialectCD5220:
			s.st = scrBracket
		case dialectANSI:
			s.st, s.ncsi = scrCSI, 0
		}
	case '&':
		if s.d == dialectESCPOS {
			s.st, s.nparam = scrAmp, 0
		}
	case 'W':
		if s.d == dialectESCPOS {
			s.st, s.nparam = scrWindow, 0
		}
	}
	// Any other ESC x is a command these displays do not have: skipped.
}

// unit handles ESC/POS US c (and the IBM-style US 0x11 reset).
func (s *screen) unit(c byte, emit func(Event)) {
	if s.d == dialectIBM {
		if c == 0x11 {
			s.evaluate(emit)
			s.clear()
		}
		return
	}
	switch c {
	case '$':
		s.st, s.nparam = scrCursor, 0
	case 0x01: // MD1 overwrite
		s.scroll = false
	case 0x02: // MD2 vertical scroll
		s.scroll = true
	case 'B': // cursor to the bottom line
		s.evaluate(emit)
		s.row = 1
	case 'C', 'E', 'X', 'r', 'v', '\'', ' ':
		s.skipN(1)
	case '#', 'T', '^':
		s.skipN(2)
	}
	// US 0x03, US @, US :, US U, US . and the like take no parameter.
}

// csiFinal runs an ANSI control sequence ESC [ p1;p2 final. Parameters
// default to 0 (and positions to 1), as ECMA-48 says.
func (s *screen) csiFinal(final byte, emit func(Event)) {
	var p [2]int
	n := 0
	for _, c := range s.csi[:s.ncsi] {
		switch {
		case c == ';':
			n++
		case c >= '0' && c <= '9' && n < len(p):
			p[n] = min(p[n]*10+int(c-'0'), 1000)
		}
	}
	switch final {
	case 'J': // erase in display: the sale screen is redrawn from scratch
		s.evaluate(emit)
		s.clear()
	case 'K': // erase in line, from the cursor
		s.evaluate(emit)
		l := s.lines[s.row]
		s.lines[s.row] = l[:min(s.col, len(l))]
		s.dirty = true
	case 'H', 'f': // cursor position row;col, 1-based (a 0 column reads as 1)
		s.evaluate(emit)
		s.moveTo(max(p[1], 1)-1, max(p[0], 1)-1)
	case 'A', 'B':
		s.evaluate(emit)
		s.moveTo(s.cellPos(), map[byte]int{'A': 0, 'B': 1}[final])
	case 'C':
		s.moveTo(s.cellPos()+max(p[0], 1), s.row)
	case 'D':
		s.moveTo(s.cellPos()-max(p[0], 1), s.row)
	}
}
