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

func currentUserSID() (string, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", err
	}
	return tu.User.Sid.String(), nil
}

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
	return c, nil
}
