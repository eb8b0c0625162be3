// Package localapi is how other ScanBox processes reach the instance that
// owns a data directory (the tray or `scanbox serve`): HTTP over a Unix
// socket (mode 0600, in the data directory) or, on Windows, a named pipe
// whose ACL admits SYSTEM, the Administrators and the starting user.
//
// A CLI subcommand is carried out by the owner as a whole: the client sends
// its arguments, the owner runs the very same command code against its open
// core and streams the command's stdout, stderr and exit code back, so the
// output and exit codes are those of the command run alone.
//
// A second start of the tray app hands over to the first with a show
// request: the owner brings its pay window to the front (Windows' single-
// instance convention: the Start-menu shortcut, clicked again, shows the
// running program) and the second process exits.
//
// It owns the transport and the framing only; it must never hold command or
// payment logic, and it never listens on a network address.
package localapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrNoInstance means no process serves the data directory: the caller
// opens it itself.
var ErrNoInstance = errors.New("no ScanBox instance serves this data directory")

// ErrLost means the connection to the owner broke after the command was
// sent: whatever it did is in the journal, but its outcome was not heard.
var ErrLost = errors.New("lost contact with the running ScanBox")

// ErrNoWindow: the owner has no window to show (`scanbox serve`).
var ErrNoWindow = errors.New("the running ScanBox has no window to show")

// Info describes the owning instance.
type Info struct {
	PID     int    `json:"pid"`
	Kind    string `json:"kind"` // tray or serve
	DataDir string `json:"data_dir"`
	Version string `json:"version"`
}

// Exec runs one CLI subcommand (args[0] is its name) with the owner's parts
// and returns its exit code. ctx ends when the client goes away.
type Exec func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// frame is one line of a run's answer: exactly one field is set.
type frame struct {
	Out  string `json:"out,omitempty"`
	Err  string `json:"err,omitempty"`
	Exit *int   `json:"exit,omitempty"`
}

type runRequest struct {
	Args []string `json:"args"`
}

// Server serves the local API of an owning instance.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan error

	mu   sync.Mutex
	show func() // nil: no window (serve)
}

// OnShow sets what a show request does: the tray brings its pay window to
// the front. fn is called on the request's goroutine and must only hand
// the work to the UI's thread, not wait for it. Until it is set, show
// requests answer ErrNoWindow.
func (s *Server) OnShow(fn func()) {
	s.mu.Lock()
	s.show = fn
	s.mu.Unlock()
}

func (s *Server) serveShow(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	fn := s.show
	s.mu.Unlock()
	if fn == nil {
		http.Error(w, ErrNoWindow.Error(), http.StatusConflict)
		return
	}
	fn()
	w.WriteHeader(http.StatusNoContent)
}

// Listen binds the data directory's socket or pipe. Call it only while
// holding the owner lock.
func Listen(dir string) (net.Listener, error) { return listen(dir) }

// Serve answers on ln until Shutdown. extra, if non-nil, gets the requests
// that are not the API's own (so a front-end can add endpoints).
func Serve(ln net.Listener, info Info, exec Exec, extra http.Handler) *Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/info", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(info)
	})
	mux.HandleFunc("POST /v1/run", func(w http.ResponseWriter, r *http.Request) { serveRun(w, r, exec) })
	s := &Server{ln: ln, done: make(chan error, 1),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	mux.HandleFunc("POST /v1/show", s.serveShow)
	if extra != nil {
		mux.Handle("/", extra)
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s
}

// Shutdown stops accepting and waits for the running commands until ctx
// ends; the listener (and the socket file) is removed at once.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close() // commands still running when ctx ended
	}
	<-s.done
	return err
}

func serveRun(w http.ResponseWriter, r *http.Request, exec Exec) {
	var req runRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || len(req.Args) == 0 {
		http.Error(w, "want {\"args\":[command, flags…]}", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fw := &frameWriter{w: w, enc: json.NewEncoder(w)}
	if f, ok := w.(http.Flusher); ok {
		fw.flush = f.Flush
	}
	code := exec(r.Context(), req.Args, fw.stream(false), fw.stream(true))
	fw.write(frame{Exit: &code})
	fw.mu.Lock()
	fw.done = true // a late progress line must not touch a finished response
	fw.mu.Unlock()
}

// frameWriter turns the command's writes into frames; stdout and stderr may
// be written from different goroutines (a payment's progress lines).
type frameWriter struct {
	mu    sync.Mutex
	w     io.Writer
	enc   *json.Encoder
	flush func()
	done  bool
}

func (f *frameWriter) write(fr frame) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	f.enc.Encode(fr) // a gone client shows as the request's context ending
	if f.flush != nil {
		f.flush()
	}
}

type streamWriter struct {
	f     *frameWriter
	isErr bool
}

func (f *frameWriter) stream(isErr bool) io.Writer { return streamWriter{f, isErr} }

func (s streamWriter) Write(p []byte) (int, error) {
	fr := frame{Out: string(p)}
	if s.isErr {
		fr = frame{Err: string(p)}
	}
	s.f.write(fr)
	return len(p), nil
}

// Client talks to the instance owning a data directory.
type Client struct {
	http  *http.Client
	mu    sync.Mutex
	first net.Conn // the probe connection Dial made, until the first request uses it
}

// Dial connects to the owner of dir, or returns ErrNoInstance.
func Dial(ctx context.Context, dir string) (*Client, error) {
	// Probe once, so that "nobody serves" is known before anything is sent.
	conn, err := dial(ctx, dir)
	if err != nil {
		return nil, err
	}
	cl := &Client{first: conn}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			cl.mu.Lock()
			c := cl.first
			cl.first = nil
			cl.mu.Unlock()
			if c != nil {
				return c, nil
			}
			return dial(ctx, dir)
		},
		MaxIdleConns: 1, IdleConnTimeout: 30 * time.Second, DisableCompression: true,
	}
	cl.http = &http.Client{Transport: tr}
	return cl, nil
}

// Close drops the connections.
func (c *Client) Close() {
	c.mu.Lock()
	if c.first != nil {
		c.first.Close()
		c.first = nil
	}
	c.mu.Unlock()
	c.http.CloseIdleConnections()
}

// Info asks who the owner is.
func (c *Client) Info(ctx context.Context) (Info, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://scanbox/v1/info", nil)
	if err != nil {
		return Info{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Info{}, fmt.Errorf("localapi: %w", err)
	}
	defer resp.Body.Close()
	var in Info
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		return Info{}, fmt.Errorf("localapi: %w", err)
	}
	return in, nil
}

// Show asks the owner to bring its pay window to the front: nil when it
// will, ErrNoWindow when it has none (serve). On Windows the caller, which
// was just started by the user and so may set the foreground window, first
// lets the owner take the foreground (AllowSetForegroundWindow): without
// it Windows only flashes the owner's taskbar button.
func (c *Client) Show(ctx context.Context) error {
	in, err := c.Info(ctx)
	if err != nil {
		return err
	}
	allowForeground(in.PID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://scanbox/v1/show", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("localapi: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusConflict:
		return ErrNoWindow
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("localapi: show: %s: %s", resp.Status, bytes.TrimSpace(msg))
}

// Run has the owner carry out one subcommand, copying its output to stdout
// and stderr as it comes, and returns its exit code. An error after the
// request left wraps ErrLost: the command may have acted.
func (c *Client) Run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	body, _ := json.Marshal(runRequest{Args: args})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://scanbox/v1/run", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrLost, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("%w: %s: %s", ErrLost, resp.Status, bytes.TrimSpace(msg))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var fr frame
		if err := json.Unmarshal(sc.Bytes(), &fr); err != nil {
			return 0, fmt.Errorf("%w: bad frame: %v", ErrLost, err)
		}
		switch {
		case fr.Exit != nil:
			return *fr.Exit, nil
		case fr.Err != "":
			io.WriteString(stderr, fr.Err)
		default:
			io.WriteString(stdout, fr.Out)
		}
	}
	err = sc.Err()
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return 0, fmt.Errorf("%w: %v", ErrLost, err)
}
