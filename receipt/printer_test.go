package receipt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.bug.st/serial"
)

// ptyPair is a socat pseudo-terminal pair: what is written to A comes out
// of B, as through a null-modem cable to the printer. (capture's helper is
// internal to capture.)
type ptyPair struct {
	A, B string
	cmd  *exec.Cmd
}

func startPty(t *testing.T) *ptyPair {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("pty pairs need Linux; on Windows use com0com by hand")
	}
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat is not installed (apt-get install socat); serial printer tests need a pty pair")
	}
	dir := tempDir(t)
	p := &ptyPair{A: filepath.Join(dir, "printer-a"), B: filepath.Join(dir, "printer-b")}
	p.cmd = exec.Command("socat", "pty,raw,echo=0,link="+p.A, "pty,raw,echo=0,link="+p.B)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("socat: %v", err)
	}
	t.Cleanup(p.stop)
	// Setup wait, not a timing assertion.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, ea := os.Stat(p.A)
		_, eb := os.Stat(p.B)
		if ea == nil && eb == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatal("socat did not create its ptys")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *ptyPair) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
	p.cmd = nil
	os.Remove(p.A)
	os.Remove(p.B)
}

func TestSerialPrinterSendsTheExactBytes(t *testing.T) {
	pair := startPty(t)
	// The printer's side: read what arrives on B.
	rx, err := serial.Open(pair.B, &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	got := make(chan []byte, 1)
	want := append(PaymentSlip(samplePayment(), Options{Paper: Paper58}).Bytes(),
		RefundSlip(sampleRefund(), Options{Paper: Paper80}).Bytes()...)
	go func() {
		var b bytes.Buffer
		buf := make([]byte, 4096)
		_ = rx.SetReadTimeout(5 * time.Second)
		for b.Len() < len(want) {
			n, err := rx.Read(buf)
			if n == 0 || err != nil {
				break
			}
			b.Write(buf[:n])
		}
		got <- b.Bytes()
	}()
	pr := New(Target{Kind: "serial", Name: pair.A, Baud: 115200})
	ctx := context.Background()
	if err := Print(ctx, pr, PaymentSlip(samplePayment(), Options{Paper: Paper58})); err != nil {
		t.Fatal(err)
	}
	if err := Print(ctx, pr, RefundSlip(sampleRefund(), Options{Paper: Paper80})); err != nil {
		t.Fatal(err)
	}
	b := <-got
	if !bytes.Equal(b, want) {
		t.Fatalf("the printer received %d bytes, want %d (equal prefix %v)", len(b), len(want), bytes.HasPrefix(want, b))
	}
	// And what it received is the slips.
	p := parseESCPOS(t, b)
	if p.cuts != 2 || p.inits != 2 {
		t.Fatalf("cuts %d inits %d", p.cuts, p.inits)
	}
	p.find(t, "退款凭证")
	p.find(t, "1345**********5678")
}

func wantKind(t *testing.T, err error, kind error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, kind) {
		t.Fatalf("got %v, want a *Error of kind %v", err, kind)
	}
	for _, l := range []Lang{Chinese, English} {
		s := e.Sentence(l)
		if strings.Contains(s, "receipt:") || strings.Contains(s, "\n") || strings.Count(s, "。")+strings.Count(s, ". ") > 1 || s == "" {
			t.Errorf("not one clean sentence: %q", s)
		}
	}
	return e
}

func TestSerialPrinterMissingDevice(t *testing.T) {
	err := Print(context.Background(), &SerialPrinter{Port: filepath.Join(tempDir(t), "ttyUSB9")}, PaymentSlip(samplePayment(), Options{}))
	e := wantKind(t, err, ErrUnavailable)
	if !strings.Contains(e.Sentence(English), "ttyUSB9") || !strings.Contains(e.Sentence(Chinese), "ttyUSB9") {
		t.Errorf("the sentence does not name the port: %q", e.Sentence(English))
	}
}

// The cable pulled: the pty pair is gone by the time the slip is printed.
func TestSerialPrinterClosedPort(t *testing.T) {
	pair := startPty(t)
	pr := &SerialPrinter{Port: pair.A}
	pair.stop()
	wantKind(t, Print(context.Background(), pr, PaymentSlip(samplePayment(), Options{})), ErrUnavailable)
}

// The other end hangs up while the port is open: writing fails.
func TestSerialPrinterHangupWhileOpen(t *testing.T) {
	pair := startPty(t)
	port, err := serial.Open(pair.A, &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	pair.stop()
	// The same thing SerialPrinter does after opening; the hangup is seen.
	_, werr := port.Write(bytes.Repeat([]byte("x"), 100))
	if werr == nil {
		werr = port.Drain()
	}
	if werr == nil {
		t.Fatal("a write to a hung-up pty succeeded")
	}
}

// A printer that stops taking bytes (paper out, flow control held): Print
// returns at the deadline with ErrFailed instead of hanging the caller.
func TestSerialPrinterStuckReturnsAtDeadline(t *testing.T) {
	pair := startPty(t)                            // nobody reads B: the ptys' buffers fill up
	big := bytes.Repeat([]byte("receipt "), 1<<17) // 1 MiB, far more than the ptys buffer
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := (&SerialPrinter{Port: pair.A}).Print(ctx, big)
	e := wantKind(t, err, ErrFailed)
	if !errors.Is(e, context.DeadlineExceeded) {
		t.Fatalf("cause %v, want the deadline", e.Cause)
	}
	t.Logf("stuck printer reported after %v", time.Since(start))
}

func TestNoPrinterConfigured(t *testing.T) {
	tg, err := ParseTarget("")
	if err != nil {
		t.Fatal(err)
	}
	e := wantKind(t, Print(context.Background(), New(tg), ShiftSlip(sampleShift(), Options{})), ErrNoPrinter)
	if !strings.Contains(e.Sentence(Chinese), "未配置") || !strings.Contains(e.Sentence(English), "not affected") {
		t.Errorf("%q / %q", e.Sentence(Chinese), e.Sentence(English))
	}
}

func TestFilePrinterAppendsSlips(t *testing.T) {
	path := filepath.Join(tempDir(t), "slips.bin")
	pr := New(Target{Kind: "file", Name: path})
	a := PaymentSlip(samplePayment(), Options{})
	b := ShiftSlip(sampleShift(), Options{Paper: Paper58})
	for _, s := range []Slip{a, b} {
		if err := Print(context.Background(), pr, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append(a.Bytes(), b.Bytes()...)) {
		t.Fatal("the file does not hold the two slips' bytes")
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}

func TestFilePrinterUnreachable(t *testing.T) {
	pr := &FilePrinter{Path: filepath.Join(tempDir(t), "no", "such", "dir", "slips.bin")}
	wantKind(t, Print(context.Background(), pr, PaymentSlip(samplePayment(), Options{})), ErrUnavailable)
}

// failingPrinter returns a plain error, as a future printer kind might.
type failingPrinter struct{}

func (failingPrinter) Name() string                        { return "X" }
func (failingPrinter) Print(context.Context, []byte) error { return io.ErrUnexpectedEOF }

func TestPrintWrapsAnyPrinterError(t *testing.T) {
	e := wantKind(t, Print(context.Background(), failingPrinter{}, PaymentSlip(samplePayment(), Options{})), ErrFailed)
	if !errors.Is(e, io.ErrUnexpectedEOF) || e.Printer != "X" {
		t.Fatalf("%#v", e)
	}
}

func TestTargetRoundTrip(t *testing.T) {
	for _, s := range []string{"", "spool:EPSON TM-T82 Receipt", "serial:COM3@9600", "serial:/dev/ttyUSB0@115200", "file:C:\\slips\\out.bin"} {
		tg, err := ParseTarget(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if tg.String() != s {
			t.Errorf("%q came back as %q", s, tg.String())
		}
	}
	if tg, _ := ParseTarget("serial:COM4"); tg.Baud != DefaultBaud || tg.Name != "COM4" {
		t.Errorf("%+v", tg)
	}
	for _, bad := range []string{"usb:1", "serial:", "serial:COM3@fast", "serial:@9600", "spool"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if New(Target{}) != nil {
		t.Error("the empty target made a printer")
	}
}

// tempDir is t.TempDir, except that under Wine, whose unlinkat fails for Go
// ("Invalid function"), a left-over directory does not fail the test.
func tempDir(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "receipt-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
