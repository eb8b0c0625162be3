package display

// Automatic detection runs every profile's parser side by side and watches
// the bytes for each protocol's signature; events wait until the evidence
// decides, then the winner's events are passed on (in order) and the others
// dropped. The decision depends only on the bytes, never on how they were
// chunked or timed, so a replayed capture decides as the live line did.
//
// Evidence (points):
//   ESC Q B, ESC l, text in ESC Q A             cd5220 +3
//   US $                                        escpos +3
//   ESC =                                       escpos +2
//   another US command                          escpos +1
//   ESC s 0x00..0x04                            led8   +2
//   ESC s '2'..'4', ESC Q A with digits only    led8   +1
//   a printable line before any ESC or US       text   +1
// The first profile to reach 3 points with no tie wins. When the line goes
// quiet (Flush) a lead of 2 points wins, so that a POS that sends one total
// and then waits is still heard; a lead of 1 (say one ESC Q A with digits,
// which a CD5220 may send too) waits for more evidence. At the end of a
// recorded capture any lead wins. ESC s '0'/'1' counts for nobody: CD5220
// uses ESC s 1 to store.

const (
	decideAt   = 3
	decideIdle = 2
	maxPending = 256 // events held per profile while undecided
)

var autoProfiles = []Profile{ProfileLED8, ProfileCD5220, ProfileESCPOS, ProfileText}

type auto struct {
	parsers [4]Parser
	pending [4][]Event
	score   [4]int
	chosen  int // index into autoProfiles, -1 while undecided

	// detector state
	prev2, prev1 byte
	inQA         bool
	qaDigits     bool
	qaText       bool
	qaLen        int
	sawCtl       bool // an ESC or US was seen: not plain text
	lineLen      int
}

func newAuto(width int) *auto {
	a := &auto{chosen: -1}
	a.parsers[0] = newLED8()
	a.parsers[1] = newScreen(dialectCD5220, width)
	a.parsers[2] = newScreen(dialectESCPOS, width)
	a.parsers[3] = newText()
	return a
}

func (a *auto) Profile() Profile {
	if a.chosen < 0 {
		return ProfileAuto
	}
	return autoProfiles[a.chosen]
}

func (a *auto) Feed(b []byte, emit func(Event)) {
	if a.chosen >= 0 {
		a.parsers[a.chosen].Feed(b, emit)
		return
	}
	// Feed the parsers byte by byte up to the deciding byte, so that the
	// winner's events come out in stream order whatever the chunking.
	for i, c := range b {
		a.feedAll(b[i : i+1])
		if a.detect(c) {
			a.decide(a.leader(decideAt), emit)
			a.parsers[a.chosen].Feed(b[i+1:], emit)
			return
		}
	}
}

func (a *auto) feedAll(b []byte) {
	for i, p := range a.parsers {
		p.Feed(b, func(e Event) {
			if len(a.pending[i]) < maxPending {
				a.pending[i] = append(a.pending[i], e)
			}
		})
	}
}

func (a *auto) Flush(emit func(Event)) {
	if a.chosen < 0 {
		for i, p := range a.parsers {
			p.Flush(func(e Event) {
				if len(a.pending[i]) < maxPending {
					a.pending[i] = append(a.pending[i], e)
				}
			})
		}
		if a.leader(decideIdle) >= 0 {
			a.decide(a.leader(decideIdle), emit)
		}
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
	for _, e := range a.pending[a.chosen] {
		emit(e)
	}
	for i := range a.pending {
		a.pending[i] = nil
		if i != a.chosen {
			a.parsers[i] = nil
		}
	}
}

// detect updates the evidence with one byte and says whether it decided.
func (a *auto) detect(c byte) bool {
	p2, p1 := a.prev2, a.prev1
	a.prev2, a.prev1 = p1, c
	const led, cd, ep, tx = 0, 1, 2, 3
	if a.inQA {
		switch {
		case c == cr:
			a.inQA = false
			if a.qaText {
				a.score[cd] += 3
			} else if a.qaDigits {
				a.score[led]++
			}
		case c == esc:
			a.inQA = false
		case c >= '0' && c <= '9' || c == '.':
			a.qaDigits = true
		case c == ' ' || c < 0x20:
		default:
			a.qaText = true
		}
		if a.qaLen++; a.qaLen > maxText {
			a.inQA = false
		}
		return a.leader(decideAt) >= 0
	}
	switch {
	case c == esc || c == us:
		a.sawCtl = true
		a.score[tx] = 0
	case p1 == esc && c == 'l':
		a.score[cd] += 3
	case p1 == esc && c == '=':
		a.score[ep] += 2
	case p1 == us && c == '$':
		a.score[ep] += 3
	case p1 == us && (c <= 0x03 || c >= 0x20 && c < 0x7F):
		a.score[ep]++
	case p2 == esc && p1 == 's' && c <= 0x04:
		a.score[led] += 2
	case p2 == esc && p1 == 's' && c >= '2' && c <= '4':
		a.score[led]++
	case p2 == esc && p1 == 'Q' && c == 'B':
		a.score[cd] += 3
	case p2 == esc && p1 == 'Q' && c == 'A':
		a.inQA, a.qaDigits, a.qaText, a.qaLen = true, false, false, 0
	case c == cr || c == lf:
		if !a.sawCtl && a.lineLen >= 2 {
			a.score[tx]++
		}
		a.lineLen = 0
	case c >= 0x20:
		a.lineLen++
	}
	return a.leader(decideAt) >= 0
}
