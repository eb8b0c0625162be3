package scanner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture/internal/ptypair"
	"github.com/scanbox/scanbox/capture/serialport"
)

func TestModeRoundTrip(t *testing.T) {
	for _, m := range []Mode{ModeSerial, ModeWedge} {
		if got, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if got, _ := ParseMode("Keyboard"); got != ModeWedge {
		t.Errorf("keyboard = %v", got)
	}
	if _, err := ParseMode("bluetooth"); err == nil {
		t.Error("ParseMode(bluetooth) succeeded")
	}
}

type lineResult struct {
	codes   []string
	rejects []error
}

func feedLines(l *Lines, data string, chunk int) lineResult {
	var r lineResult
	for i := 0; i < len(data); i += chunk {
		l.Feed([]byte(data[i:min(i+chunk, len(data))]),
			func(c string) { r.codes = append(r.codes, c) },
			func(err error) { r.rejects = append(r.rejects, err) })
	}
	return r
}

func TestLines(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		codes   []string
		rejects []error
	}{
		{"CR", "134567890123456789\r", []string{"134567890123456789"}, nil},
		{"LF", "134567890123456789\n", []string{"134567890123456789"}, nil},
		{"CRLF twice", "1111\r\n2222\r\n", []string{"1111", "2222"}, nil},
		{"blank lines and spaces", "\r\n\r\n  3333  \r\n", []string{"3333"}, nil},
		{"no terminator yet", "4444", nil, nil},
		{"binary garbage", "\x00\xff\x13\r\n5555\r", []string{"5555"}, []error{ErrGarbage}},
		{"noise inside a code", "12\x0734\r", nil, []error{ErrGarbage}},
		{"too long", strings.Repeat("9", 65) + "\r" + "6666\n", []string{"6666"}, []error{ErrTooLong}},
		{"exactly the limit", strings.Repeat("8", 64) + "\n", []string{strings.Repeat("8", 64)}, nil},
		{"letters are text, not garbage", "AB-12\r", []string{"AB-12"}, nil},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 2, 3, 7, 1000} {
			r := feedLines(&Lines{}, tt.in, chunk)
			if fmt.Sprint(r.codes) != fmt.Sprint(tt.codes) && !(len(r.codes) == 0 && len(tt.codes) == 0) {
				t.Errorf("%s/%d: codes %q, want %q", tt.name, chunk, r.codes, tt.codes)
			}
			if len(r.rejects) != len(tt.rejects) {
				t.Errorf("%s/%d: rejects %v, want %v", tt.name, chunk, r.rejects, tt.rejects)
				continue
			}
			for i := range r.rejects {
				if !errors.Is(r.rejects[i], tt.rejects[i]) {
					t.Errorf("%s/%d: reject %v, want %v", tt.name, chunk, r.rejects[i], tt.rejects[i])
				}
				if strings.Contains(r.rejects[i].Error(), "9999") {
					t.Errorf("%s: an error carries the line: %v", tt.name, r.rejects[i])
				}
			}
		}
	}
}

func TestLinesBounded(t *testing.T) {
	l := &Lines{MaxLen: 32}
	l.Feed([]byte(strings.Repeat("7", 1<<20)), func(string) {}, func(error) {})
	if cap(l.buf) > 64 {
		t.Errorf("buffer grew to %d", cap(l.buf))
	}
}

func TestLinesIdleDropsFragment(t *testing.T) {
	l := &Lines{}
	var r lineResult
	code := func(c string) { r.codes = append(r.codes, c) }
	reject := func(err error) { r.rejects = append(r.rejects, err) }
	l.Feed([]byte("\x0012"), code, reject)
	l.Idle(reject)
	l.Feed([]byte("7777\r"), code, reject)
	l.Idle(reject) // nothing pending: no reject
	if fmt.Sprint(r.codes) != "[7777]" || len(r.rejects) != 1 || !errors.Is(r.rejects[0], ErrIncomplete) {
		t.Errorf("codes %v rejects %v", r.codes, r.rejects)
	}
}

func FuzzLines(f *testing.F) {
	f.Add([]byte("1234\r\n\x00\xff"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		var whole, cut lineResult
		l1, l2 := &Lines{MaxLen: 16}, &Lines{MaxLen: 16}
		l1.Feed(data, func(c string) { whole.codes = append(whole.codes, c) }, func(e error) { whole.rejects = append(whole.rejects, e) })
		n := int(chunk%8) + 1
		for i := 0; i < len(data); i += n {
			l2.Feed(data[i:min(i+n, len(data))], func(c string) { cut.codes = append(cut.codes, c) }, func(e error) { cut.rejects = append(cut.rejects, e) })
		}
		render := func(r lineResult) string {
			out := fmt.Sprintf("%q", r.codes)
			for _, e := range r.rejects {
				out += "|" + e.Error()
			}
			return out
		}
		if render(whole) != render(cut) {
			t.Fatalf("chunking changed the result: %v vs %v", whole, cut)
		}
		for _, c := range whole.codes {
			if len(c) > 16 || c == "" || strings.TrimSpace(c) != c {
				t.Fatalf("bad code %q", c)
			}
			for i := 0; i < len(c); i++ {
				if c[i] < 0x20 || c[i] > 0x7E {
					t.Fatalf("unprintable code %q", c)
				}
			}
		}
	})
}

// TestSerialScannerReopens reads codes through a socat pty pair, pulls the
// pair away and brings it back: codes after the comeback still arrive.
func TestSerialScannerReopens(t *testing.T) {
	pair := ptypair.Start(t, "", "scanner")
	var mu sync.Mutex
	var codes []string
	var states []serialport.State
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	s := &Serial{
		Port:     serialport.Config{Name: pair.A, Baud: 9600},
		Backoff:  serialport.Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond},
		OnCode:   func(c string) { mu.Lock(); codes = append(codes, c); mu.Unlock(); poke() },
		OnStatus: func(st serialport.Status) { mu.Lock(); states = append(states, st.State); mu.Unlock(); poke() },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		guard := time.After(10 * time.Second) // hang guard
		for {
			mu.Lock()
			ok := cond()
			mu.Unlock()
			if ok {
				return
			}
			select {
			case <-wake:
			case <-guard:
				t.Fatalf("gave up waiting for %s: codes %v states %v", what, codes, states)
			}
		}
	}
	last := func() serialport.State { return states[len(states)-1] }
	send := func(b string) {
		p, err := serialport.Open(serialport.Config{Name: pair.B})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		p.Write([]byte(b))
		p.Drain()
	}
	waitFor("open", func() bool { return len(states) > 0 && last() == serialport.StateOpen })
	send("\x00\x00\r\n134567890123456789\r\n")
	waitFor("first code", func() bool { return len(codes) == 1 })
	pair.Stop()
	waitFor("missing", func() bool { return last() == serialport.StateMissing })
	pair.Restart()
	waitFor("reopen", func() bool { return last() == serialport.StateOpen })
	send("284567890123456789\r")
	waitFor("second code", func() bool { return len(codes) == 2 })
	cancel()
	<-done
	if codes[0] != "134567890123456789" || codes[1] != "284567890123456789" {
		t.Errorf("codes = %v", codes)
	}
}
