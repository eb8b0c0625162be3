// Package ocrpipe is the shared OCR helper's transport: one scanbox-ocr
// process that outlives the `scanbox amount --source ocr` call that started
// it, listening on a local endpoint of the user who started it, so that later
// one-shot calls connect to it instead of loading Tesseract's models again.
//
// Each connection speaks exactly the helper's stdin/stdout protocol
// (ocrproto): READY (or ERR) first, then one OK or ERR per READ, in the order
// of the READs. The server keeps one worker per engine (English, Chinese),
// shared by all its clients: requests from several clients queue per engine,
// and every connection gets its replies in its own order.
//
// Endpoints, and who may use them:
//
//   - Linux: an abstract Unix socket (no file is written), named after the
//     user's uid and a key. Anyone can connect to or create an abstract
//     name, so both sides check the peer with SO_PEERCRED: the server
//     serves only its own uid, and a client uses only a server of its own
//     uid (a squatter could otherwise feed it a wrong amount).
//   - Windows: a named pipe whose DACL admits the current user only, created
//     with FILE_FLAG_FIRST_PIPE_INSTANCE (go-winio) so that a name already
//     taken fails; remote clients are rejected; the client checks the pipe's
//     owner (internal/winpipe, the local API's check).
//   - elsewhere: not supported; callers use a private helper.
//
// The key (chosen by the client, capture/ocr) names the helper build and its
// settings, so a server from another build is never used.
//
// The package is pure Go: the main program links it for Dial, the helper
// for Listen and Serve.
package ocrpipe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
)

// Errors of Dial and Listen.
var (
	// ErrNoServer: no server listens on the endpoint; the caller may start one.
	ErrNoServer = errors.New("no shared OCR helper is running")
	// ErrForeign: the endpoint is held by a process of another user.
	ErrForeign = errors.New("the shared OCR helper's endpoint is held by another user's process")
	// ErrInUse: Listen found the endpoint taken (another server won the race).
	ErrInUse = errors.New("the shared OCR helper's endpoint is in use")
	// ErrUnsupported: no shared helper on this system.
	ErrUnsupported = errors.New("a shared OCR helper is not supported here")
)

// VerbBusy is the handshake a server started with ServeMain writes instead
// of READY when another server already holds its endpoint: it exits, and
// its starter connects to that one.
const VerbBusy = "BUSY"

// DefaultIdle is how long a server stays without a client.
const DefaultIdle = time.Minute

// Engine reads one READ frame that Route accepted and returns its text. An
// Engine is called from one goroutine only, so it may keep state.
type Engine func(f ocrproto.Frame) (string, error)

// Server serves several connections with shared engines.
type Server struct {
	// Version is the body of the READY frame each connection gets first.
	Version string
	// Route checks a frame and returns the index of the engine that reads
	// it; an error is sent back as that request's ERR.
	Route   func(f ocrproto.Frame) (engine int, err error)
	Engines []Engine
	// Idle: the server stops after this long without a client. 0 means
	// DefaultIdle. A connection that sends nothing for Idle (at least
	// DefaultIdle) is closed: a client hung for good does not keep the
	// server for ever.
	Idle time.Duration
	// MaxReads: after this many READs the server takes no new client and
	// stops when the last one leaves (gosseract leaks a little per read).
	// 0 means no limit.
	MaxReads int64
	// MaxConns bounds the clients served at once; others are closed at
	// once (they fall back to a private helper). 0 means 32.
	MaxConns int
	// PassLimit bounds one engine pass. A pass inside Tesseract (cgo)
	// cannot be interrupted, so a pass still running after PassLimit
	// calls Hung, which must end the process: its clients then see the
	// connection close and read elsewhere, and the endpoint is free for a
	// fresh server. 0 means DefaultPassLimit.
	PassLimit time.Duration
	// Hung is called (from a timer goroutine) when a pass outlives
	// PassLimit. nil means os.Exit(3).
	Hung func()
}

// DefaultPassLimit is twice the client's read timeout (capture/ocr
// DefaultTimeout, 15 s): a pass that long is stuck, not slow.
const DefaultPassLimit = 30 * time.Second

type result struct {
	text string
	err  error
}

type job struct {
	f    ocrproto.Frame
	rc   chan result
	gone *atomic.Bool
}

// Serve accepts connections on ln until the server has been idle for Idle
// (or retired after MaxReads), then closes ln and returns once every client
// it took is done and every engine is idle.
func (s *Server) Serve(ln net.Listener) error {
	idle := s.Idle
	if idle <= 0 {
		idle = DefaultIdle
	}
	maxConns := s.MaxConns
	if maxConns <= 0 {
		maxConns = 32
	}
	passLimit := s.PassLimit
	if passLimit <= 0 {
		passLimit = DefaultPassLimit
	}
	hung := s.Hung
	if hung == nil {
		hung = func() { os.Exit(3) }
	}
	queues := make([]chan job, len(s.Engines))
	var workers sync.WaitGroup
	for i, eng := range s.Engines {
		q := make(chan job, 8)
		queues[i] = q
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range q {
				if j.gone.Load() {
					// Its client has left (a one-shot call does not wait
					// for the reading it sent ahead): no pass for nobody.
					j.rc <- result{}
					continue
				}
				watchdog := time.AfterFunc(passLimit, hung)
				t, err := eng(j.f)
				watchdog.Stop()
				j.rc <- result{t, err}
			}
		}()
	}

	stopAccept := make(chan struct{})
	conns := make(chan net.Conn)
	acceptErr := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			select {
			case conns <- c:
			case <-stopAccept:
				c.Close()
				return
			}
		}
	}()

	var reads atomic.Int64
	var closed atomic.Bool // ln closed on purpose
	retire := make(chan struct{}, 1)
	ended := make(chan struct{})
	active := 0
	closing := false
	var lnErr error
	timer := time.NewTimer(idle)
	defer timer.Stop()
	stop := func() {
		if !closing {
			closing = true
			closed.Store(true)
			ln.Close()
			close(stopAccept)
		}
	}
loop:
	for {
		select {
		case c := <-conns:
			if closing || active >= maxConns {
				c.Close()
				continue
			}
			active++
			timer.Stop()
			go func() {
				s.session(c, queues, max(idle, DefaultIdle), &reads, func() {
					// The last READ: no new client from now on (closed at
					// once, before this read is answered), then the main loop
					// waits for the clients it has.
					closed.Store(true)
					ln.Close()
					retire <- struct{}{}
				})
				ended <- struct{}{}
			}()
		case <-ended:
			active--
			if active == 0 {
				if closing {
					break loop
				}
				timer.Reset(idle)
			}
		case <-timer.C:
			if active == 0 {
				stop()
				break loop
			}
		case <-retire:
			stop()
			if active == 0 {
				break loop
			}
		case err := <-acceptErr:
			if !closed.Load() {
				lnErr = err
			}
			stop()
			if active == 0 {
				break loop
			}
		}
	}
	for _, q := range queues {
		close(q)
	}
	workers.Wait()
	return lnErr
}

// session serves one connection: READY, then each READ in turn, its reply
// sent when its engine has read it and every earlier reply has gone out.
func (s *Server) session(c net.Conn, queues []chan job, silence time.Duration, reads *atomic.Int64, retire func()) {
	defer c.Close()
	w := bufio.NewWriter(c)
	send := func(verb string, body []byte) bool {
		c.SetWriteDeadline(time.Now().Add(silence))
		return ocrproto.Write(w, ocrproto.Frame{Verb: verb, Body: body}) == nil && w.Flush() == nil
	}
	if !send(ocrproto.VerbReady, []byte(s.Version)) {
		return
	}
	var gone atomic.Bool
	order := make(chan chan result, 16)
	written := make(chan struct{})
	go func() {
		defer close(written)
		for rc := range order {
			r := <-rc
			if gone.Load() {
				continue
			}
			ok := true
			if r.err != nil {
				ok = send(ocrproto.VerbErr, []byte(oneLine(r.err.Error())))
			} else {
				ok = send(ocrproto.VerbOK, []byte(r.text))
			}
			if !ok {
				gone.Store(true)
			}
		}
	}()
	in := bufio.NewReader(c)
	for !gone.Load() {
		c.SetReadDeadline(time.Now().Add(silence))
		f, err := ocrproto.Read(in)
		if err != nil {
			if errors.Is(err, ocrproto.ErrFrame) {
				// Out of step: say so after the replies owed, then hang up
				// (the client starts afresh), as the stdin helper does.
				rc := make(chan result, 1)
				rc <- result{err: err}
				order <- rc
			} else {
				// The client hung up (or went silent for Idle): it wants no
				// answer still owed.
				gone.Store(true)
				testHookGone()
			}
			break
		}
		rc := make(chan result, 1)
		order <- rc
		if n := reads.Add(1); s.MaxReads > 0 && n == s.MaxReads {
			retire()
		}
		e, err := s.Route(f)
		if err == nil && (e < 0 || e >= len(queues)) {
			err = fmt.Errorf("no engine %d", e)
		}
		if err != nil {
			rc <- result{err: err}
			continue
		}
		queues[e] <- job{f: f, rc: rc, gone: &gone}
	}
	close(order)
	<-written
}

// ServeMain is a shared helper's life, for `scanbox-ocr --serve NAME`: it
// takes the endpoint, loads the engines, tells its starter on stdout (one
// ocrproto frame: READY with the version, BUSY when another server holds the
// endpoint, or ERR and why), stops writing to stdout (its starter is gone
// soon after), and serves until idle. It returns the exit code.
func ServeMain(name string, idle time.Duration, stdout io.Writer, load func() (*Server, error)) int {
	out := bufio.NewWriter(stdout)
	tell := func(verb, body string) {
		ocrproto.Write(out, ocrproto.Frame{Verb: verb, Body: []byte(body)})
		out.Flush()
	}
	closeInherited()
	ln, err := Listen(name)
	if errors.Is(err, ErrInUse) {
		tell(VerbBusy, "")
		return 0
	}
	if err != nil {
		tell(ocrproto.VerbErr, oneLine(err.Error()))
		return 1
	}
	defer ln.Close()
	srv, err := load()
	if err != nil {
		tell(ocrproto.VerbErr, oneLine(err.Error()))
		return 1
	}
	if idle > 0 {
		srv.Idle = idle
	}
	tell(ocrproto.VerbReady, srv.Version)
	// Nobody reads our stdout any more: a late write (Tesseract prints
	// warnings) must neither block nor kill us (SIGPIPE).
	quietStdio()
	if err := srv.Serve(ln); err != nil {
		return 1
	}
	return 0
}

func oneLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			return s[:i]
		}
	}
	return s
}

// testHookGone is called when a session sees its client hang up.
var testHookGone = func() {}
