package display

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/money"
)

func TestProfileAndKindRoundTrip(t *testing.T) {
	for p := range numProfiles {
		got, err := ParseProfile(p.String())
		if err != nil || got != p {
			t.Errorf("ParseProfile(%q) = %v, %v", p.String(), got, err)
		}
	}
	if _, err := ParseProfile("vfd"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("ParseProfile(vfd) = %v", err)
	}
	if k, err := ParseKind(KindTotal.String()); err != nil || k != KindTotal {
		t.Errorf("ParseKind = %v, %v", k, err)
	}
	if _, err := NewParser(Profile(42), 0); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("NewParser(42) = %v", err)
	}
}

func TestExtract(t *testing.T) {
	tests := []struct {
		lines []string
		want  string // role:amount ... (amount "x" if refused)
	}{
		{[]string{"TOTAL 25.00"}, "T:25.00"},
		{[]string{"Total: ¥1,234.50"}, "T:1234.50"},
		{[]string{"合计 ￥ 8.00"}, "T:8.00"},
		{[]string{"总计", "12.00"}, "T:12.00"},
		{[]string{"应收", "Thank you", "12.00"}, ""}, // a label reaches one line down only
		{[]string{"SUBTOTAL 9.00"}, ""},
		{[]string{"CASHIER 3 TOTAL 5.00"}, "T:5.00"},
		{[]string{"Amount due 7.10", "CHANGE 0.00"}, "T:7.10 E:x"},
		{[]string{"实收 50.00 找零 2.00"}, "E:50.00 E:2.00"},
		{[]string{"单价 3.50 应付 7.00"}, "O:3.50 T:7.00"},
		{[]string{"PRICE 2.00", "TOTAL -3.00"}, "O:2.00 T:x"},
		{[]string{"Cola 3.50", "Qty 2"}, ""},
		{[]string{"TOTAL 12.505"}, "T:x"},
		{[]string{"TOTAL", ""}, ""},
	}
	for _, tt := range tests {
		var parts []string
		for _, r := range extract(tt.lines, nil) {
			a := "x"
			if r.valid {
				a = r.amount.String()
			}
			parts = append(parts, map[role]string{roleTotal: "T", roleEnd: "E", roleOther: "O"}[r.role]+":"+a)
		}
		if got := strings.Join(parts, " "); got != tt.want {
			t.Errorf("extract(%q) = %q, want %q", tt.lines, got, tt.want)
		}
	}
}

func TestDecodeGBK(t *testing.T) {
	if got := decodeLine([]byte(gbk("合计 找零"))); got != "合计 找零" {
		t.Errorf("decodeLine = %q", got)
	}
	// A stray high byte becomes a replacement, not the loss of the line.
	if got := decodeLine([]byte("TOTAL \xff 5.00")); !strings.Contains(got, "TOTAL") || !strings.Contains(got, "5.00") {
		t.Errorf("decodeLine garbage = %q", got)
	}
}

func TestTrackerRule(t *testing.T) {
	tot := func(a money.Fen) []reading { return []reading{{role: roleTotal, amount: a, valid: true}} }
	end := []reading{{role: roleEnd, amount: 100, valid: true}}
	other := []reading{{role: roleOther, amount: 100, valid: true}}
	steps := []struct {
		rs   []reading
		want string
	}{
		{tot(100), "1.00"},
		{tot(100), ""},                 // repaint
		{nil, ""},                      // clear
		{tot(100), ""},                 // repaint after clear
		{other, ""},                    // an item price is no boundary
		{tot(100), ""},                 //
		{tot(200), "2.00"},             // running total
		{tot(100), "1.00"},             // void: it went back down
		{append(tot(100), end...), ""}, // paid next to the total: sale not over yet
		{tot(100), ""},
		{end, ""},          // the total is gone, change shown: sale over
		{tot(100), "1.00"}, // same amount, new sale
	}
	tr := tracker{profile: ProfileText}
	for i, s := range steps {
		got := ""
		tr.screen(s.rs, func(e Event) { got = e.Amount.String() })
		if got != s.want {
			t.Errorf("step %d: reported %q, want %q", i, got, s.want)
		}
	}
}

func TestAutoDetects(t *testing.T) {
	tests := []struct {
		name string
		data string
		want Profile
	}{
		{"led8 binary lamp", "\x1bs\x02\x1bQA5.00\r", ProfileLED8},
		{"cd5220 lower line", "\x1bQBTOTAL 5.00\r", ProfileCD5220},
		{"cd5220 text line", "\x1bQATOTAL 5.00\r", ProfileCD5220},
		{"escpos cursor", "\x1f$\x01\x01TOTAL 5.00", ProfileESCPOS},
		{"plain text", "TOTAL 5.00\r\n", ProfileText},
		{"nothing", "\x00\x00", ProfileAuto},
	}
	for _, tt := range tests {
		p := newAuto(20)
		var got []Event
		p.Feed([]byte(tt.data), func(e Event) { got = append(got, e) })
		endOfStream(p, func(e Event) { got = append(got, e) })
		if p.Profile() != tt.want {
			t.Errorf("%s: detected %v, want %v", tt.name, p.Profile(), tt.want)
		}
		if tt.want != ProfileAuto && (len(got) != 1 || got[0].Amount != 500 || got[0].Profile != tt.want) {
			t.Errorf("%s: events %+v", tt.name, got)
		}
	}
}

// TestAutoIdleNeedsEvidence: a quiet line decides on a lead of 2 points,
// not on one ESC Q A with digits, which a CD5220 may send as well.
func TestAutoIdleNeedsEvidence(t *testing.T) {
	emit := func(Event) {}
	weak := newAuto(20)
	weak.Feed([]byte("\x1b@\x1bQA12.50\r"), emit)
	weak.Flush(emit)
	if weak.Profile() != ProfileAuto {
		t.Errorf("decided %v on one point", weak.Profile())
	}
	weak.Feed([]byte("\x1bQBTOTAL 12.50\r"), emit)
	if weak.Profile() != ProfileCD5220 {
		t.Errorf("then decided %v", weak.Profile())
	}
	var got []Event
	led := newAuto(20)
	led.Feed([]byte("\x1b@\x1bs2\x1bQA12.50\r"), emit)
	led.Flush(func(e Event) { got = append(got, e) })
	if led.Profile() != ProfileLED8 || len(got) != 1 || got[0].Amount != 1250 {
		t.Errorf("LED-8 total frame then quiet: %v %+v", led.Profile(), got)
	}
}

// TestESCPOSSkipsParameters: parameter bytes of skipped commands are
// small numbers that would read as LF, FF or CAN if they were not skipped.
func TestESCPOSSkipsParameters(t *testing.T) {
	data := "\x1b@\x1f$\x01\x01TOTAL  5.00" +
		"\x1bW\x01\x01\x0a\x0c\x0d\x18" + // window 1 set: x1=10 y1=12 (FF!) ...
		"\x1bW\x02\x00" + // window 2 cancelled: no coordinates
		"\x1f#\x0c\x0c\x1fT\x0a\x0c\x1fX\x0c\x1b&\x01\x41\x41\x02\x0c\x18" +
		"\x0b"
	ev, err := Totals(ProfileESCPOS, 20, []byte(data))
	if err != nil || len(ev) != 1 || ev[0].Amount != 500 {
		t.Fatalf("events %+v, %v", ev, err)
	}
	p := newScreen(dialectESCPOS, 20, ProfileESCPOS)
	p.Feed([]byte(data), func(Event) {})
	if string(p.lines[0]) != "TOTAL  5.00" {
		t.Errorf("line 0 = %q: a parameter was taken for a control", p.lines[0])
	}
}

func TestLineCapBoundsMemory(t *testing.T) {
	for prof := range numProfiles {
		p, _ := NewParser(prof, 20)
		huge := bytes.Repeat([]byte("TOTAL 5.00 "), 100_000)
		var got []Event
		emit := func(e Event) { got = append(got, e) }
		p.Feed([]byte("\x1bQA"), emit)
		p.Feed(huge, emit)
		if n := buffered(p); n > 4*maxLine {
			t.Errorf("%v holds %d bytes after a 1 MB line", prof, n)
		}
	}
}

// buffered is how many bytes of pending input a parser holds.
func buffered(p Parser) int {
	switch v := p.(type) {
	case *led8:
		return cap(v.num)
	case *screen:
		return cap(v.text) + cap(v.lines[0]) + cap(v.lines[1])
	case *text:
		return cap(v.line) + len(v.prev)
	case *aedex:
		return cap(v.text) + cap(v.lines[0]) + cap(v.lines[1])
	case *auto:
		n := 0
		for i, q := range v.parsers {
			if q != nil {
				n += buffered(q)
			}
			n += len(v.pending[i])
		}
		return n
	}
	panic("unknown parser")
}

func TestTotalsHelper(t *testing.T) {
	ev, err := Totals(ProfileText, 0, []byte("TOTAL 5.00\n"))
	if err != nil || len(ev) != 1 || ev[0].Amount != 500 {
		t.Fatalf("Totals = %+v, %v", ev, err)
	}
	r := ev[0].Reading(fixedTime)
	if r.Amount != 500 || r.Source.String() != "serial" || !r.At.Equal(fixedTime) {
		t.Errorf("Reading = %+v", r)
	}
}
