// Package display sniffs the amount a POS sends to its customer pole display.
//
// It owns the protocol profiles (LED-8 price poles and their lamp dialects,
// CD5220-style 2×20 VFDs, Epson ESC/POS customer displays, ANSI (Wincor),
// IBM SurePOS-style and AEDEX displays, plain text lines) as pure streaming
// parsers over bytes, their automatic detection, the installer's explain
// mode, and the live sniffer that reads the POS's serial line and forwards
// every byte to the real display.
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

// Profile is a customer-display protocol, either a protocol family (led8,
// cd5220, escpos, text) or a display model whose driver frames it its own
// way. ProfileAuto detects a family from the bytes.
type Profile int

// The profiles. The order is part of nothing: they are stored and passed
// by name (ParseProfile, Profile.String).
const (
	ProfileAuto Profile = iota
	ProfileLED8
	ProfileCD5220
	ProfileESCPOS
	ProfileText
	ProfilePartner // Partner CD7110/CD7111 LED-8: ESC s n 0x01, ESC s 2 is the unit price
	ProfileWintec  // Wintec CD110 LED-8: ESC s 0x01..0x04
	ProfileHisense // Hisense VC110/VC110A LED-8: ESC s 0x01..0x04 or '1'..'4'
	ProfileCitaq   // Citaq PD6108 LED-8: ESC s '1'..'4', welcome 0.00 then text
	ProfileEjeton  // Ejeton VFD8C LED-8: a bare '1'..'4' before ESC Q A
	ProfileWincor  // Wincor Nixdorf BA63/I8: ANSI ESC [2J, ESC [r;cH, GBK
	ProfileIBM     // IBM SurePOS-style 2×20: NUL SOH mode select, DLE n cursor
	ProfileEpson   // Epson DM-D and ESC/POS compatibles (same parser as escpos)
	ProfileAEDEX   // AEDEX / EMAX: !#1 upper line, !#2 lower line, !#9 both
	numProfiles
)

// ProfileInfo describes a profile for Settings, the CLI help and the docs.
type ProfileInfo struct {
	Profile  Profile
	Name     string // what ParseProfile accepts and config stores
	Displays string // the displays (models) it is for
	Reads    string // what ScanBox takes as the total
}

// profiles is the one table of names; the index is the Profile.
var profiles = [numProfiles]ProfileInfo{
	{ProfileAuto, "auto", "any: detects the family from the bytes", "the total once the bytes prove the protocol; nothing while two profiles could read them differently"},
	{ProfileLED8, "led8", "LED-8 price poles, common dialect: ESC s n lamp (1 unit price, 2 total, 3 paid, 4 change), ESC Q A digits CR", "the number under the total lamp"},
	{ProfileCD5220, "cd5220", "2×20 VFDs speaking CD5220 and its clones (Hisense VG210A): ESC Q A/B lines, ESC l x y", "the labelled amount on the screen"},
	{ProfileESCPOS, "escpos", "ESC/POS customer displays: US $ x y, ESC =", "the labelled amount on the screen"},
	{ProfileText, "text", "POS writing plain lines", "the labelled amount on each line"},
	{ProfilePartner, "partner", "Partner CD7110/CD7111 LED-8: ESC s n 0x01 (1 thank-you, 2 unit price, 3 total, 4 paid, 5 change)", "the number under lamp 3 (total)"},
	{ProfileWintec, "wintec", "Wintec CD110 LED-8: ESC s 0x01..0x04 (2 total); the Wintec CD320 2-line display uses epson", "the number under lamp 2 (total)"},
	{ProfileHisense, "hisense", "Hisense VC110/VC110A/ZQ-8DLII LED-8: ESC s 0x01..0x04 or '1'..'4' (2 total); the VG210A 2-line display uses cd5220", "the number under lamp 2 (total)"},
	{ProfileCitaq, "citaq", "Citaq PD6108 (Opoz6000) LED-8: ESC s '1'..'4' (2 total), a welcome 0.00 and text under the last lamp", "the number under lamp 2 (total)"},
	{ProfileEjeton, "ejeton", "Ejeton VFD8C LED-8: the lamp as a bare byte '1'..'4' just before ESC Q A (2 total)", "the number after a bare '2'"},
	{ProfileWincor, "wincor", "Wincor Nixdorf BA63/BA66/I8: ANSI ESC [2J, ESC [row;colH, GBK text", "the labelled amount on the screen"},
	{ProfileIBM, "ibm", "IBM SurePOS-style 2×20 displays (Logic Controls command set): NUL SOH mode select, DLE n cursor to cell n", "the labelled amount on the screen"},
	{ProfileEpson, "epson", "Epson DM-D110/DM-D210 and ESC/POS compatibles (Wintec CD320), also POS libraries writing GB18030", "the labelled amount on the screen"},
	{ProfileAEDEX, "aedex", "AEDEX / EMAX 2×20 displays: !#1 upper line CR, !#2 lower line CR, !#9 both lines CR", "the labelled amount on the screen"},
}

// Profiles lists every profile in a stable order (auto first), for
// Settings and the CLI.
func Profiles() []ProfileInfo { return append([]ProfileInfo(nil), profiles[:]...) }

// ProfileNames lists the names ParseProfile accepts, auto first.
func ProfileNames() []string {
	out := make([]string, len(profiles))
	for i, p := range profiles {
		out[i] = p.Name
	}
	return out
}

func (p Profile) String() string {
	if p >= 0 && p < numProfiles {
		return profiles[p].Name
	}
	return fmt.Sprintf("profile(%d)", int(p))
}

// ErrUnknownProfile is returned by ParseProfile.
var ErrUnknownProfile = errors.New("display: unknown profile")

// ParseProfile is the inverse of Profile.String (any case).
func ParseProfile(s string) (Profile, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, p := range profiles {
		if t == p.Name {
			return Profile(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (use %s)", ErrUnknownProfile, s, strings.Join(ProfileNames(), ", "))
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
	case ProfileLED8, ProfileWintec, ProfileHisense, ProfileCitaq:
		return newLED8(ledCommon, p), nil
	case ProfilePartner:
		return newLED8(ledPartner, p), nil
	case ProfileEjeton:
		return newLED8(ledBare, p), nil
	case ProfileCD5220:
		return newScreen(dialectCD5220, width, p), nil
	case ProfileESCPOS, ProfileEpson:
		return newScreen(dialectESCPOS, width, p), nil
	case ProfileWincor:
		return newScreen(dialectANSI, width, p), nil
	case ProfileIBM:
		return newScreen(dialectIBM, width, p), nil
	case ProfileAEDEX:
		return newAEDEX(width), nil
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
