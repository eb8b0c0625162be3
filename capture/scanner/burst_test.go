package scanner

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

// timeline builds synthetic key events.
type timeline struct {
	keys []Key
	t    time.Duration
}

func vkOf(c rune) uint16 {
	switch {
	case c == '\r':
		return 0x0D
	case c >= 'a' && c <= 'z':
		return uint16(c - 'a' + 'A')
	}
	return uint16(c)
}

func charOf(c rune) rune {
	if c >= '0' && c <= '9' || c == '\r' {
		return c
	}
	return 0
}

// tap presses and releases c: down after gap, up after hold.
func (tl *timeline) tap(c rune, gap, hold time.Duration) *timeline {
	tl.t += gap
	tl.keys = append(tl.keys, Key{VK: vkOf(c), Char: charOf(c), At: tl.t})
	tl.keys = append(tl.keys, Key{VK: vkOf(c), Char: charOf(c), Up: true, At: tl.t + hold})
	return tl
}

// scanner types s as a wedge scanner does: every gap, keys held 1 ms.
func (tl *timeline) scanner(s string, gap time.Duration) *timeline {
	for _, c := range s {
		tl.tap(c, gap, ms)
	}
	return tl
}

// sorted returns the events in time order (ups may overlap later downs).
func (tl *timeline) sorted() []Key {
	out := append([]Key(nil), tl.keys...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].At < out[j-1].At; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// simulate runs the detector as the hook does, calling Timeout whenever a
// deadline falls before the next key (and once at the end), and returns what
// the POS receives and the scanned codes.
func simulate(b *Burst, keys []Key) (pos []Key, codes []string) {
	var deadline time.Duration
	apply := func(k *Key, out Output) {
		if k != nil && out.Verdict == Pass {
			pos = append(pos, *k)
		}
		pos = append(pos, out.Replay...)
		if out.Code != "" {
			codes = append(codes, out.Code)
		}
		deadline = out.Deadline
	}
	for i := range keys {
		k := keys[i]
		if deadline != 0 && deadline < k.At {
			apply(nil, b.Timeout(deadline))
		}
		apply(&k, b.Key(k))
	}
	for deadline != 0 {
		apply(nil, b.Timeout(deadline))
	}
	return pos, codes
}

func render(keys []Key) string {
	var sb strings.Builder
	for _, k := range keys {
		c := string(rune(k.VK))
		if k.VK == 0x0D {
			c = "⏎"
		}
		if k.Up {
			c = "^" + c
		}
		sb.WriteString(c + " ")
	}
	return strings.TrimSpace(sb.String())
}

func TestBurstTimelines(t *testing.T) {
	const payCode = "134567890123456789" // 18 digits, a WeChat-shaped code
	tests := []struct {
		name      string
		tl        *timeline
		wantCodes []string
		// wantPOS nil means: the POS gets exactly the keys typed, in order.
		wantPOS *string
	}{
		{
			name:      "real scan",
			tl:        new(timeline).scanner(payCode+"\r", 4*ms),
			wantCodes: []string{payCode},
			wantPOS:   ptr(""),
		},
		{
			name:      "scan at the 29 ms limit",
			tl:        new(timeline).scanner(payCode+"\r", 29*ms),
			wantCodes: []string{payCode},
			wantPOS:   ptr(""),
		},
		{
			name: "fast human typist",
			// 45–90 ms between keys, keys overlapping (rollover), Enter.
			tl: func() *timeline {
				tl := new(timeline)
				for i, c := range "4590123\r" {
					tl.tap(c, time.Duration(45+(i*17)%45)*ms, 70*ms)
				}
				return tl
			}(),
		},
		{
			name: "human pair under the gap, then slow",
			// Two digits 20 ms apart (a roll), then a pause: held, then replayed.
			tl: new(timeline).tap('1', 0, 30*ms).tap('2', 20*ms, 30*ms).tap('3', 150*ms, 30*ms).tap('\r', 200*ms, 30*ms),
		},
		{
			name: "human keys interleaved with a scan",
			tl: func() *timeline {
				tl := new(timeline).scanner(payCode[:9], 5*ms)
				tl.t += 1 * ms
				tl.keys = append(tl.keys, Key{VK: 'A', At: tl.t}, Key{VK: 'A', Up: true, At: tl.t + 2*ms})
				return tl.scanner(payCode[9:]+"\r", 5*ms)
			}(),
			wantCodes: []string{payCode},
			wantPOS:   ptr("A ^A"),
		},
		{
			name:    "scan without Enter",
			tl:      new(timeline).scanner(payCode, 4*ms),
			wantPOS: nil,
		},
		{
			name: "product barcode is not a payment code",
			tl:   new(timeline).scanner("6901234567892\r", 4*ms),
		},
		{
			name: "Enter too late after a fast burst",
			tl:   new(timeline).scanner(payCode, 4*ms).tap('\r', 80*ms, 5*ms),
		},
		{
			name: "too many digits",
			tl:   new(timeline).scanner(strings.Repeat("7", 40)+"\r", 3*ms),
		},
		{
			name:      "two scans and typing between",
			tl:        new(timeline).scanner(payCode+"\r", 5*ms).tap('9', 400*ms, 60*ms).tap('\r', 300*ms, 60*ms).scanner("28"+payCode[2:]+"\r", 5*ms),
			wantCodes: []string{payCode, "28" + payCode[2:]},
			wantPOS:   ptr("9 ^9 ⏎ ^⏎"),
		},
		{
			name: "letters only pass at once",
			tl:   new(timeline).tap('a', 0, 3*ms).tap('b', 2*ms, 3*ms).tap('\r', 2*ms, 3*ms),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := tt.tl.sorted()
			pos, codes := simulate(NewBurst(BurstConfig{}), keys)
			if fmt.Sprint(codes) != fmt.Sprint(tt.wantCodes) && !(len(codes) == 0 && len(tt.wantCodes) == 0) {
				t.Errorf("codes = %v, want %v", codes, tt.wantCodes)
			}
			want := render(keys)
			if tt.wantPOS != nil {
				want = *tt.wantPOS
			}
			if got := render(pos); got != want {
				t.Errorf("POS got  %q\n            want %q", got, want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestBurstPassesLettersImmediately: keys that cannot start a scan are never
// delayed.
func TestBurstPassesLettersImmediately(t *testing.T) {
	b := NewBurst(BurstConfig{})
	for _, k := range []Key{{VK: 'A'}, {VK: 'A', Up: true}, {VK: 0x0D, Char: '\r'}} {
		if out := b.Key(k); out.Verdict != Pass || len(out.Replay) != 0 || out.Deadline != 0 {
			t.Errorf("%+v: %+v", k, out)
		}
	}
}

// TestBurstHoldsFirstDigitBriefly documents the cost: a lone digit is held
// until MaxGap after it, then replayed.
func TestBurstHoldsFirstDigitBriefly(t *testing.T) {
	b := NewBurst(BurstConfig{MaxGap: 25 * ms})
	out := b.Key(Key{VK: '5', Char: '5', At: 100 * ms})
	if out.Verdict != Swallow || out.Deadline != 125*ms {
		t.Fatalf("first digit: %+v", out)
	}
	if early := b.Timeout(110 * ms); len(early.Replay) != 0 || early.Deadline != 125*ms {
		t.Fatalf("early timeout: %+v", early)
	}
	late := b.Timeout(125 * ms)
	if len(late.Replay) != 1 || late.Replay[0].VK != '5' || late.Deadline != 0 {
		t.Fatalf("timeout: %+v", late)
	}
	// Its up, arriving after the replay, passes.
	if out := b.Key(Key{VK: '5', Char: '5', Up: true, At: 160 * ms}); out.Verdict != Pass {
		t.Fatalf("up: %+v", out)
	}
}

func TestAcceptOverride(t *testing.T) {
	b := NewBurst(BurstConfig{MinLen: 4, Accept: func(c string) bool { return strings.HasPrefix(c, "99") }})
	pos, codes := simulate(b, new(timeline).scanner("9912\r", 2*ms).tap('x', 500*ms, 1*ms).scanner("8812\r", 2*ms).sorted())
	if fmt.Sprint(codes) != "[9912]" {
		t.Errorf("codes = %v", codes)
	}
	if render(pos) != "X ^X 8 ^8 8 ^8 1 ^1 2 ^2 ⏎ ^⏎" {
		t.Errorf("POS got %q", render(pos))
	}
}

func TestLooksLikePaymentCode(t *testing.T) {
	for code, want := range map[string]bool{
		"134567890123456789":        true,
		"2888888888888888":          true,
		"6212345678901234567":       true,
		"6901234567892":             false,
		"1234567890123456789012345": false,
		"13456789012345678x":        false,
	} {
		if LooksLikePaymentCode(code) != want {
			t.Errorf("LooksLikePaymentCode(%q) != %v", code, want)
		}
	}
}
