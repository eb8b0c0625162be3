package receipt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.bug.st/serial"
)

// Printer sends a slip's bytes to a receipt printer. Print returns nil or
// an *Error; it returns by the context's deadline even when the device
// hangs.
type Printer interface {
	Print(ctx context.Context, data []byte) error
	// Name is how the cashier knows the printer: "EPSON TM-T82", "COM3".
	Name() string
}

// Sentinels behind every *Error, for errors.Is.
var (
	// ErrNoPrinter: receipts are on but no printer is set.
	ErrNoPrinter = errors.New("no receipt printer is set")
	// ErrUnavailable: the printer (queue, port, file) cannot be reached.
	ErrUnavailable = errors.New("the receipt printer cannot be reached")
	// ErrFailed: the printer was reached but did not take the whole slip,
	// or did not within the time allowed.
	ErrFailed = errors.New("the receipt printer did not print")
	// ErrNotSupported: this kind of printer does not exist on this OS.
	ErrNotSupported = errors.New("this kind of receipt printer is not available on this computer")
)

// Error is the one error a print returns: which printer, which of the
// sentinels (Kind), and the cause for the log. Sentence is what the cashier
// reads.
type Error struct {
	Printer string
	Kind    error // ErrNoPrinter, ErrUnavailable, ErrFailed or ErrNotSupported
	Cause   error // may be nil
}

func (e *Error) Error() string {
	s := "receipt: " + e.Kind.Error()
	if e.Printer != "" {
		s += " (" + e.Printer + ")"
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap gives both the Kind and the Cause to errors.Is/As.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

// Sentence is the one sentence the cashier sees, without Go's chain; it
// says that payments are not affected, because they are not.
func (e *Error) Sentence(l Lang) string {
	name := e.Printer
	if l == English {
		if name != "" {
			name = " " + strconv.Quote(name)
		}
		switch e.Kind {
		case ErrNoPrinter:
			return "No receipt printer is set up in Settings, so nothing was printed; payments are not affected."
		case ErrUnavailable:
			return "The receipt printer" + name + " cannot be reached (is it on and connected?), so nothing was printed; payments are not affected."
		case ErrNotSupported:
			return "This kind of receipt printer is not available on this computer, so nothing was printed; payments are not affected."
		default:
			return "The receipt printer" + name + " did not print the slip (paper, cover or cable?); payments are not affected."
		}
	}
	if name != "" {
		name = "“" + name + "”"
	}
	switch e.Kind {
	case ErrNoPrinter:
		return "设置中未配置小票打印机，未打印；收款不受影响。"
	case ErrUnavailable:
		return "无法连接小票打印机" + name + "（请检查电源和连线），未打印；收款不受影响。"
	case ErrNotSupported:
		return "本机不支持此类小票打印机，未打印；收款不受影响。"
	default:
		return "小票打印机" + name + "未能打印（请检查纸张、机盖和连线）；收款不受影响。"
	}
}

// DefaultTimeout bounds a print whose context has no deadline.
const DefaultTimeout = 10 * time.Second

// Print sends the slip to p. A nil p is ErrNoPrinter. It returns nil or an
// *Error and never panics on a printer's account; callers may ignore the
// error after showing its Sentence.
func Print(ctx context.Context, p Printer, s Slip) error {
	if p == nil {
		return &Error{Kind: ErrNoPrinter}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	err := p.Print(ctx, s.Bytes())
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Printer: p.Name(), Kind: ErrFailed, Cause: err}
}

// Target names a printer in Settings: "" (none), "spool:NAME" (Windows
// printer queue, or a CUPS queue through lp elsewhere), "serial:PORT" or
// "serial:PORT@BAUD" (default 9600), "file:PATH".
type Target struct {
	Kind string // "", "spool", "serial" or "file"
	Name string // queue name, port name or path
	Baud int    // serial only
}

// DefaultBaud is the usual factory setting of serial receipt printers.
const DefaultBaud = 9600

// ParseTarget reads what Target.String writes.
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return Target{}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return Target{}, fmt.Errorf("receipt: printer %q is not spool:NAME, serial:PORT[@BAUD] or file:PATH", s)
	}
	switch kind {
	case "spool", "file":
		return Target{Kind: kind, Name: name}, nil
	case "serial":
		t := Target{Kind: kind, Name: name, Baud: DefaultBaud}
		if i := strings.LastIndexByte(name, '@'); i >= 0 {
			b, err := strconv.Atoi(name[i+1:])
			if err != nil || b <= 0 || i == 0 {
				return Target{}, fmt.Errorf("receipt: printer %q: the speed after @ must be a number like 9600", s)
			}
			t.Name, t.Baud = name[:i], b
		}
		return t, nil
	}
	return Target{}, fmt.Errorf("receipt: printer %q: unknown kind %q (use spool, serial or file)", s, kind)
}

func (t Target) String() string {
	switch t.Kind {
	case "":
		return ""
	case "serial":
		b := t.Baud
		if b == 0 {
			b = DefaultBaud
		}
		return "serial:" + t.Name + "@" + strconv.Itoa(b)
	}
	return t.Kind + ":" + t.Name
}

// New makes the printer a target names; nil for the empty target (Print
// then says no printer is set).
func New(t Target) Printer {
	switch t.Kind {
	case "spool":
		return &SpoolPrinter{Queue: t.Name}
	case "serial":
		return &SerialPrinter{Port: t.Name, Baud: t.Baud}
	case "file":
		return &FilePrinter{Path: t.Name}
	}
	return nil
}

// FilePrinter appends each slip's bytes to a file: for tests, the demo, and
// a printer shared as a device file.
type FilePrinter struct{ Path string }

func (f *FilePrinter) Name() string { return f.Path }

func (f *FilePrinter) Print(ctx context.Context, data []byte) error {
	return withContext(ctx, f.Path, func() error {
		fh, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return &Error{Printer: f.Path, Kind: ErrUnavailable, Cause: err}
		}
		_, werr := fh.Write(data)
		cerr := fh.Close()
		if werr == nil {
			werr = cerr
		}
		if werr != nil {
			return &Error{Printer: f.Path, Kind: ErrFailed, Cause: werr}
		}
		return nil
	}, nil)
}

// SerialPrinter writes to a receipt printer on a serial port (8N1).
type SerialPrinter struct {
	Port string
	Baud int // 0 means DefaultBaud
}

func (s *SerialPrinter) Name() string { return s.Port }

func (s *SerialPrinter) Print(ctx context.Context, data []byte) error {
	baud := s.Baud
	if baud == 0 {
		baud = DefaultBaud
	}
	if err := ctx.Err(); err != nil {
		return &Error{Printer: s.Port, Kind: ErrFailed, Cause: err}
	}
	port, err := serial.Open(s.Port, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return &Error{Printer: s.Port, Kind: ErrUnavailable, Cause: err}
	}
	// On the deadline Print returns at once and the port is closed: on
	// Windows that cancels a pending write; on Linux a write already stuck
	// in the kernel ends when the device goes away, and closing still frees
	// the port (TIOCEXCL) for the next slip. Writing in chunks, and never
	// after the abort, keeps a late write off a reused descriptor.
	var aborted atomic.Bool
	return withContext(ctx, s.Port, func() error {
		for len(data) > 0 {
			if aborted.Load() {
				return &Error{Printer: s.Port, Kind: ErrFailed, Cause: context.Canceled}
			}
			n, err := port.Write(data[:min(len(data), 1024)])
			if err != nil {
				return &Error{Printer: s.Port, Kind: ErrFailed, Cause: err}
			}
			if n == 0 {
				return &Error{Printer: s.Port, Kind: ErrFailed, Cause: errors.New("the port took no byte")}
			}
			data = data[n:]
		}
		if err := port.Drain(); err != nil {
			return &Error{Printer: s.Port, Kind: ErrFailed, Cause: err}
		}
		return nil
	}, func() { aborted.Store(true); port.Close() })
}

// withContext runs work and returns its error, or an ErrFailed *Error when
// ctx ends first; abort (if any) is then called to unblock work, and always
// once work is over.
func withContext(ctx context.Context, name string, work func() error, abort func()) error {
	done := make(chan error, 1)
	go func() { done <- work() }()
	select {
	case err := <-done:
		if abort != nil {
			abort()
		}
		return err
	case <-ctx.Done():
		if abort != nil {
			abort()
		}
		return &Error{Printer: name, Kind: ErrFailed, Cause: ctx.Err()}
	}
}
