package ocrpipe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"

	"github.com/scanbox/scanbox/internal/winpipe"
)

// Endpoint is the name of the shared helper's endpoint for key: a named
// pipe of this user (a hash of the user's SID in the name, so users of one
// PC never meet on one name).
func Endpoint(key string) string {
	sid, err := winpipe.CurrentUserSID()
	if err != nil {
		sid = "unknown"
	}
	h := sha256.Sum256([]byte(sid))
	return `\\.\pipe\ScanBox-OCR-` + hex.EncodeToString(h[:6]) + "-" + key
}

// Supported says whether a shared helper can be used here. Not under Wine:
// its named pipes connect but the server's accept never completes
// (localapi's TestForwardToSilentOwnerGivesUp), so every call would wait
// for a server that cannot answer before falling back.
func Supported() error {
	if winpipe.UnderWine() {
		return fmt.Errorf("%w (named pipes do not work under Wine)", ErrUnsupported)
	}
	return nil
}

// Listen creates the pipe, readable and writable by the current user only
// (no SYSTEM, no Administrators: the helper serves its user). go-winio
// creates its first instance with FILE_FLAG_FIRST_PIPE_INSTANCE and rejects
// remote clients, so a name already taken fails (ErrInUse) instead of being
// shared with a squatter.
func Listen(name string) (net.Listener, error) {
	sid, err := winpipe.CurrentUserSID()
	if err != nil {
		return nil, fmt.Errorf("ocrpipe: %w", err)
	}
	ln, err := winio.ListenPipe(name, &winio.PipeConfig{SecurityDescriptor: "D:P(A;;GA;;;" + sid + ")",
		InputBufferSize: 64 << 10, OutputBufferSize: 64 << 10})
	if err != nil {
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) ||
			errors.Is(err, windows.ERROR_ALREADY_EXISTS) || errors.Is(err, os.ErrExist) {
			return nil, ErrInUse
		}
		return nil, fmt.Errorf("ocrpipe: %w", err)
	}
	return ln, nil
}

// Dial connects to the pipe (go-winio waits while every instance is busy,
// until ctx ends) and checks its owner: ErrNoServer when no pipe of that
// name exists, ErrForeign when it belongs to someone else.
func Dial(ctx context.Context, name string) (net.Conn, error) {
	c, err := winio.DialPipeContext(ctx, name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
			return nil, ErrNoServer
		}
		return nil, fmt.Errorf("ocrpipe: %w", err)
	}
	if err := winpipe.CheckOwner(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: %v", ErrForeign, err)
	}
	return c, nil
}

// quietStdio does nothing on Windows: a write to a pipe nobody reads fails
// there, it does not kill the process.
func quietStdio() {}

// closeInherited does nothing on Windows: Go's exec passes the child only
// the handles it names.
func closeInherited() {}
