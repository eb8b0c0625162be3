// Package logging owns ScanBox's logs: a log/slog handler that writes
// rotating files in DATA_DIR/logs and an in-memory ring (Ring) behind the
// tray's log viewer, with a follow-from-cursor reader in the style of
// WireGuard's ringlogger. Every record passes one redaction layer first:
// secrets (keys, signatures, activation codes) become "[redacted]" and
// payment codes are masked with scan.Mask. It must never write a secret or a
// whole payment code, and a broken log file must never stop a payment.
package logging

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxSize  = 5 << 20
	DefaultMaxFiles = 5
	DefaultRingSize = 2048
	// FileName is the current log file in LogDir; rotated files get .1, .2, …
	FileName = "scanbox.log"
)

// Options configures New. The zero value means the defaults.
type Options struct {
	// Level is the minimum level logged (default slog.LevelInfo). A
	// *slog.LevelVar lets the settings view change it at run time.
	Level slog.Leveler
	// Text writes key=value lines instead of JSON lines to the files.
	Text bool
	// MaxSize is the size in bytes at which the current file is rotated.
	MaxSize int64
	// MaxFiles is how many files are kept, the current one included.
	MaxFiles int
	// RingSize is how many entries the in-memory ring keeps.
	RingSize int
	// Also, if set, receives every record too (e.g. stderr for a verbose CLI).
	Also io.Writer
}

func (o Options) withDefaults() Options {
	if o.Level == nil {
		o.Level = slog.LevelInfo
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.RingSize <= 0 {
		o.RingSize = DefaultRingSize
	}
	return o
}

// LogDir is where New writes its files for data directory dir.
func LogDir(dir string) string { return filepath.Join(dir, "logs") }

// New starts logging for data directory dir. The closer closes the current
// file; records logged after Close still reach the ring.
func New(dir string, opts Options) (*slog.Logger, *Ring, io.Closer, error) {
	opts = opts.withDefaults()
	rot, err := newRotator(LogDir(dir), FileName, opts.MaxSize, opts.MaxFiles)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("logging: %w", err)
	}
	var w io.Writer = rot
	if opts.Also != nil {
		w = fanout{rot, opts.Also}
	}
	ring := NewRing(opts.RingSize)
	return slog.New(NewHandler(w, ring, opts)), ring, rot, nil
}

// fanout writes to every writer; a failing extra sink does not stop the file.
type fanout []io.Writer

func (f fanout) Write(p []byte) (int, error) {
	var first error
	for _, w := range f {
		if _, err := w.Write(p); err != nil && first == nil {
			first = err
		}
	}
	return len(p), first
}

// NewHandler returns the redacting handler that New uses, writing to w
// (JSON lines, or text with opts.Text) and to ring. Tests and the UI's
// headless tests use it with io.Discard.
func NewHandler(w io.Writer, ring *Ring, opts Options) slog.Handler {
	opts = opts.withDefaults()
	ho := &slog.HandlerOptions{Level: opts.Level, ReplaceAttr: Redact}
	var file slog.Handler
	if opts.Text {
		file = slog.NewTextHandler(w, ho)
	} else {
		file = slog.NewJSONHandler(w, ho)
	}
	rs := &ringSink{ring: ring}
	rs.h = slog.NewTextHandler(&rs.buf, &slog.HandlerOptions{
		Level: slog.LevelDebug - 100, // the outer handler filters
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			// The ring keeps time, level and message in their own fields.
			if len(groups) == 0 && (a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return Redact(groups, a)
		},
	})
	return &handler{file: file, ringH: rs.h, rs: rs, level: opts.Level}
}

type ringSink struct {
	mu   sync.Mutex // guards buf across every handler derived by With*
	buf  bytes.Buffer
	h    slog.Handler
	ring *Ring
}

type handler struct {
	file  slog.Handler
	ringH slog.Handler // rs.h with this handler's attrs and groups
	rs    *ringSink
	level slog.Leveler
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	ferr := h.file.Handle(ctx, r)

	// Format the attributes once through a TextHandler so that With, groups
	// and redaction behave exactly as in the file.
	// A zero time makes the TextHandler omit it.
	rr := slog.NewRecord(time.Time{}, r.Level, "", 0)
	r.Attrs(func(a slog.Attr) bool { rr.AddAttrs(a); return true })
	h.rs.mu.Lock()
	h.rs.buf.Reset()
	h.ringH.Handle(ctx, rr)
	attrs := strings.TrimSuffix(h.rs.buf.String(), "\n")
	h.rs.mu.Unlock()
	h.rs.ring.add(Entry{Time: r.Time, Level: r.Level, Msg: r.Message, Attrs: attrs})
	return ferr
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.file = h.file.WithAttrs(as)
	c.ringH = h.ringH.WithAttrs(as)
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	c := *h
	c.file = h.file.WithGroup(name)
	c.ringH = h.ringH.WithGroup(name)
	return &c
}

// rotator is an io.Writer over dir/name that rotates by size: name → name.1
// → … → name.(keep-1), the oldest dropped. slog handlers write one record
// per Write, so records are never split across files.
type rotator struct {
	mu     sync.Mutex
	dir    string
	name   string
	max    int64
	keep   int
	f      *os.File
	size   int64
	closed bool
}

func newRotator(dir, name string, max int64, keep int) (*rotator, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	w := &rotator{dir: dir, name: name, max: max, keep: keep}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *rotator) path(i int) string {
	if i == 0 {
		return filepath.Join(w.dir, w.name)
	}
	return filepath.Join(w.dir, fmt.Sprintf("%s.%d", w.name, i))
}

func (w *rotator) open() error {
	f, err := os.OpenFile(w.path(0), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return nil
}

func (w *rotator) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, os.ErrClosed
	}
	if w.f != nil && w.size > 0 && w.size+int64(len(p)) > w.max {
		w.rotate()
	}
	if w.f == nil {
		// An earlier rotation could not reopen the file; try again.
		if err := w.open(); err != nil {
			return 0, err
		}
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, err
}

// rotate shifts the files. The current file is closed first because
// Windows cannot rename an open file. A failed rename (a viewer holding the
// file on Windows) is not fatal: logging goes on in the current file.
func (w *rotator) rotate() {
	w.f.Close()
	w.f = nil
	os.Remove(w.path(w.keep - 1))
	for i := w.keep - 2; i >= 0; i-- {
		os.Rename(w.path(i), w.path(i+1))
	}
	w.open() // on failure w.f stays nil and Write retries
}

func (w *rotator) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.f == nil {
		return nil
	}
	return w.f.Close()
}
