package ocrpipe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
)

var nameSeq atomic.Int64

func testName(t *testing.T) string {
	if err := Supported(); err != nil && os.Getenv("SCANBOX_OCR_SHARE") != "1" {
		t.Skipf("no shared helper here: %v", err)
	}
	return Endpoint(fmt.Sprintf("test-%d-%d", os.Getpid(), nameSeq.Add(1)))
}

// echoServer's engine e answers "e<e>:<body>", and reports itself entered
// twice at once (each engine must be called by one goroutine only).
func echoServer(t *testing.T, block chan struct{}) (*Server, *atomic.Int64) {
	var calls atomic.Int64
	var inside [2]atomic.Int32
	eng := func(e int) Engine {
		return func(f ocrproto.Frame) (string, error) {
			calls.Add(1)
			if inside[e].Add(1) != 1 {
				t.Errorf("engine %d entered by two goroutines at once", e)
			}
			defer inside[e].Add(-1)
			if block != nil && e == 0 {
				<-block
			}
			if strings.HasPrefix(string(f.Body), "fail") {
				return "", errors.New("cannot read\nthis")
			}
			return fmt.Sprintf("e%d:%s", e, f.Body), nil
		}
	}
	return &Server{
		Version: "test 1",
		Route: func(f ocrproto.Frame) (int, error) {
			if f.Verb != ocrproto.VerbRead {
				return 0, fmt.Errorf("unknown request %q", f.Verb)
			}
			return f.Arg & 1, nil
		},
		Engines: []Engine{eng(0), eng(1)},
	}, &calls
}

// serve runs s on a fresh endpoint; wait returns Serve's error once it ends.
func serve(t *testing.T, s *Server) (name string, wait func() error) {
	t.Helper()
	name = testName(t)
	ln, err := Listen(name)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	ended := false
	var serr error
	wait = func() error {
		if !ended {
			select {
			case serr = <-done:
			case <-time.After(60 * time.Second): // a guard against a hang, not a speed check
				t.Fatal("Serve did not return")
			}
			ended = true
		}
		return serr
	}
	t.Cleanup(func() {
		if !ended {
			ln.Close()
		}
	})
	return name, wait
}

func dialReady(t *testing.T, name string) (net.Conn, *bufio.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	in := bufio.NewReader(c)
	f, err := ocrproto.Read(in)
	if err != nil || f.Verb != ocrproto.VerbReady || string(f.Body) != "test 1" {
		t.Fatalf("first frame %+v, %v; want READY test 1", f, err)
	}
	return c, in
}

// Several clients at once, each sending its requests back to back to both
// engines: every reply goes to the client that asked, in its order, and no
// engine is ever entered twice at once.
func TestServeConcurrentClientsInOrder(t *testing.T) {
	s, _ := echoServer(t, nil)
	s.Idle = 20 * time.Millisecond
	name, wait := serve(t, s)
	const clients, each = 8, 25
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, in := dialReady(t, name)
			defer c.Close()
			go func() {
				for j := range each {
					ocrproto.Write(c, ocrproto.Frame{Verb: ocrproto.VerbRead, Arg: (i + j) & 1, Body: fmt.Appendf(nil, "c%d-r%d", i, j)})
				}
			}()
			for j := range each {
				f, err := ocrproto.Read(in)
				want := fmt.Sprintf("e%d:c%d-r%d", (i+j)&1, i, j)
				if err != nil || f.Verb != ocrproto.VerbOK || string(f.Body) != want {
					t.Errorf("client %d reply %d = %+v %q, %v; want %q", i, j, f.Verb, f.Body, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// A bad request is answered ERR in its place; an engine's error is one line.
func TestServeErrorsInPlace(t *testing.T) {
	s, _ := echoServer(t, nil)
	s.Idle = 20 * time.Millisecond
	name, wait := serve(t, s)
	c, in := dialReady(t, name)
	for _, f := range []ocrproto.Frame{
		{Verb: ocrproto.VerbRead, Body: []byte("a")},
		{Verb: "WHAT", Body: []byte("b")},
		{Verb: ocrproto.VerbRead, Arg: 1, Body: []byte("fail")},
		{Verb: ocrproto.VerbRead, Arg: 1, Body: []byte("c")},
	} {
		ocrproto.Write(c, f)
	}
	for _, want := range []string{"OK e0:a", `ERR unknown request "WHAT"`, "ERR cannot read", "OK e1:c"} {
		f, err := ocrproto.Read(in)
		if got := f.Verb + " " + string(f.Body); err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	// A malformed frame: the replies owed, an ERR, and the connection closes.
	ocrproto.Write(c, ocrproto.Frame{Verb: ocrproto.VerbRead, Body: []byte("d")})
	c.Write([]byte("READ x y\n"))
	if f, err := ocrproto.Read(in); err != nil || string(f.Body) != "e0:d" {
		t.Fatalf("owed reply %+v, %v", f, err)
	}
	if f, err := ocrproto.Read(in); err != nil || f.Verb != ocrproto.VerbErr {
		t.Fatalf("after a malformed frame: %+v, %v; want ERR", f, err)
	}
	if _, err := ocrproto.Read(in); !errors.Is(err, io.EOF) {
		t.Fatalf("after the ERR: %v; want the connection closed", err)
	}
	c.Close()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// With no client for Idle, Serve returns; a connected client keeps it
// until it leaves.
func TestServeIdle(t *testing.T) {
	s, _ := echoServer(t, nil)
	s.Idle = 10 * time.Millisecond
	_, wait := serve(t, s)
	if err := wait(); err != nil {
		t.Fatal(err)
	}

	s, _ = echoServer(t, nil)
	s.Idle = 10 * time.Millisecond
	name, wait := serve(t, s)
	c, in := dialReady(t, name)
	time.Sleep(100 * time.Millisecond) // ten idle periods, connected
	ocrproto.Write(c, ocrproto.Frame{Verb: ocrproto.VerbRead, Body: []byte("still there")})
	if f, err := ocrproto.Read(in); err != nil || string(f.Body) != "e0:still there" {
		t.Fatalf("%+v, %v: the server left its client", f, err)
	}
	c.Close()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(context.Background(), name); !errors.Is(err, ErrNoServer) {
		t.Fatalf("Dial after the idle exit: %v; want ErrNoServer", err)
	}
}

// After MaxReads the server takes no new client, finishes with the ones it
// has, and returns.
func TestServeRetires(t *testing.T) {
	s, _ := echoServer(t, nil)
	s.MaxReads = 3
	name, wait := serve(t, s)
	c, in := dialReady(t, name)
	for i := range 4 {
		ocrproto.Write(c, ocrproto.Frame{Verb: ocrproto.VerbRead, Body: fmt.Appendf(nil, "%d", i)})
	}
	for i := range 4 {
		if f, err := ocrproto.Read(in); err != nil || string(f.Body) != fmt.Sprintf("e0:%d", i) {
			t.Fatalf("reply %d: %+v, %v; the client being served must be served to the end", i, f, err)
		}
	}
	// The listener is closed: a new client finds no server (or, if it came
	// before the close, is hung up on without READY).
	if c2, err := Dial(context.Background(), name); err == nil {
		if f, err := ocrproto.Read(bufio.NewReader(c2)); err == nil {
			t.Fatalf("a retired server answered a new client: %+v", f)
		}
		c2.Close()
	} else if !errors.Is(err, ErrNoServer) {
		t.Fatal(err)
	}
	c.Close()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// A client that hangs up is owed nothing: the passes it sent ahead and no
// engine has started are not read (a one-shot call does not wait for its
// third reading).
func TestServeSkipsPassesOfGoneClient(t *testing.T) {
	block := make(chan struct{})
	s, calls := echoServer(t, block)
	s.Idle = 10 * time.Millisecond
	gone := make(chan struct{}, 1)
	testHookGone = func() { gone <- struct{}{} }
	defer func() { testHookGone = func() {} }()
	name, wait := serve(t, s)
	c, _ := dialReady(t, name)
	for i := range 3 {
		ocrproto.Write(c, ocrproto.Frame{Verb: ocrproto.VerbRead, Body: fmt.Appendf(nil, "%d", i)})
	}
	c.Close()
	<-gone
	close(block) // the first pass, started before the client left, ends
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n > 1 {
		t.Fatalf("%d passes read for a client that had gone; want only the one under way", n)
	}
}

func TestListenInUseAndDialNoServer(t *testing.T) {
	name := testName(t)
	if _, err := Dial(context.Background(), name); !errors.Is(err, ErrNoServer) {
		t.Fatalf("Dial with no server: %v; want ErrNoServer", err)
	}
	ln, err := Listen(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ln2, err := Listen(name); !errors.Is(err, ErrInUse) {
		if ln2 != nil {
			ln2.Close()
		}
		t.Fatalf("second Listen: %v; want ErrInUse", err)
	}
}

// ServeMain's handshake: READY with the version when it serves, BUSY when
// another server holds the name, ERR when its engines cannot load.
func TestServeMainHandshake(t *testing.T) {
	name := testName(t)
	ln, err := Listen(name)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if code := ServeMain(name, time.Millisecond, &out, func() (*Server, error) { t.Fatal("loaded while busy"); return nil, nil }); code != 0 || !strings.HasPrefix(out.String(), VerbBusy+" ") {
		t.Fatalf("busy: exit %d, told %q", code, out.String())
	}
	ln.Close()

	out.Reset()
	code := ServeMain(testName(t), time.Millisecond, &out, func() (*Server, error) {
		return nil, errors.New("the Tesseract English data is missing: /x/eng.traineddata")
	})
	f, err := ocrproto.Read(bufio.NewReader(strings.NewReader(out.String())))
	if code != 1 || err != nil || f.Verb != ocrproto.VerbErr || string(f.Body) != "the Tesseract English data is missing: /x/eng.traineddata" {
		t.Fatalf("load failure: exit %d, told %q", code, out.String())
	}
}

// A pass that outlives PassLimit (Tesseract stuck in cgo, which nothing
// can interrupt) calls Hung, which in the helper ends the process, so its
// clients see the connection close and read elsewhere; a pass that ends in
// time does not.
func TestServePassLimitCallsHung(t *testing.T) {
	block := make(chan struct{})
	s, _ := echoServer(t, block)
	hung := make(chan struct{})
	var once sync.Once
	s.PassLimit = 50 * time.Millisecond
	s.Hung = func() { once.Do(func() { close(hung) }) }
	name, _ := serve(t, s)
	c, in := dialReady(t, name)
	defer c.Close()
	// Engine 1 does not block: answered, no Hung.
	ocrproto.Write(c, ocrproto.Frame{Verb: ocrproto.VerbRead, Arg: 1, Body: []byte("quick")})
	if f, err := ocrproto.Read(in); err != nil || string(f.Body) != "e1:quick" {
		t.Fatalf("quick pass: %+v, %v", f, err)
	}
	select {
	case <-hung:
		t.Fatal("Hung called for a pass that ended")
	default:
	}
	// Engine 0 blocks until released: Hung is called.
	ocrproto.Write(c, ocrproto.Frame{Verb: ocrproto.VerbRead, Arg: 0, Body: []byte("stuck")})
	select {
	case <-hung:
	case <-time.After(60 * time.Second): // a guard against a hang, not a speed check
		t.Fatal("a stuck pass never called Hung")
	}
	close(block)
}
