package display

import "github.com/scanbox/scanbox/money"

// LED-8 price poles: ESC @ resets, a lamp command says what the next number
// is, ESC Q A digits CR shows a number, 0x0C clears. Anything else on the
// line is noise to these poles and is ignored. The lamp command differs by
// model (see testdata/README.md for the drivers these come from):
//
//	common  ESC s n, n = 0x00..0x04 or '0'..'4': 1 unit price, 2 total,
//	        3 paid, 4 change (Wintec CD110, Hisense VC110/VC110A, Citaq)
//	partner ESC s n 0x01, n = 1..5: 1 thank-you, 2 unit price, 3 total,
//	        4 paid, 5 change (Partner CD7110/CD7111)
//	bare    a bare byte '1'..'4' right before ESC Q A, numbered as common
//	        (Ejeton VFD8C)
//
// The same bytes ESC s 2 mean total on one and unit price on the other, so
// a parser decodes one dialect only; auto detection (auto.go) refuses to
// pick between them.

const (
	esc = 0x1B
	us  = 0x1F
	cr  = 0x0D
	lf  = 0x0A
	ff  = 0x0C // clear screen
	dle = 0x10
)

type ledDialect int

const (
	ledCommon ledDialect = iota
	ledPartner
	ledBare
)

type led8State int

const (
	ledIdle led8State = iota
	ledEsc
	ledEscS
	ledEscSTrail // partner: the byte after the lamp number
	ledEscQ
	ledNumber
)

type led8 struct {
	d        ledDialect
	st       led8State
	lamp     int
	bare     int // ledBare: the lamp byte just seen, -1 if none
	num      []byte
	overflow bool
	tr       tracker
	rs       []reading
}

func newLED8(d ledDialect, p Profile) *led8 {
	return &led8{d: d, bare: -1, num: make([]byte, 0, maxNumber), tr: tracker{profile: p}}
}

func (p *led8) Profile() Profile { return p.tr.profile }

func (p *led8) Flush(func(Event)) {} // a number counts only once its CR came

func (p *led8) Feed(b []byte, emit func(Event)) {
	for _, c := range b {
		p.step(c, emit)
	}
}

func (p *led8) step(c byte, emit func(Event)) {
	switch p.st {
	case ledIdle:
		if c == esc {
			p.st = ledEsc
			return
		}
		p.bare = -1
		if p.d == ledBare && c >= '0' && c <= '4' {
			p.bare = int(c - '0')
		}
	case ledEsc:
		switch c {
		case '@':
			p.lamp = 0
			p.st = ledIdle
		case 's':
			p.st = ledEscS
		case 'Q':
			p.st = ledEscQ
		case esc:
			// ESC ESC: the first was noise; stay ready for a command.
		default:
			p.st = ledIdle
		}
		if c != 'Q' && c != esc {
			p.bare = -1
		}
	case ledEscS:
		p.st = ledIdle
		maxLamp := byte(4)
		if p.d == ledPartner {
			maxLamp = 5
			p.st = ledEscSTrail
		}
		switch {
		case c >= '0' && c <= '0'+maxLamp:
			p.lamp = int(c - '0')
		case c <= maxLamp:
			p.lamp = int(c)
		case c == esc:
			p.st = ledEsc
		default:
			p.lamp = 0 // an unknown lamp: better to show nothing than guess
		}
	case ledEscSTrail:
		p.st = ledIdle
		if c == esc { // the trailing byte is missing: read the command
			p.st = ledEsc
		}
	case ledEscQ:
		switch c {
		case 'A':
			p.num, p.overflow = p.num[:0], false
			p.st = ledNumber
			if p.d == ledBare {
				p.lamp = max(p.bare, 0) // no lamp byte: nobody knows what it is
			}
		case esc:
			p.st = ledEsc
		default:
			p.st = ledIdle
		}
		p.bare = -1
	case ledNumber:
		switch {
		case c >= '0' && c <= '9' || c == '.' || c == '-':
			if len(p.num) < maxNumber {
				p.num = append(p.num, c)
			} else {
				p.overflow = true
			}
		case c == ' ':
			// Some POSes right-align the number with spaces.
		case c == cr:
			p.st = ledIdle
			p.commit(emit)
		case c == esc:
			// An unterminated number: drop it and read the new command.
			p.st = ledEsc
		default:
			// Text (a welcome) or noise inside a number: the pole shows no
			// amount, and neither do we.
			p.st = ledIdle
		}
	}
}

// lampRole is what a number under lamp n is in dialect d.
func lampRole(d ledDialect, n int) role {
	if d == ledPartner {
		n-- // partner lamps are the common ones shifted by one
	}
	switch n {
	case 1:
		return roleOther
	case 2:
		return roleTotal
	case 3, 4:
		return roleEnd
	}
	return roleNone
}

func (p *led8) commit(emit func(Event)) {
	if p.overflow || len(p.num) == 0 {
		return
	}
	r := lampRole(p.d, p.lamp)
	if r == roleNone {
		return
	}
	f, err := money.Parse(string(p.num))
	p.rs = append(p.rs[:0], reading{role: r, amount: f, valid: err == nil})
	p.tr.screen(p.rs, emit)
}
