package voice

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scanbox/scanbox/assets"
	"github.com/scanbox/scanbox/order"
)

// ErrNoPlayer means this computer has no way to play sound.
var ErrNoPlayer = errors.New("voice: no sound player available")

// Player plays one WAV file to the end (or until ctx ends).
type Player interface {
	Play(ctx context.Context, wav []byte) error
}

// Options configure a Speaker; the zero value uses the embedded clips and
// the platform's player.
type Options struct {
	// Dir is a folder of recorded clips named like assets/voice ("wechat.wav");
	// a clip missing there, or unreadable, falls back to the built-in one.
	Dir    string
	Player Player
	Log    *slog.Logger
	// Volume 0–100; 0 in Options means 100 (use SetVolume(0) for silence).
	Volume int
}

// queueLen bounds the sentences waiting to be spoken: when the cashier is
// faster than the voice, old announcements are dropped, never the payment.
const queueLen = 4

// Speaker speaks sentences on its own goroutine. Every method is safe for
// concurrent use and returns at once.
type Speaker struct {
	clips   map[string]*pcm
	player  Player
	log     *slog.Logger
	queue   chan []string
	enabled atomic.Bool
	volume  atomic.Int32

	mu      sync.Mutex
	lastErr error
	lastKey string // the cause of lastErr, without the sentence
	played  bool   // a sentence has played to the end

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// New loads the clips and starts the speaker. It never fails: a clip that
// cannot be loaded is logged and left out of the sentences that need it.
func New(opts Options) *Speaker {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	player := opts.Player
	if player == nil {
		player = platformPlayer()
	}
	s := &Speaker{
		clips:  loadClips(opts.Dir, log),
		player: player,
		log:    log,
		queue:  make(chan []string, queueLen),
		done:   make(chan struct{}),
	}
	vol := opts.Volume
	if vol == 0 {
		vol = 100
	}
	s.volume.Store(int32(clampVolume(vol)))
	s.enabled.Store(true)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.loop()
	return s
}

func loadClips(dir string, log *slog.Logger) map[string]*pcm {
	builtin := assets.Voice()
	clips := make(map[string]*pcm)
	for _, name := range AllClips() {
		file := name + ".wav"
		if dir != "" {
			b, err := os.ReadFile(filepath.Join(dir, file))
			if err == nil {
				if p, perr := parseWAV(b); perr == nil {
					clips[name] = p
					continue
				} else {
					log.Warn("voice clip unreadable, using built-in", "clip", name, "dir", dir, "err", perr)
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				log.Warn("voice clip unreadable, using built-in", "clip", name, "dir", dir, "err", err)
			}
		}
		b, err := fs.ReadFile(builtin, file)
		if err != nil {
			log.Error("built-in voice clip missing", "clip", name, "err", err)
			continue
		}
		p, err := parseWAV(b)
		if err != nil {
			log.Error("built-in voice clip unreadable", "clip", name, "err", err)
			continue
		}
		clips[name] = p
	}
	return clips
}

func clampVolume(v int) int {
	return min(max(v, 0), 100)
}

// SetEnabled turns speaking on or off; sentences said while off are dropped.
func (s *Speaker) SetEnabled(on bool) { s.enabled.Store(on) }

// SetVolume sets the volume, 0–100, for sentences spoken from now on.
func (s *Speaker) SetVolume(v int) { s.volume.Store(int32(clampVolume(v))) }

// Say queues a clip sequence. It reports false when the sentence was dropped:
// voice off, speaker closed, or too many sentences already waiting.
func (s *Speaker) Say(clips []string) bool {
	if len(clips) == 0 || !s.enabled.Load() || s.ctx.Err() != nil {
		return false
	}
	select {
	case s.queue <- clips:
		return true
	default:
		s.log.Debug("voice queue full, sentence dropped", "text", Text(clips))
		return false
	}
}

// Announce says what an order's state calls for (see Sentence).
func (s *Speaker) Announce(o order.Order) bool { return s.Say(Sentence(o)) }

// Err is the last playback error, nil after a sentence played fine.
func (s *Speaker) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// Health says how the sound output is doing, for the fleet's inspection
// report: played is true once a sentence has played to the end since the
// last failure; err is the last playback error. Neither: nothing spoken yet.
func (s *Speaker) Health() (played bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.played && s.lastErr == nil, s.lastErr
}

// Close stops the speaker, cutting short the sentence being played.
func (s *Speaker) Close() {
	s.cancel()
	<-s.done
}

func (s *Speaker) loop() {
	defer close(s.done)
	for {
		select {
		case <-s.ctx.Done():
			return
		case clips := <-s.queue:
			s.speak(clips)
		}
	}
}

// speak plays one sentence. Clips of one format are joined into one sound so
// that there is no gap between them; a folder of recordings in mixed formats
// is played in runs of equal format.
func (s *Speaker) speak(names []string) {
	var runs [][]*pcm
	for _, n := range names {
		p, ok := s.clips[n]
		if !ok {
			continue
		}
		if k := len(runs); k > 0 && runs[k-1][0].sameFormat(p) {
			runs[k-1] = append(runs[k-1], p)
		} else {
			runs = append(runs, []*pcm{p})
		}
	}
	vol := int(s.volume.Load())
	for _, run := range runs {
		// Bound each play so a hung player cannot stall later announcements.
		timeout := time.Duration(duration(run))*time.Millisecond + 5*time.Second
		ctx, cancel := context.WithTimeout(s.ctx, timeout)
		err := s.player.Play(ctx, encodeWAV(run, vol))
		cancel()
		if err != nil {
			s.fail(fmt.Errorf("voice: play %q: %w", Text(names), err))
			return
		}
	}
	s.mu.Lock()
	if s.lastErr != nil {
		s.log.Info("voice playback works again")
	}
	s.lastErr = nil
	s.played = true
	s.mu.Unlock()
}

// fail logs a playback error once per change, not once per sentence: a PC
// without speakers would otherwise fill the log.
func (s *Speaker) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return // cut short by Close, not a fault
	}
	// The sentence is part of the message; the cause is what changes or
	// not (one warning for a PC without sound, not one per announcement).
	key := err.Error()
	if u := errors.Unwrap(err); u != nil {
		key = u.Error()
	}
	if s.lastErr == nil || s.lastKey != key {
		s.log.Warn("voice unavailable; payments are not affected", "err", err)
	}
	s.lastErr, s.lastKey = err, key
}
