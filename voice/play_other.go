//go:build !windows

package voice

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// cmdPlayer plays through the first system player found: PulseAudio's or
// PipeWire's client (which share the desktop's sound server), else ALSA's.
type cmdPlayer struct{}

func platformPlayer() Player { return cmdPlayer{} }

// players in order of preference; each takes a WAV file name.
var players = [][]string{{"paplay"}, {"pw-play"}, {"aplay", "-q"}}

func (cmdPlayer) Play(ctx context.Context, wav []byte) error {
	var argv []string
	for _, p := range players {
		if path, err := exec.LookPath(p[0]); err == nil {
			argv = append([]string{path}, p[1:]...)
			break
		}
	}
	if argv == nil {
		return ErrNoPlayer
	}
	f, err := os.CreateTemp("", "scanbox-voice-*.wav")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(wav); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, argv[0], append(argv[1:], f.Name())...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", argv[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}
