package ocrpipe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Endpoint is the name of the shared helper's endpoint for key: an
// abstract Unix socket of this uid.
func Endpoint(key string) string {
	return "scanbox-ocr-" + strconv.Itoa(os.Getuid()) + "-" + key
}

// Supported says whether a shared helper can be used here.
func Supported() error { return nil }

// ownUID is the uid a peer must have. testUIDShift lets the tests play
// another user without being root.
func ownUID() uint32 { return uint32(os.Getuid()) + testUIDShift.Load() }

var testUIDShift atomic.Uint32

func abstract(name string) *net.UnixAddr { return &net.UnixAddr{Name: "@" + name, Net: "unix"} }

// Listen takes the endpoint: an abstract socket, so no file is written and
// nothing is left behind when the process dies. ErrInUse when another
// process holds it. The listener serves only connections of this uid.
func Listen(name string) (net.Listener, error) {
	ln, err := net.ListenUnix("unix", abstract(name))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, ErrInUse
		}
		return nil, fmt.Errorf("ocrpipe: %w", err)
	}
	return &peerListener{ln}, nil
}

// peerListener drops connections from other users before anyone reads them.
type peerListener struct{ *net.UnixListener }

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			return nil, err
		}
		if err := checkPeer(c); err != nil {
			c.Close()
			continue
		}
		return c, nil
	}
}

// Dial connects to the server on the endpoint and checks that it runs as
// this user: ErrNoServer when nobody listens, ErrForeign when another user
// does.
func Dial(ctx context.Context, name string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", abstract(name).String())
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, ErrNoServer
		}
		return nil, fmt.Errorf("ocrpipe: %w", err)
	}
	if err := checkPeer(c.(*net.UnixConn)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// checkPeer reads the peer's credentials as the kernel recorded them at
// connect (or listen) time: they cannot be forged.
func checkPeer(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("ocrpipe: %w", err)
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return fmt.Errorf("ocrpipe: %w", err)
	}
	if cerr != nil {
		return fmt.Errorf("ocrpipe: the peer's credentials: %w", cerr)
	}
	if cred.Uid != ownUID() {
		return fmt.Errorf("%w (uid %d)", ErrForeign, cred.Uid)
	}
	return nil
}

// closeInherited closes the descriptors above stderr that this process
// inherited: Go's exec passes on whatever its caller's caller left open
// without close-on-exec (a shell's or a test harness's pipe), and a helper
// that outlives its caller must not keep those open for a minute (a
// `$(scanbox amount …)` or a harness would wait for them). Go opens its own
// descriptors close-on-exec, so those without the flag are the inherited
// ones.
func closeInherited() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			unix.Close(fd)
		}
	}
}

// quietStdio points stdout and stderr at the null device.
func quietStdio() {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer f.Close()
	unix.Dup3(int(f.Fd()), 1, 0)
	unix.Dup3(int(f.Fd()), 2, 0)
}
