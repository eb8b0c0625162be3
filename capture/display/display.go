// Package display sniffs the amount a POS sends to its customer pole display.
//
// It owns the protocol profiles (LED-8 price poles, CD5220-style 2×20 VFDs,
// Epson ESC/POS customer displays, plain text lines) as pure streaming
// parsers over bytes, their automatic detection, and the live sniffer that
// reads the POS's serial line and forwards every byte to the real display.
//
// It must never alter, hold back or reorder the bytes it forwards (the
// customer has to see what the POS sent), and never turn digits into money
// by itself: amounts go through money.Parse.
//
// Reporting rule (see docs/capture.md): a total is reported when it differs
// from the last total reported, or, if it is the same value, only when a sale
// ended in between, that is when the display showed a paid/cash or change
// amount on a screen without the total. Repainting the same screen, with or
// without clearing it first, reports nothing new.
package display

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/money"
)

// Profile is a customer-display protocol.
type Profile int

// The protocol profiles. ProfileAuto detects one of the others from the bytes.
const (
	ProfileAuto Profile = iota
	ProfileLED8
	ProfileCD5220
	ProfileESCPOS
	ProfileText
)

var profileNames = []string{"auto", "led8", "cd5220", "escpos", "text"}

func (p Profile) String() string {
	if p >= 0 && int(p) < len(profileNames) {
		return profileNames[p]
	}
	return fmt.Sprintf("profile(%d)", int(p))
}

// ErrUnknownProfile is returned by ParseProfile.
var ErrUnknownProfile = errors.New("display: unknown profile")

// ParseProfile is the inverse of Profile.String (any case).
func ParseProfile(s string) (Profile, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, n := range profileNames {
		if t == n {
			return Profile(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (use %s)", ErrUnknownProfile, s, strings.Join(profileNames, ", "))
}

// Kind of a reported amount. Only totals are reported today; the type keeps
// the JSON field stable if change or paid amounts are added later.
type Kind int

// Kinds of reported amounts.
const (
	KindTotal Kind = iota + 1
)

func (k Kind) String() string {
	if k == KindTotal {
		return "total"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	if strings.ToLower(strings.TrimSpace(s)) == "total" {
		return KindTotal, nil
	}
	return 0, fmt.Errorf("display: unknown kind %q", s)
}

// Event is one amount the POS showed its customer.
type Event struct {
	Kind    Kind
	Amount  money.Fen
	Profile Profile // the profile that decoded it (never ProfileAuto)
}

// Reading turns the event into a current-amount reading seen at at.
func (e Event) Reading(at time.Time) capture.Reading {
	return capture.Reading{Amount: e.Amount, Source: capture.SourceSerial, At: at}
}

// Parser is a streaming decoder of one display protocol. Feed may be given
// the byte stream cut anywhere; the events do not depend on where. Flush
// says the line went quiet (or the capture ended), so a screen drawn without
// a final terminator is evaluated. A Parser is not safe for concurrent use.
type Parser interface {
	Feed(p []byte, emit func(Event))
	Flush(emit func(Event))
	// Profile is the protocol being decoded; for auto detection it is
	// ProfileAuto until the bytes have decided.
	Profile() Profile
}

// Caps that bound memory whatever the line carries: a text longer than
// this is dropped, not grown.
const (
	maxNumber = 24  // bytes in an LED-8 number
	maxText   = 80  // bytes in an ESC Q A/B text or a screen line
	maxLine   = 256 // bytes in a plain text line
	maxWidth  = 40  // the widest screen columns accepted
)

// NewParser returns a parser for p; width is the screen's characters per
// line for the 2-line profiles (0 means 20).
func NewParser(p Profile, width int) (Parser, error) {
	switch p {
	case ProfileAuto:
		return newAuto(width), nil
	case ProfileLED8:
		return newLED8(), nil
	case ProfileCD5220:
		return newScreen(dialectCD5220, width), nil
	case ProfileESCPOS:
		return newScreen(dialectESCPOS, width), nil
	case ProfileText:
		return newText(), nil
	}
	return nil, fmt.Errorf("%w %v", ErrUnknownProfile, p)
}

// Totals decodes a whole capture and returns its totals in order.
func Totals(p Profile, width int, capture []byte) ([]Event, error) {
	ps, err := NewParser(p, width)
	if err != nil {
		return nil, err
	}
	var out []Event
	emit := func(e Event) { out = append(out, e) }
	ps.Feed(capture, emit)
	endOfStream(ps, emit)
	return out, nil
}

// endOfStream settles a parser at the end of a recorded capture: the screen
// is read as after a silence, and auto detection decides on any lead.
func endOfStream(p Parser, emit func(Event)) {
	p.Flush(emit)
	if a, ok := p.(*auto); ok {
		a.finish(emit)
	}
}

// role of an amount on a screen.
type role int

const (
	roleNone  role = iota
	roleTotal      // the amount to collect
	roleEnd        // paid or change: the sale is over
	roleOther      // unit price and the like
)

type reading struct {
	role   role
	amount money.Fen
	valid  bool // money.Parse accepted it (0.00 is not valid but still a reading)
}

// tracker applies the reporting rule of the package comment to successive
// screens.
type tracker struct {
	profile  Profile
	last     money.Fen
	have     bool
	boundary bool
}

func (t *tracker) screen(rs []reading, emit func(Event)) {
	var total money.Fen
	found, end := false, false
	for _, r := range rs {
		switch {
		case r.role == roleTotal && r.valid && !found:
			total, found = r.amount, true
		case r.role == roleEnd:
			end = true
		}
	}
	if !found {
		if end {
			t.boundary = true
		}
		return
	}
	if t.have && total == t.last && !t.boundary {
		return
	}
	t.last, t.have, t.boundary = total, true, false
	emit(Event{Kind: KindTotal, Amount: total, Profile: t.profile})
}
