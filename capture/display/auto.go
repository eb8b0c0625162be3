package display

import "strings"

// Automatic detection runs one parser per protocol family side by side and
// watches the bytes for each family's signature; events wait until the
// evidence decides, then the winner's events are passed on (in order) and
// the others dropped. The decision depends only on the bytes, never on how
// they were chunked or timed, so a replayed capture decides as the live line
// did.
//
// Evidence (points):
//   ESC Q B, ESC l, a label in ESC Q A text     cd5220 +3
//   other text in ESC Q A (a welcome)           cd5220 +1
//   US $                                        escpos +3
//   ESC =                                       escpos +2
//   another US command                          escpos +1
//   ESC s 0x00..0x05                            led8   +2
//   ESC s '2'..'5', ESC Q A with digits only    led8   +1
//   ESC [ digit (ESC [2J, ESC [1;1H)            wincor +3
//   NUL SOH                                     ibm    +2
//   DLE n, n a cell of a 2×20 screen            ibm    +1
//   ! # digit                                   aedex  +3
//   a printable line before any control         text   +1
// The first family to reach 3 points with no tie wins. When the line goes
// quiet (Flush) a lead of 2 points wins, so that a POS that sends one total
// and then waits is still heard; a lead of 1 (say one ESC Q A with digits,
// which a CD5220 may send too) waits for more evidence. At the end of a
// recorded capture any lead wins. ESC s '0'/'1' counts for nobody: CD5220
// uses ESC s 1 to store.
//
// LED-8 lamp dialects cannot all be told apart: ESC s 2 is the total on the
// common poles and the unit price on Partner poles, whose lamp command
// carries a trailing byte; Ejeton poles send the lamp as a bare digit. Auto
// reads LED-8 totals only while every lamp command is the common, clean
// ESC s n followed by the next command. Once a trailing byte, a lamp 5 or a
// bare lamp digit is seen, it reports nothing more from the LED-8 family and
// names the profiles to try instead (Hint): guessing would report unit
// prices as totals.

const (
	decideAt   = 3
	decideIdle = 2
	maxPending = 256 // events held per family while undecided
)

// The families auto detection chooses between, by index.
var autoProfiles = []Profile{ProfileLED8, ProfileCD5220, ProfileESCPOS, ProfileText, ProfileWincor, ProfileIBM, ProfileAEDEX}

const (
	famLED = iota
	famCD
	famEP
	famText
	famANSI
	famIBM
	famAEDEX
	numFam
)

type auto struct {
	parsers [numFam]Parser
	pending [numFam][]Event
	sinks   [numFam]func(Event) // append to pending (made once: not per byte)
	out     func(Event)         // the caller's emit, for gate
	gate    func(Event)         // LED-8 events pass only in the common dialect
	score   [numFam]int
	chosen  int // index into autoProfiles, -1 while undecided

	// detector state
	hist     [5]byte // the bytes before the current one, most recent first
	inQA     bool
	qaDigits bool
	qaText   bool
	qaBuf    []byte
	sawCtl   bool // an ESC, US, DLE or NUL SOH was seen: not plain text
	lineLen  int
	lampAt   int // bytes since an ESC s n that counted for LED-8 (0: none pending)

	// LED-8 dialect evidence
	ledTrail bool // ESC s n x: Partner-style
	ledFive  bool // lamp 5: Partner-style
	ledBare  bool // a bare lamp digit before ESC Q A: Ejeton-style
}

func newAuto(width int) *auto {
	a := &auto{chosen: -1, qaBuf: make([]byte, 0, maxText)}
	a.parsers[famLED] = newLED8(ledCommon, ProfileLED8)
	a.parsers[famCD] = newScreen(dialectCD5220, width, ProfileCD5220)
	a.parsers[famEP] = newScreen(dialectESCPOS, width, ProfileESCPOS)
	a.parsers[famText] = newText()
	a.parsers[famANSI] = newScreen(dialectANSI, width, ProfileWincor)
	a.parsers[famIBM] = newScreen(dialectIBM, width, ProfileIBM)
	a.parsers[famAEDEX] = newAEDEX(width)
	for i := range a.sinks {
		a.sinks[i] = func(e Event) {
			if len(a.pending[i]) < maxPending {
				a.pending[i] = append(a.pending[i], e)
			}
		}
	}
	a.gate = func(e Event) {
		if !a.ledOdd() {
			a.out(e)
		}
	}
	return a
}

func (a *auto) Profile() Profile {
	if a.chosen < 0 {
		return ProfileAuto
	}
	return autoProfiles[a.chosen]
}

// ledOdd says the LED-8 lamps seen are not (only) the common dialect.
func (a *auto) ledOdd() bool { return a.ledTrail || a.ledFive || a.ledBare }

// Hint says, when auto reports nothing for a reason it knows, which profiles
// to try and why (one sentence). It is empty otherwise.
func (a *auto) Hint() ([]Profile, string) {
	if a.ledOdd() && (a.chosen < 0 || a.chosen == famLED) {
		var try []Profile
		var why []string
		if a.ledTrail || a.ledFive {
			try = append(try, ProfilePartner)
			why = append(why, "lamp commands with a trailing byte or a lamp 5 (Partner style, where ESC s 2 is the unit price)")
		}
		if a.ledBare {
			try = append(try, ProfileEjeton)
			why = append(why, "lamp digits sent bare before ESC Q A (Ejeton style)")
		}
		try = append(try, ProfileLED8)
		return try, "LED-8 pole with " + strings.Join(why, " and ") + ": auto cannot tell which number is the total, so it reports none"
	}
	if a.chosen < 0 {
		return nil, "no protocol evidence yet"
	}
	return nil, ""
}

func (a *auto) Feed(b []byte, emit func(Event)) {
	gate := a.ledGate(emit)
	for i, c := range b {
		if a.chosen >= 0 && a.chosen != famLED {
			// Decided on a family without dialects: no more watching.
			a.parsers[a.chosen].Feed(b[i:], emit)
			return
		}
		// Byte by byte up to the deciding byte (and on, for LED-8, to
		// watch the lamp dialect), so that what is reported does not
		// depend on the chunking.
		if a.chosen < 0 {
			a.feedAll(b[i : i+1])
		} else {
			a.parsers[a.chosen].Feed(b[i:i+1], gate)
		}
		if a.detect(c) && a.chosen < 0 {
			a.decide(a.leader(decideAt), emit)
		}
	}
}

// ledGate passes LED-8 events on to emit only while the dialect is the
// common one.
func (a *auto) ledGate(emit func(Event)) func(Event) {
	a.out = emit
	return a.gate
}

func (a *auto) feedAll(b []byte) {
	for i, p := range a.parsers {
		p.Feed(b, a.sinks[i])
	}
}

func (a *auto) Flush(emit func(Event)) {
	if a.chosen < 0 {
		for i, p := range a.parsers {
			p.Flush(a.sinks[i])
		}
		if a.leader(decideIdle) >= 0 {
			a.decide(a.leader(decideIdle), emit)
		}
		return
	}
	if a.chosen == famLED {
		a.parsers[a.chosen].Flush(a.ledGate(emit))
		return
	}
	a.parsers[a.chosen].Flush(emit)
}

// finish is the end of a recorded capture: any lead decides.
func (a *auto) finish(emit func(Event)) {
	if a.chosen < 0 && a.leader(1) >= 0 {
		a.decide(a.leader(1), emit)
	}
}

// leader returns the index with the highest score if it is at least min
// and not tied, else -1.
func (a *auto) leader(min int) int {
	best, tie := -1, false
	for i, s := range a.score {
		switch {
		case best < 0 || s > a.score[best]:
			best, tie = i, false
		case s == a.score[best]:
			tie = true
		}
	}
	if tie || a.score[best] < min {
		return -1
	}
	return best
}

func (a *auto) decide(winner int, emit func(Event)) {
	a.chosen = winner
	if winner != famLED || !a.ledOdd() {
		for _, e := range a.pending[a.chosen] {
			emit(e)
		}
	}
	for i := range a.pending {
		a.pending[i] = nil
		if i != a.chosen {
			a.parsers[i] = nil
		}
	}
}

// detect updates the evidence with one byte and says whether a family
// leads by enough to decide.
func (a *auto) detect(c byte) bool {
	h := a.hist
	copy(a.hist[1:], a.hist[:4])
	a.hist[0] = c
	p2, p1 := h[1], h[0]

	// The byte after a counted ESC s n: the next command (clean, common
	// dialect) or a trailing byte (Partner style).
	if a.lampAt > 0 {
		a.lampAt = 0
		if c != esc {
			a.ledTrail = true
		}
	}
	if a.inQA {
		switch {
		case c == cr:
			a.inQA = false
			switch {
			case a.qaText && hasLabel(decodeLine(a.qaBuf)):
				a.score[famCD] += 3
			case a.qaText:
				a.score[famCD]++
			case a.qaDigits:
				a.score[famLED]++
			}
		case c == esc:
			a.inQA = false
		case c >= '0' && c <= '9' || c == '.':
			a.qaDigits = true
		case c == ' ' || c < 0x20:
		default:
			a.qaText = true
		}
		if a.inQA && len(a.qaBuf) < cap(a.qaBuf) {
			a.qaBuf = append(a.qaBuf, c)
		}
		if a.inQA && len(a.qaBuf) >= cap(a.qaBuf) {
			a.inQA = false
		}
		return a.leader(decideAt) >= 0
	}
	switch {
	case c == esc || c == us:
		a.sawCtl = true
		a.score[famText] = 0
	case p1 == esc && c == 'l':
		a.score[famCD] += 3
	case p1 == esc && c == '=':
		a.score[famEP] += 2
	case p1 == us && c == '$':
		a.score[famEP] += 3
	case p1 == us && (c <= 0x03 || c >= 0x20 && c < 0x7F):
		a.score[famEP]++
	case p1 == '[' && p2 == esc && c >= '0' && c <= '9':
		a.score[famANSI] += 3
	case p2 == esc && p1 == 's' && c <= 0x05:
		a.score[famLED] += 2
		a.lampAt = 1
		a.ledFive = a.ledFive || c == 5
	case p2 == esc && p1 == 's' && c >= '2' && c <= '5':
		a.score[famLED]++
		a.lampAt = 1
		a.ledFive = a.ledFive || c == '5'
	case p2 == esc && p1 == 'Q' && c == 'B':
		a.score[famCD] += 3
	case p2 == esc && p1 == 'Q' && c == 'A':
		a.inQA, a.qaDigits, a.qaText, a.qaBuf = true, false, false, a.qaBuf[:0]
		// A lamp digit right before ESC Q A that is not the n of ESC s n.
		if d := h[2]; d >= '1' && d <= '4' && !(h[3] == 's' && h[4] == esc) {
			a.ledBare = true
		}
	case p1 == 0x00 && c == 0x01:
		a.score[famIBM] += 2
		a.sawCtl = true
		a.score[famText] = 0
	case p1 == dle && c < 0x28:
		a.score[famIBM]++
		a.sawCtl = true
		a.score[famText] = 0
	case p2 == '!' && p1 == '#' && c >= '0' && c <= '9':
		a.score[famAEDEX] += 3
	case c == cr || c == lf:
		if !a.sawCtl && a.lineLen >= 2 {
			a.score[famText]++
		}
		a.lineLen = 0
	case c >= 0x20:
		a.lineLen++
	}
	return a.leader(decideAt) >= 0
}

// hasLabel says whether line holds one of the amount labels.
func hasLabel(line string) bool {
	u := strings.ToUpper(line)
	for i := 0; i < len(u); i++ {
		if _, n := matchLabel(u, i); n > 0 {
			return true
		}
	}
	return false
}
