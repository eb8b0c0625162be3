package voice

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/scanbox/scanbox/order"
)

type recordingPlayer struct {
	mu     sync.Mutex
	played [][]byte
	err    error
	gate   chan struct{} // when set, Play waits for it
	done   chan struct{}
}

func (p *recordingPlayer) Play(ctx context.Context, wav []byte) error {
	if p.gate != nil {
		select {
		case <-p.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.mu.Lock()
	p.played = append(p.played, append([]byte(nil), wav...))
	p.mu.Unlock()
	if p.done != nil {
		p.done <- struct{}{}
	}
	return p.err
}

func TestSpeakerJoinsClips(t *testing.T) {
	p := &recordingPlayer{done: make(chan struct{}, 1)}
	s := New(Options{Player: p})
	defer s.Close()
	o := order.Order{State: order.StatePaid, Channel: order.ChannelWeChat, AmountFen: 1000}
	if !s.Announce(o) {
		t.Fatal("Announce dropped the sentence")
	}
	<-p.done
	want := 0
	for _, n := range Sentence(o) {
		want += len(s.clips[n].data)
	}
	w, err := parseWAV(p.played[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(w.data) != want || w.rate != 11025 || w.channels != 1 {
		t.Errorf("joined sound: %d bytes %d Hz %d ch, want %d bytes of the clips' format", len(w.data), w.rate, w.channels, want)
	}
	if s.Err() != nil {
		t.Errorf("Err = %v", s.Err())
	}
}

func TestSpeakerVolumeScales(t *testing.T) {
	p := &recordingPlayer{done: make(chan struct{}, 1)}
	s := New(Options{Player: p})
	defer s.Close()
	s.SetVolume(50)
	s.Say([]string{ClipYuan})
	<-p.done
	got, _ := parseWAV(p.played[0])
	orig := s.clips[ClipYuan].data
	for i := 0; i+1 < len(orig); i += 2 {
		o := int32(int16(binary.LittleEndian.Uint16(orig[i:])))
		g := int32(int16(binary.LittleEndian.Uint16(got.data[i:])))
		if g != o*50/100 {
			t.Fatalf("sample %d: %d at half volume of %d", i/2, g, o)
		}
	}
}

// Say must never block the payment flow, even when the player hangs.
func TestSpeakerNeverBlocks(t *testing.T) {
	p := &recordingPlayer{gate: make(chan struct{})}
	s := New(Options{Player: p})
	accepted := 0
	for range 20 {
		if s.Say([]string{ClipYuan}) {
			accepted++
		}
	}
	// One may be taken off the queue by the player goroutine, queueLen wait.
	if accepted < queueLen || accepted > queueLen+1 {
		t.Errorf("accepted %d sentences, want %d or %d", accepted, queueLen, queueLen+1)
	}
	s.Close() // cancels the hung play
}

func TestSpeakerDisabled(t *testing.T) {
	p := &recordingPlayer{}
	s := New(Options{Player: p})
	defer s.Close()
	s.SetEnabled(false)
	if s.Say([]string{ClipYuan}) {
		t.Error("a disabled speaker accepted a sentence")
	}
}

func TestSpeakerReportsPlayerError(t *testing.T) {
	p := &recordingPlayer{err: ErrNoPlayer, done: make(chan struct{}, 1)}
	s := New(Options{Player: p})
	s.Say([]string{ClipPayFailed})
	<-p.done
	s.Close() // waits for the loop, so Err is final
	if !errors.Is(s.Err(), ErrNoPlayer) {
		t.Errorf("Err = %v, want ErrNoPlayer", s.Err())
	}
}

// Issue 11 item 12: without a sound device the warning is logged once, not
// once per announcement (each carries another sentence).
func TestSpeakerWarnsOnce(t *testing.T) {
	p := &recordingPlayer{err: ErrNoPlayer, done: make(chan struct{}, 1)}
	var buf syncBuffer
	s := New(Options{Player: p, Log: slog.New(slog.NewTextHandler(&buf, nil))})
	for _, c := range []string{ClipPayFailed, ClipPayFailed, ClipYuan} {
		s.Say([]string{c})
		<-p.done
	}
	s.Close()
	if n := strings.Count(buf.String(), "voice unavailable"); n != 1 {
		t.Errorf("%d warnings for 3 announcements without sound, want 1:\n%s", n, buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A folder of recordings replaces the clips it has; the others stay built in.
func TestSpeakerRecordedClips(t *testing.T) {
	dir := t.TempDir()
	rec := encodeWAV([]*pcm{{channels: 1, rate: 8000, bits: 16, data: make([]byte, 1600)}}, 100)
	if err := os.WriteFile(filepath.Join(dir, "wechat.wav"), rec, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "yuan.wav"), []byte("not a wav"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &recordingPlayer{done: make(chan struct{}, 4)}
	s := New(Options{Player: p, Dir: dir})
	defer s.Close()
	if s.clips["wechat"].rate != 8000 || s.clips["yuan"].rate != 11025 {
		t.Fatalf("wechat %d Hz, yuan %d Hz: want the recording and the built-in", s.clips["wechat"].rate, s.clips["yuan"].rate)
	}
	// Mixed formats: the recording plays alone, then the built-in run.
	s.Say([]string{ClipWeChat, ClipReceived, ClipYuan})
	<-p.done
	<-p.done
	a, _ := parseWAV(p.played[0])
	b, _ := parseWAV(p.played[1])
	if a.rate != 8000 || len(a.data) != 1600 || b.rate != 11025 {
		t.Errorf("runs: %d Hz/%d bytes then %d Hz", a.rate, len(a.data), b.rate)
	}
}

// The Linux player runs a system player on a temporary WAV file; a fake
// "paplay" on PATH records what it was given.
func TestCommandPlayer(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Windows player is winmm")
	}
	bin := t.TempDir()
	out := filepath.Join(t.TempDir(), "played.wav")
	script := "#!/bin/sh\nexec /bin/cp \"$1\" " + out + "\n"
	if err := os.WriteFile(filepath.Join(bin, "paplay"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	wav := encodeWAV([]*pcm{{channels: 1, rate: 8000, bits: 16, data: []byte{1, 2, 3, 4}}}, 100)
	if err := platformPlayer().Play(context.Background(), wav); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil || string(got) != string(wav) {
		t.Errorf("player got %q (%v), want the WAV", got, err)
	}
	t.Setenv("PATH", t.TempDir())
	if err := platformPlayer().Play(context.Background(), wav); !errors.Is(err, ErrNoPlayer) {
		t.Errorf("no player on PATH: err = %v, want ErrNoPlayer", err)
	}
}

func TestParseWAVRejects(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("RIFF1234WAVE"), []byte("hello world, not a wav file")} {
		if _, err := parseWAV(b); err == nil {
			t.Errorf("parseWAV(%q) accepted", b)
		}
	}
}

// Health, for the fleet's inspection report: nothing spoken yet is neither
// working nor failing; a sentence played is working; a failure wins until
// a sentence plays again.
func TestSpeakerHealth(t *testing.T) {
	p := &recordingPlayer{done: make(chan struct{}, 1)}
	s := New(Options{Player: p})
	if played, err := s.Health(); played || err != nil {
		t.Fatalf("before any sentence: %v %v", played, err)
	}
	s.Say([]string{ClipYuan})
	<-p.done
	s.Close() // waits for the loop: the outcome is recorded
	if played, err := s.Health(); !played || err != nil {
		t.Fatalf("after a sentence played: %v %v", played, err)
	}

	p2 := &recordingPlayer{err: ErrNoPlayer, done: make(chan struct{}, 1)}
	s2 := New(Options{Player: p2})
	s2.Say([]string{ClipYuan})
	<-p2.done
	s2.Close()
	if played, err := s2.Health(); played || !errors.Is(err, ErrNoPlayer) {
		t.Fatalf("after a failure: %v %v", played, err)
	}
}
