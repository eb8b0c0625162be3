package scanner

import (
	"time"
)

// The burst detector decides, key by key, whether keyboard input is a
// wedge scanner typing a code or a person typing into the POS.
//
// A low-level keyboard hook must answer for each key at once (pass it on or
// swallow it) but a scan is only recognisable at its end (fast digits, then
// Enter). So the detector HOLDS digits: the first digit of a possible burst
// is swallowed and remembered; each further digit within MaxGap of the one
// before joins the burst. Then either
//   - Enter arrives within MaxGap after at least MinLen digits and Accept
//     likes the code: it is a scan; its keys stay swallowed and Code is set;
//   - or anything else happens (a gap longer than MaxGap, which the caller
//     learns from the Deadline and reports through Timeout; Enter too early;
//     too many digits; a code Accept refuses): the held keys are handed back
//     in Replay, in their original order, for the caller to re-inject
//     (SendInput), and the POS sees exactly what was typed.
// The price is that a person's digit reaches the POS up to MaxGap (30 ms)
// late, which nobody notices; the gain is that no scanned digit ever does.
//
// Keys other than digits and Enter that arrive during a burst (a cashier
// pressing a key while the scanner types) are held too, not taken as the end
// of the burst: they are replayed after the scan is swallowed, or in their
// place if the burst turns out human, so their order is always kept.

// Key is one keyboard event as the detector sees it.
type Key struct {
	VK    uint16        // virtual-key code, passed back unchanged in Replay
	Scan  uint16        // hardware scan code, passed back unchanged
	Flags uint32        // platform flags (extended key), passed back unchanged
	Char  rune          // '0'–'9' for a digit key (no modifier), '\r' for Enter, 0 otherwise
	Up    bool          // key released
	At    time.Duration // event time on a monotonic clock (the hook's tick)
}

// Verdict for the key just given.
type Verdict int

// Verdicts.
const (
	Pass    Verdict = iota // let the key through now
	Swallow                // do not let it through (held, part of a scan, or in Replay)
)

func (v Verdict) String() string {
	if v == Swallow {
		return "swallow"
	}
	return "pass"
}

// Output tells the caller what to do after a key or a timeout.
type Output struct {
	Verdict Verdict
	// Replay are keys to inject, in order, right now. When it is not
	// empty the current key, if not held, is its last element (and the
	// verdict is Swallow), so the order on the wire is the typed order.
	Replay []Key
	// Code is a completed scan (digits only), or "".
	Code string
	// Deadline, if not zero, is when to call Timeout unless another key
	// comes first.
	Deadline time.Duration
}

// BurstConfig tunes the detector. Zero values mean the defaults.
type BurstConfig struct {
	MaxGap  time.Duration // longest gap between a scanner's keys (default 30 ms)
	MinLen  int           // fewest digits in a scan (default 8)
	MaxLen  int           // most digits in a scan (default 32)
	MaxHeld int           // most keys held at once, foreign keys included (default 128)
	// Accept says whether a completed burst is a code ScanBox wants; other
	// bursts (a product barcode from the same scanner) go to the POS. Nil
	// means LooksLikePaymentCode.
	Accept func(code string) bool
}

func (c BurstConfig) withDefaults() BurstConfig {
	if c.MaxGap <= 0 {
		c.MaxGap = 30 * time.Millisecond
	}
	if c.MinLen <= 0 {
		c.MinLen = 8
	}
	if c.MaxLen <= 0 {
		c.MaxLen = 32
	}
	if c.MaxHeld <= 0 {
		c.MaxHeld = 128
	}
	if c.Accept == nil {
		c.Accept = LooksLikePaymentCode
	}
	return c
}

// LooksLikePaymentCode is the default Accept: 16 to 24 digits, the lengths
// of WeChat, Alipay, UnionPay and e-CNY payment codes. Package scan does the
// real validation; this only keeps product barcodes (EAN-13 and the like)
// out of ScanBox's way.
func LooksLikePaymentCode(code string) bool {
	if len(code) < 16 || len(code) > 24 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// Burst is the detector. It is pure (no clock, no OS): the caller feeds it
// keys with their timestamps and calls Timeout at the deadlines it returns.
// Not safe for concurrent use.
type Burst struct {
	cfg       BurstConfig
	held      []heldKey
	digits    []byte
	lastDigit time.Duration
	// heldDown: keys whose down is held, true if that down is a burst
	// digit, so that their up is held with it.
	heldDown map[uint16]bool
	// eatUp: keys whose down was swallowed as part of a scan; their up is
	// swallowed when it comes, so the POS never sees a lone key-up.
	eatUp map[uint16]bool
}

// heldKey is a held event; member events (burst digits and their ups) are
// the scan if the burst ends as one, the others are replayed either way.
type heldKey struct {
	Key
	member bool
}

// NewBurst returns a detector with cfg (zero values: defaults).
func NewBurst(cfg BurstConfig) *Burst {
	return &Burst{cfg: cfg.withDefaults(), heldDown: map[uint16]bool{}, eatUp: map[uint16]bool{}}
}

// Holding reports whether keys are being held.
func (b *Burst) Holding() bool { return len(b.held) > 0 }

// Timeout is called when the Deadline passed without a key: a burst that
// stopped without Enter is not a scan, so its keys are replayed.
func (b *Burst) Timeout(now time.Duration) Output {
	if !b.Holding() || now < b.lastDigit+b.cfg.MaxGap {
		return Output{Deadline: b.deadline()}
	}
	return Output{Verdict: Swallow, Replay: b.release(nil)}
}

func (b *Burst) deadline() time.Duration {
	if !b.Holding() {
		return 0
	}
	return b.lastDigit + b.cfg.MaxGap
}

// release empties the hold and returns the held keys, plus extra if given.
func (b *Burst) release(extra *Key) []Key {
	out := make([]Key, 0, len(b.held)+1)
	for _, h := range b.held {
		out = append(out, h.Key)
	}
	if extra != nil {
		out = append(out, *extra)
	}
	b.held, b.digits = b.held[:0], b.digits[:0]
	clear(b.heldDown)
	return out
}

// Key decides about one key event.
func (b *Burst) Key(k Key) Output {
	var pre []Key
	if b.Holding() && k.At > b.lastDigit+b.cfg.MaxGap {
		// The timeout was due before this key (the caller's timer lost
		// the race): the burst ended as human. Its keys go first.
		pre = b.release(nil)
	}
	out := b.key(k)
	if len(pre) > 0 {
		if out.Verdict == Pass {
			// The current key must come after the replayed ones.
			out.Replay = append(pre, append(out.Replay, k)...)
			out.Verdict = Swallow
		} else {
			out.Replay = append(pre, out.Replay...)
		}
	}
	out.Deadline = b.deadline()
	return out
}

func isDigitChar(c rune) bool { return c >= '0' && c <= '9' }

func (b *Burst) key(k Key) Output {
	if !b.Holding() {
		if k.Up {
			if b.eatUp[k.VK] {
				delete(b.eatUp, k.VK)
				return Output{Verdict: Swallow}
			}
			return Output{Verdict: Pass}
		}
		delete(b.eatUp, k.VK) // a new press: its old up was lost
		if !isDigitChar(k.Char) {
			return Output{Verdict: Pass}
		}
		b.hold(k)
		return Output{Verdict: Swallow}
	}
	// While holding, every event is held, so that the order the POS
	// finally sees is the order typed.
	if len(b.held) >= b.cfg.MaxHeld {
		return Output{Verdict: Swallow, Replay: b.release(&k)}
	}
	switch {
	case k.Up:
		member, down := b.heldDown[k.VK]
		if down {
			delete(b.heldDown, k.VK)
		} else if b.eatUp[k.VK] {
			// The up of the previous scan's last key, late.
			delete(b.eatUp, k.VK)
			return Output{Verdict: Swallow}
		}
		b.held = append(b.held, heldKey{k, down && member})
		return Output{Verdict: Swallow}
	case isDigitChar(k.Char):
		if len(b.digits) >= b.cfg.MaxLen {
			return Output{Verdict: Swallow, Replay: b.release(&k)}
		}
		b.hold(k)
		return Output{Verdict: Swallow}
	case k.Char == '\r':
		code := string(b.digits)
		if len(b.digits) < b.cfg.MinLen || !b.cfg.Accept(code) {
			return Output{Verdict: Swallow, Replay: b.release(&k)}
		}
		// A scan. Swallow its digits and this Enter (and their ups to
		// come); give back everything else held in between.
		var foreign []Key
		for _, h := range b.held {
			if !h.member {
				foreign = append(foreign, h.Key)
			}
		}
		for vk, member := range b.heldDown {
			if member {
				b.eatUp[vk] = true
			}
		}
		b.eatUp[k.VK] = true
		b.release(nil)
		return Output{Verdict: Swallow, Replay: foreign, Code: code}
	default:
		b.held = append(b.held, heldKey{k, false})
		b.heldDown[k.VK] = false
		return Output{Verdict: Swallow}
	}
}

func (b *Burst) hold(k Key) {
	b.held = append(b.held, heldKey{k, true})
	b.digits = append(b.digits, byte(k.Char))
	b.heldDown[k.VK] = true
	b.lastDigit = k.At
}
