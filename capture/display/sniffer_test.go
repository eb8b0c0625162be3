package display

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture/internal/ptypair"
	"github.com/scanbox/scanbox/capture/serialport"
	"go.bug.st/serial"
)

// liveRig is a POS → ScanBox → display wiring made of two socat pty pairs:
// the test writes as the POS to pos.B, the sniffer reads pos.A and forwards
// to disp.A, and the test reads what the display gets from disp.B.
type liveRig struct {
	pos, disp *ptypair.Pair
	totals    chan Event
	hints     chan []Profile
	cancel    context.CancelFunc
	done      chan error
	posPort   serial.Port
	dispPort  serial.Port
}

func startRig(t testing.TB, profile Profile) *liveRig {
	dir := t.TempDir()
	r := &liveRig{pos: ptypair.Start(t, dir, "pos"), disp: ptypair.Start(t, dir, "disp"), totals: make(chan Event, 1024), hints: make(chan []Profile, 1), done: make(chan error, 1)}
	var err error
	// Open the display end before the sniffer forwards, as a real display
	// is powered before the POS starts.
	if r.dispPort, err = serialport.Open(serialport.Config{Name: r.disp.B, Baud: 9600}); err != nil {
		t.Fatal(err)
	}
	opened := make(chan struct{})
	var once sync.Once
	s := &Sniffer{
		Config:  Config{Port: serialport.Config{Name: r.pos.A, Baud: 9600}, Forward: r.disp.A, Profile: profile, Idle: 20 * time.Millisecond},
		OnTotal: func(e Event) { r.totals <- e },
		OnHint:  func(try []Profile, _ string) { r.hints <- try },
		OnStatus: func(st serialport.Status) {
			if st.Port == r.pos.A && st.State == serialport.StateOpen {
				once.Do(func() { close(opened) })
			}
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- s.Run(ctx) }()
	select {
	case <-opened:
	case err := <-r.done:
		t.Fatalf("sniffer stopped: %v", err)
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("sniffer never opened the port")
	}
	if r.posPort, err = serialport.Open(serialport.Config{Name: r.pos.B, Baud: 9600}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.cancel()
		<-r.done
		r.posPort.Close()
		r.dispPort.Close()
	})
	return r
}

func (r *liveRig) next(t testing.TB) Event {
	t.Helper()
	select {
	case e := <-r.totals:
		return e
	case <-time.After(10 * time.Second): // hang guard, not a speed check
		t.Fatal("no total reported")
	}
	return Event{}
}

// readFar reads n bytes from the display end.
func (r *liveRig) readFar(t testing.TB, n int) []byte {
	t.Helper()
	r.dispPort.SetReadTimeout(10 * time.Second)
	out := make([]byte, 0, n)
	buf := make([]byte, 4096)
	for len(out) < n {
		k, err := r.dispPort.Read(buf)
		if err != nil || k == 0 {
			t.Fatalf("display end: read %d of %d bytes: %v", len(out), n, err)
		}
		out = append(out, buf[:k]...)
	}
	return out
}

// TestLiveForwardAndSniff plays every golden capture through real ptys in
// small writes, with auto detection: the display end receives exactly the
// bytes the POS sent and the sniffer reports exactly the golden totals.
func TestLiveForwardAndSniff(t *testing.T) {
	for _, sc := range allScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", sc.name+".bin"))
			if err != nil {
				t.Fatal(err)
			}
			w, err := os.ReadFile(filepath.Join("testdata", sc.name+".want"))
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Fields(string(w))
			r := startRig(t, ProfileAuto)
			// Then every byte value, so that the line is proven 8-bit clean
			// (after the last total, so the totals stay as golden).
			all := append([]byte(nil), data...)
			for i := 0; i < 256; i++ {
				all = append(all, byte(i))
			}
			go func() {
				for i := 0; i < len(all); i += 13 {
					r.posPort.Write(all[i:min(i+13, len(all))])
				}
			}()
			got := r.readFar(t, len(all))
			if !bytes.Equal(got, all) {
				t.Fatalf("display end got %d bytes that differ from the %d sent", len(got), len(all))
			}
			if sc.autoTry != nil {
				// A dialect auto cannot tell apart: a hint, and no total
				// before it (none after either: TestGoldenCaptures).
				select {
				case try := <-r.hints:
					if !slices.Equal(try, sc.autoTry) {
						t.Errorf("hint %v, want %v", try, sc.autoTry)
					}
				case <-time.After(10 * time.Second): // hang guard
					t.Fatal("no hint")
				}
				if n := len(r.totals); n > 0 {
					t.Errorf("%d totals reported before the hint", n)
				}
				return
			}
			var totals []string
			for range want {
				totals = append(totals, r.next(t).Amount.String())
			}
			if strings.Join(totals, " ") != strings.Join(want, " ") {
				t.Errorf("totals %v, want %v", totals, want)
			}
		})
	}
}

// BenchmarkLiveLatency measures from the POS's write of a total to the
// sniffer's report, through two ptys (and forwarding), per total.
//
//	go test ./capture/display -run '^$' -bench LiveLatency
func BenchmarkLiveLatency(b *testing.B) {
	r := startRig(b, ProfileLED8)
	frames := [][]byte{[]byte("\x1bs2\x1bQA12.50\r"), []byte("\x1bs2\x1bQA13.50\r")}
	drain := make([]byte, 4096)
	r.dispPort.SetReadTimeout(time.Millisecond)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := r.posPort.Write(frames[i%2]); err != nil {
			b.Fatal(err)
		}
		r.next(b)
		r.dispPort.Read(drain) // keep the display pty from filling up
	}
}
