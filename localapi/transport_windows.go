//go:build windows

package localapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"

	"github.com/scanbox/scanbox/internal/winpipe"
)

// Address is the named pipe of the instance owning dir: one per data
// directory, named after a hash of its absolute path.
func Address(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	h := sha256.Sum256([]byte(strings.ToLower(filepath.Clean(abs))))
	return `\\.\pipe\ScanBox-` + hex.EncodeToString(h[:8])
}

// listen creates the pipe with an ACL for SYSTEM, the Administrators and
// the user who started the instance, and nobody else (the model is
// WireGuard for Windows' manager pipe). go-winio creates the first instance
// with FILE_FLAG_FIRST_PIPE_INSTANCE, so another process cannot squat the
// name beforehand unnoticed: listen then fails.
func listen(dir string) (net.Listener, error) {
	sid, err := currentUserSID()
	if err != nil {
		return nil, fmt.Errorf("localapi: %w", err)
	}
	sddl := "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;" + sid + ")"
	ln, err := winio.ListenPipe(Address(dir), &winio.PipeConfig{SecurityDescriptor: sddl,
		InputBufferSize: 64 << 10, OutputBufferSize: 64 << 10})
	if err != nil {
		return nil, fmt.Errorf("localapi: %w", err)
	}
	return ln, nil
}

func currentUserSID() (string, error) { return winpipe.CurrentUserSID() }

// dial connects to the instance owning dir; ErrNoInstance when no pipe of
// that name exists.
func dial(ctx context.Context, dir string) (net.Conn, error) {
	c, err := winio.DialPipeContext(ctx, Address(dir))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
			return nil, ErrNoInstance
		}
		return nil, fmt.Errorf("localapi: %w", err)
	}
	if err := checkPipeOwner(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// ErrImpostor is a pipe of the right name owned by someone who cannot be a
// ScanBox owner instance (review item 5: the name is predictable, and a
// local user who creates it first would be sent the payment codes).
var ErrImpostor = errors.New("localapi: the program answering on ScanBox's pipe is not a ScanBox instance of this user, an administrator or the system; nothing was sent")

// checkPipeOwner accepts a pipe owned by SYSTEM, the Administrators group
// or the user running this client: the only accounts the owner's pipe ACL
// lets in, so a genuine owner is always one of them (internal/winpipe, the
// check the shared OCR helper's client makes too).
func checkPipeOwner(c net.Conn) error {
	err := winpipe.CheckOwner(c)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, winpipe.ErrOwner) && err.Error() != winpipe.ErrOwner.Error():
		// Why the owner could not be read: "… nothing was sent (…)".
		return fmt.Errorf("%w%s", ErrImpostor, strings.TrimPrefix(err.Error(), winpipe.ErrOwner.Error()))
	default:
		return ErrImpostor
	}
}

var procAllowSetForegroundWindow = windows.NewLazySystemDLL("user32.dll").NewProc("AllowSetForegroundWindow")

// allowForeground lets process pid set the foreground window (the user just
// started this process, so it may pass that right on). A failure only means
// the owner's window may flash instead of coming to the front.
func allowForeground(pid int) {
	if pid > 0 && procAllowSetForegroundWindow.Find() == nil {
		procAllowSetForegroundWindow.Call(uintptr(pid))
	}
}
