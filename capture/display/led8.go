package display

import "github.com/scanbox/scanbox/money"

// LED-8 price poles: ESC @ resets, ESC s n lights one lamp (0 off, 1 unit
// price, 2 total, 3 paid, 4 change; n as ASCII '0'–'4' or as the byte
// 0x00–0x04), ESC Q A digits CR shows a number, 0x0C clears. Anything else on
// the line is noise to these poles and is ignored.

const (
	esc = 0x1B
	us  = 0x1F
	cr  = 0x0D
	lf  = 0x0A
	ff  = 0x0C // clear screen
)

type led8State int

const (
	ledIdle led8State = iota
	ledEsc
	ledEscS
	ledEscQ
	ledNumber
)

type led8 struct {
	st       led8State
	lamp     int
	num      []byte
	overflow bool
	tr       tracker
	rs       []reading
}

func newLED8() *led8 {
	return &led8{num: make([]byte, 0, maxNumber), tr: tracker{profile: ProfileLED8}}
}

func (p *led8) Profile() Profile { return ProfileLED8 }

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
	case ledEscS:
		p.st = ledIdle
		switch {
		case c >= '0' && c <= '4':
			p.lamp = int(c - '0')
		case c <= 4:
			p.lamp = int(c)
		case c == esc:
			p.st = ledEsc
		default:
			p.lamp = 0 // an unknown lamp: better to show nothing than guess
		}
	case ledEscQ:
		switch c {
		case 'A':
			p.num, p.overflow = p.num[:0], false
			p.st = ledNumber
		case esc:
			p.st = ledEsc
		default:
			p.st = ledIdle
		}
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
			// Noise inside a number: refuse the number rather than guess.
			p.st = ledIdle
		}
	}
}

func (p *led8) commit(emit func(Event)) {
	if p.overflow || len(p.num) == 0 {
		return
	}
	r := roleNone
	switch p.lamp {
	case 1:
		r = roleOther
	case 2:
		r = roleTotal
	case 3, 4:
		r = roleEnd
	}
	if r == roleNone {
		return
	}
	f, err := money.Parse(string(p.num))
	p.rs = append(p.rs[:0], reading{role: r, amount: f, valid: err == nil})
	p.tr.screen(p.rs, emit)
}
