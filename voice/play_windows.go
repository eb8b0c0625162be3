//go:build windows

package voice

import (
	"context"
	"errors"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// winmmPlayer plays through winmm's PlaySound from memory: present on every
// Windows since 95, no cgo, and it returns FALSE (instead of hanging) when
// there is no sound device.
type winmmPlayer struct{}

var (
	winmm         = windows.NewLazySystemDLL("winmm.dll")
	procPlaySound = winmm.NewProc("PlaySoundW")
)

const (
	sndSync      = 0x0000
	sndNoDefault = 0x0002
	sndMemory    = 0x0004
)

func platformPlayer() Player { return winmmPlayer{} }

func (winmmPlayer) Play(ctx context.Context, wav []byte) error {
	if err := procPlaySound.Find(); err != nil {
		return errors.Join(ErrNoPlayer, err)
	}
	done := make(chan error, 1)
	go func() {
		// SND_SYNC: returns when the sound ends; wav stays referenced
		// (and so alive) until then.
		r, _, err := procPlaySound.Call(uintptr(unsafe.Pointer(&wav[0])), 0, sndMemory|sndNoDefault|sndSync)
		if r == 0 {
			// PlaySound often leaves no last error ("Success."): say nothing then.
			if errno, ok := err.(syscall.Errno); ok && errno == 0 {
				done <- ErrNoPlayer
			} else {
				done <- errors.Join(ErrNoPlayer, err)
			}
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// PlaySound(NULL) stops the sound playing in this process.
		procPlaySound.Call(0, 0, 0)
		return ctx.Err()
	}
}
