package ocrpipe

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
)

// Another user on either side: the client refuses a server of another
// uid (it could feed wrong amounts), and the server hangs up on a client of
// another uid before it reads anything. ownUID stands for "this user"; the
// capture/ocr tests also run a real server as another user when root.
func TestForeignPeer(t *testing.T) {
	s, calls := echoServer(t, nil)
	s.Idle = 10 * time.Millisecond
	name, wait := serve(t, s)
	testUIDShift.Store(1)
	defer testUIDShift.Store(0)

	// The client's check.
	if c, err := Dial(context.Background(), name); !errors.Is(err, ErrForeign) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("Dial to a server of another uid: %v; want ErrForeign", err)
	}
	// The server's check: a raw client that does not check is hung up on.
	c, err := net.Dial("unix", "@"+name)
	if err != nil {
		t.Fatal(err)
	}
	ocrproto.Write(c, ocrproto.Frame{Verb: ocrproto.VerbRead, Body: []byte("secret")})
	if f, err := ocrproto.Read(bufio.NewReader(c)); err == nil {
		t.Fatalf("a client of another uid was answered %+v", f)
	}
	c.Close()
	testUIDShift.Store(0)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 0 {
		t.Fatal("a foreign client's request was read")
	}
}
