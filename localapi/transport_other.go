//go:build !windows

package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// SocketName is the Unix socket in the data directory.
const SocketName = "scanbox.sock"

// Address is where the instance owning dir listens.
func Address(dir string) string { return filepath.Join(dir, SocketName) }

// listen makes the socket readable and writable by the owner only. It is
// bound inside a fresh 0700 directory, set to 0600 and only then renamed
// into place, so that no other user can connect in between. The caller holds
// the data directory's owner lock, so a socket already there is stale (left
// by a crash) and is replaced.
func listen(dir string) (net.Listener, error) {
	final := Address(dir)
	if len(final) >= 104 { // sun_path: 108 bytes on Linux, 104 on the BSDs
		return nil, fmt.Errorf("localapi: the data directory path is too long for a socket (%d bytes): %s", len(final), final)
	}
	tmp, err := os.MkdirTemp(dir, ".sock-")
	if err != nil {
		return nil, fmt.Errorf("localapi: %w", err)
	}
	defer os.RemoveAll(tmp)
	p := filepath.Join(tmp, SocketName)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("localapi: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(p, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("localapi: %w", err)
	}
	if err := os.Rename(p, final); err != nil {
		ln.Close()
		return nil, fmt.Errorf("localapi: %w", err)
	}
	return &unlinkListener{Listener: ln, path: final}, nil
}

// unlinkListener removes the socket when closed.
type unlinkListener struct {
	net.Listener
	path string
}

func (l *unlinkListener) Close() error {
	err := l.Listener.Close()
	os.Remove(l.path)
	return err
}

// dial connects to the instance owning dir; ErrNoInstance when none listens
// (no socket, or a stale one).
func dial(ctx context.Context, dir string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", Address(dir))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, ErrNoInstance
		}
		return nil, fmt.Errorf("localapi: %w", err)
	}
	return c, nil
}

// allowForeground is Windows-only: elsewhere any process may raise a window.
func allowForeground(int) {}
