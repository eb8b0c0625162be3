package display

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/scanbox/scanbox/money"
)

func fenStrings(a []money.Fen) []string {
	out := make([]string, len(a))
	for i, f := range a {
		out[i] = f.String()
	}
	return out
}

func TestExplainAmbiguousLED(t *testing.T) {
	var partner scenario
	for _, sc := range driverScenarios {
		if sc.name == "partner_cd7111" {
			partner = sc
		}
	}
	c := partner.build()
	rep, err := Explain(bytes.NewReader(c.buf.Bytes()), ProfileAuto, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Totals) != 0 {
		t.Errorf("auto reported %v", rep.Totals)
	}
	if !slices.Contains(rep.Try, ProfilePartner) || !strings.Contains(rep.Why, "trailing byte") {
		t.Errorf("try %v, why %q", rep.Try, rep.Why)
	}
	var partnerReads, led8Reads []string
	for _, m := range rep.Matches {
		if slices.Contains(m.Profiles, ProfilePartner) {
			partnerReads = fenStrings(m.Totals)
		}
		if slices.Contains(m.Profiles, ProfileLED8) {
			led8Reads = fenStrings(m.Totals)
		}
	}
	if !slices.Equal(partnerReads, c.want) || len(led8Reads) == 0 || slices.Equal(led8Reads, c.want) {
		t.Errorf("matches %+v: partner should read %v and led8 something else", rep.Matches, c.want)
	}
	s := rep.String()
	for _, want := range []string{"ESC s 0x03", `ESC Q A "7.50" CR`, "try: --profile partner", "reported with auto: nothing"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	// With the right profile the same recording reads its totals.
	rep, _ = Explain(bytes.NewReader(c.buf.Bytes()), ProfilePartner, 20)
	if got := rep.Totals; len(got) != len(c.want) || len(rep.Try) != 0 {
		t.Errorf("as partner: %+v, try %v", got, rep.Try)
	}
}

func TestExplainFamilies(t *testing.T) {
	for _, sc := range allScenarios() {
		c := sc.build()
		// One byte per read: Explain must not depend on how r delivers.
		rep, err := Explain(iotest.OneByteReader(bytes.NewReader(c.buf.Bytes())), ProfileAuto, 20)
		if err != nil {
			t.Fatal(err)
		}
		fam := sc.family
		if fam == 0 {
			fam = sc.profile
		}
		if rep.Detected != fam {
			t.Errorf("%s: detected %v, want %v", sc.name, rep.Detected, fam)
		}
		if sc.autoTry == nil && len(rep.Totals) != len(c.want) {
			t.Errorf("%s: %d totals, want %d; why %q", sc.name, len(rep.Totals), len(c.want), rep.Why)
		}
		if rep.Why == "" || rep.FrameCount == 0 || len(rep.Frames) == 0 {
			t.Errorf("%s: empty report %+v", sc.name, rep)
		}
	}
}

func TestExplainNoise(t *testing.T) {
	// What a wrong baud rate looks like: bytes without any frame.
	noise := bytes.Repeat([]byte{0xF0, 0x87, 0x93, 0xE1, 0x00, 0xFE}, 50)
	rep, err := Explain(bytes.NewReader(noise), ProfileAuto, 20)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Detected != ProfileAuto || len(rep.Totals) != 0 || !strings.Contains(rep.Why, "baud rate") {
		t.Errorf("noise: %+v", rep)
	}
	// A profile that reads nothing says what the frames look like.
	rep, _ = Explain(strings.NewReader("\x1b[2J\x1b[2;1HTOTAL 5.00\x1b[2J"), ProfileLED8, 20)
	if len(rep.Totals) != 0 || !strings.Contains(rep.Why, "look like wincor") || !slices.Contains(rep.Try, ProfileWincor) {
		t.Errorf("wrong profile: why %q try %v", rep.Why, rep.Try)
	}
}

func TestExplainBounded(t *testing.T) {
	big := bytes.Repeat([]byte("\x1bs2\x1bQA1.00\r"), 5000)
	rep, err := Explain(bytes.NewReader(big), ProfileAuto, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Frames) != maxExplainFrames || rep.FrameCount <= maxExplainFrames {
		t.Errorf("frames %d of %d", len(rep.Frames), rep.FrameCount)
	}
	if !strings.Contains(rep.String(), "the first 400 shown") {
		t.Error("report does not say frames were left out")
	}
}
