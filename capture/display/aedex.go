package display

// AEDEX (and the EMAX dialect that LCDproc drives the same way): every
// command starts with a two-byte attention code, "!#" at power-up, then a
// command digit, its text and CR:
//
//	!#1 text CR   upper line
//	!#2 text CR   lower line
//	!#4 text CR   scroll the text in on the upper line (read as the upper line)
//	!#9 text CR   both lines, 2×width characters
//	!#8 xy CR     the attention code becomes xy (LCDproc sets two spaces)
//
// Bytes outside a command are not shown by the display and are ignored.
// The screen is evaluated after each line command.

type aedexState int

const (
	aeIdle aedexState = iota
	aeAttn            // first attention byte seen
	aeCmd             // attention code seen: the command digit follows
	aeText            // command text up to CR
)

type aedex struct {
	width    int
	attn     [2]byte
	st       aedexState
	cmd      byte
	text     []byte
	overflow bool
	lines    [2][]byte
	tr       tracker
	rs       []reading
	gbk      gbkDecoder
}

func newAEDEX(width int) *aedex {
	if width <= 0 {
		width = 20
	}
	width = min(width, maxWidth)
	return &aedex{width: width, attn: [2]byte{'!', '#'}, text: make([]byte, 0, 2*maxWidth), tr: tracker{profile: ProfileAEDEX}}
}

func (p *aedex) Profile() Profile { return ProfileAEDEX }

func (p *aedex) Flush(func(Event)) {} // a line counts once its CR came

func (p *aedex) Feed(b []byte, emit func(Event)) {
	for _, c := range b {
		p.step(c, emit)
	}
}

func (p *aedex) step(c byte, emit func(Event)) {
	switch p.st {
	case aeIdle:
		if c == p.attn[0] {
			p.st = aeAttn
		}
	case aeAttn:
		switch {
		case c == p.attn[1]:
			p.st = aeCmd
		case c == p.attn[0]:
		default:
			p.st = aeIdle
		}
	case aeCmd:
		p.st = aeIdle
		if c >= '0' && c <= '9' {
			p.cmd, p.text, p.overflow, p.st = c, p.text[:0], false, aeText
		}
	case aeText:
		switch {
		case c == cr:
			p.st = aeIdle
			if !p.overflow {
				p.run(emit)
			}
		case len(p.text) < cap(p.text):
			p.text = append(p.text, c)
		default:
			p.overflow = true
		}
	}
}

func (p *aedex) run(emit func(Event)) {
	t := p.text
	switch p.cmd {
	case '1', '4':
		p.lines[0] = append(p.lines[0][:0], t[:min(len(t), p.width)]...)
	case '2':
		p.lines[1] = append(p.lines[1][:0], t[:min(len(t), p.width)]...)
	case '9':
		a := min(len(t), p.width)
		p.lines[0] = append(p.lines[0][:0], t[:a]...)
		p.lines[1] = append(p.lines[1][:0], t[a:min(len(t), 2*p.width)]...)
	case '8':
		if len(t) >= 2 {
			p.attn = [2]byte{t[0], t[1]}
		}
		return
	default:
		return
	}
	p.rs = extract([]string{p.gbk.decode(p.lines[0]), p.gbk.decode(p.lines[1])}, p.rs[:0])
	p.tr.screen(p.rs, emit)
}
