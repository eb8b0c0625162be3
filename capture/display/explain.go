package display

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/scanbox/scanbox/money"
)

// The installer's explain mode: from one recording, say what the POS sent
// (frame by frame), which profiles would report which totals, and why the
// chosen profile reported what it did, or nothing. It only reads; what it
// prints are the display's own frames, which carry amounts and labels,
// never payment codes (those come from the scan box, not this line).

// Caps for explain: a recording is a few sales, not a day's traffic.
const (
	maxExplainBytes  = 4 << 20
	maxExplainFrames = 400
	maxFrameText     = 60 // characters of text shown per frame
)

// Frame is one command or run of text the POS sent.
type Frame struct {
	Offset int    // byte offset in the recording
	Text   string // e.g. `ESC s 0x02`, `ESC Q A "3.50" CR`, `text "TOTAL 5.00"`
}

// Match is a set of profiles that read the same totals from the recording.
type Match struct {
	Profiles []Profile
	Totals   []money.Fen
}

// Report is what Explain found.
type Report struct {
	Bytes      int
	Profile    Profile // the profile asked for
	Detected   Profile // what auto detection decided (ProfileAuto: nothing)
	Evidence   string  // auto detection's points per family, e.g. "led8 12, cd5220 1"
	Frames     []Frame // the first frames
	FrameCount int     // all frames, shown or not
	Matches    []Match // profiles that report at least one total, grouped
	Totals     []Event // what Profile reports
	Try        []Profile
	Why        string // one or two sentences: why nothing, or what, was reported
}

// Explain reads a recording from r and explains it for profile p (width as
// for NewParser).
func Explain(r io.Reader, p Profile, width int) (Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxExplainBytes+1))
	if err != nil {
		return Report{}, fmt.Errorf("display: read the recording: %w", err)
	}
	if len(data) > maxExplainBytes {
		data = data[:maxExplainBytes]
	}
	rep := Report{Bytes: len(data), Profile: p, Detected: ProfileAuto}
	ps, err := NewParser(p, width)
	if err != nil {
		return Report{}, err
	}
	emit := func(e Event) { rep.Totals = append(rep.Totals, e) }
	ps.Feed(data, emit)
	endOfStream(ps, emit)

	// Auto detection's view, whatever profile was asked for.
	a := newAuto(width)
	a.Feed(data, func(Event) {})
	endOfStream(a, func(Event) {})
	rep.Detected = a.Profile()
	var ev []string
	for i, s := range a.score {
		if s > 0 {
			ev = append(ev, fmt.Sprintf("%v %d", autoProfiles[i], s))
		}
	}
	rep.Evidence = strings.Join(ev, ", ")
	try, hint := a.Hint()

	// Every concrete profile, grouped by what it reads.
	for q := ProfileAuto + 1; q < numProfiles; q++ {
		evs, _ := Totals(q, width, data)
		if len(evs) == 0 {
			continue
		}
		amts := make([]money.Fen, len(evs))
		for i, e := range evs {
			amts[i] = e.Amount
		}
		found := false
		for i := range rep.Matches {
			if slices.Equal(rep.Matches[i].Totals, amts) {
				rep.Matches[i].Profiles = append(rep.Matches[i].Profiles, q)
				found = true
				break
			}
		}
		if !found {
			rep.Matches = append(rep.Matches, Match{Profiles: []Profile{q}, Totals: amts})
		}
	}
	rep.Frames, rep.FrameCount = frames(data, maxExplainFrames)

	switch {
	case len(rep.Totals) > 0 && p == ProfileAuto:
		rep.Why = fmt.Sprintf("auto detection decided on %v from the frames (%s) and read %d total(s) with it.", rep.Detected, rep.Evidence, len(rep.Totals))
	case len(rep.Totals) > 0:
		rep.Why = fmt.Sprintf("profile %v read %d total(s).", p, len(rep.Totals))
		if len(rep.Matches) > 1 {
			rep.Why += " Other profiles read other amounts from the same bytes: make sure this is the display's model."
		}
	case p == ProfileAuto && len(try) > 0:
		rep.Try = try
		rep.Why = hint + "."
	case p == ProfileAuto && rep.Detected == ProfileAuto:
		rep.Why = "no frame of a known display protocol was recognised: check the baud rate and parity (a wrong one turns the bytes into noise), or try a profile below."
		rep.Try = matchProfiles(rep.Matches)
	case p == ProfileAuto:
		rep.Why = fmt.Sprintf("auto detection decided on %v (%s), but no frame showed a total: the amounts were labelled as something else, refused (0.00, more than %v) or had no label ScanBox knows.", rep.Detected, rep.Evidence, money.Max)
		rep.Try = matchProfiles(rep.Matches)
	default:
		rep.Why = fmt.Sprintf("profile %v found no total in these bytes.", p)
		if rep.Detected != ProfileAuto {
			rep.Why += fmt.Sprintf(" The frames look like %v.", rep.Detected)
		}
		rep.Try = matchProfiles(rep.Matches)
	}
	return rep, nil
}

func matchProfiles(ms []Match) []Profile {
	var out []Profile
	for _, m := range ms {
		out = append(out, m.Profiles...)
	}
	return out
}

// String renders the report for a console.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "recording: %d bytes, %d frames", r.Bytes, r.FrameCount)
	if r.FrameCount > len(r.Frames) {
		fmt.Fprintf(&b, " (the first %d shown)", len(r.Frames))
	}
	b.WriteString("\nframes:\n")
	for _, f := range r.Frames {
		fmt.Fprintf(&b, "  @%05d  %s\n", f.Offset, f.Text)
	}
	det := "nothing decided"
	if r.Detected != ProfileAuto {
		det = r.Detected.String()
	}
	ev := r.Evidence
	if ev == "" {
		ev = "none"
	}
	fmt.Fprintf(&b, "auto detection: %s (evidence: %s)\n", det, ev)
	b.WriteString("profiles that read totals:\n")
	if len(r.Matches) == 0 {
		b.WriteString("  none\n")
	}
	for _, m := range r.Matches {
		names := make([]string, len(m.Profiles))
		for i, p := range m.Profiles {
			names[i] = p.String()
		}
		fmt.Fprintf(&b, "  %s: %s\n", strings.Join(names, ", "), fens(m.Totals))
	}
	amts := make([]money.Fen, len(r.Totals))
	for i, e := range r.Totals {
		amts[i] = e.Amount
	}
	got := "nothing"
	if len(amts) > 0 {
		got = fens(amts)
	}
	fmt.Fprintf(&b, "reported with %v: %s\n", r.Profile, got)
	fmt.Fprintf(&b, "why: %s\n", r.Why)
	if len(r.Try) > 0 {
		names := make([]string, len(r.Try))
		for i, p := range r.Try {
			names[i] = p.String()
		}
		fmt.Fprintf(&b, "try: --profile %s\n", strings.Join(names, " | --profile "))
	}
	return b.String()
}

func fens(a []money.Fen) string {
	s := make([]string, len(a))
	for i, f := range a {
		s[i] = f.String()
	}
	return strings.Join(s, " ")
}

// frames splits a recording into the commands and text runs the display
// families use, for reading by a person. It decodes no meaning (that is the
// parsers' job): it only names bytes.
func frames(data []byte, maxN int) ([]Frame, int) {
	var out []Frame
	n := 0
	add := func(off int, s string) {
		n++
		if len(out) < maxN {
			out = append(out, Frame{Offset: off, Text: s})
		}
	}
	at := func(i int) (byte, bool) {
		if i < len(data) {
			return data[i], true
		}
		return 0, false
	}
	for i := 0; i < len(data); {
		start, c := i, data[i]
		switch {
		case c == esc:
			x, ok := at(i + 1)
			if !ok {
				add(start, "ESC")
				i++
				continue
			}
			i += 2
			switch x {
			case '[':
				j := i
				for j < len(data) && j-i < 16 && (data[j] >= '0' && data[j] <= '9' || data[j] == ';' || data[j] == '?') {
					j++
				}
				if j < len(data) {
					j++
				}
				add(start, "ESC ["+printable(data[i:j]))
				i = j
			case 'Q':
				line, _ := at(i)
				j := i + 1
				for j < len(data) && data[j] != cr && data[j] != esc && j-i < maxText {
					j++
				}
				s := fmt.Sprintf("ESC Q %s %s", printable([]byte{line}), quote(data[min(i+1, j):j]))
				if j < len(data) && data[j] == cr {
					s += " CR"
					j++
				}
				add(start, s)
				i = j
			case 's':
				v, _ := at(i)
				add(start, "ESC s "+paramName(v))
				i++
				if t, ok := at(i); ok && t != esc {
					add(i, paramName(t)+" (a byte after the lamp command)")
					i++
				}
			case '=', 'R', 't':
				v, _ := at(i)
				add(start, fmt.Sprintf("ESC %c %s", x, paramName(v)))
				i++
			case 'l':
				add(start, fmt.Sprintf("ESC l %s %s", byteName(get(data, i)), byteName(get(data, i+1))))
				i += 2
			default:
				add(start, "ESC "+byteName(x))
			}
		case c == us:
			x := get(data, i+1)
			if x == '$' {
				add(start, fmt.Sprintf("US $ %d %d", get(data, i+2), get(data, i+3)))
				i += 4
			} else {
				add(start, "US "+byteName(x))
				i += 2
			}
		case c == dle:
			add(start, fmt.Sprintf("DLE %s (cell %d)", byteName(get(data, i+1)), get(data, i+1)))
			i += 2
		case c >= 0x20 && c != 0x7F:
			j := i
			for j < len(data) && data[j] >= 0x20 && data[j] != 0x7F {
				j++
			}
			add(start, "text "+quote(data[i:j]))
			i = j
		default:
			add(start, byteName(c))
			i++
		}
	}
	return out, n
}

func get(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

var controlNames = map[byte]string{0x00: "NUL", 0x01: "SOH", cr: "CR", lf: "LF", ff: "FF", 0x0B: "VT", 0x08: "BS", 0x09: "HT", 0x18: "CAN", esc: "ESC", us: "US", dle: "DLE"}

// byteName shows a parameter byte: a printable character as itself, a
// control byte by name or in hex.
func byteName(c byte) string {
	if n, ok := controlNames[c]; ok {
		return n
	}
	if c > 0x20 && c < 0x7F {
		return string(rune(c))
	}
	return fmt.Sprintf("0x%02X", c)
}

// paramName shows a numeric parameter byte: an ASCII digit quoted, any
// other byte in hex.
func paramName(c byte) string {
	if c >= '0' && c <= '9' {
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("0x%02X", c)
}

func printable(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c > 0x20 && c < 0x7F {
			s.WriteByte(c)
		} else {
			s.WriteString(" " + byteName(c) + " ")
		}
	}
	return strings.TrimSpace(s.String())
}

// quote shows display text decoded (GBK/GB18030), quoted and cut short.
func quote(b []byte) string {
	r := []rune(decodeLine(b))
	cut := ""
	if len(r) > maxFrameText {
		r, cut = r[:maxFrameText], "…"
	}
	return strconv.Quote(string(r)) + cut
}
