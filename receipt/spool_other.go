//go:build !windows

package receipt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// SpoolPrinter prints to a CUPS queue through `lp -o raw`, the Linux and
// macOS counterpart of the Windows spooler's RAW documents. Without lp it
// returns ErrNotSupported.
type SpoolPrinter struct{ Queue string }

func (s *SpoolPrinter) Name() string { return s.Queue }

func (s *SpoolPrinter) Print(ctx context.Context, data []byte) error {
	lp, err := exec.LookPath("lp")
	if err != nil {
		return &Error{Printer: s.Queue, Kind: ErrNotSupported, Cause: err}
	}
	cmd := exec.CommandContext(ctx, lp, "-s", "-d", s.Queue, "-o", "raw", "-t", "ScanBox receipt")
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return &Error{Printer: s.Queue, Kind: ErrFailed, Cause: ctx.Err()}
		}
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return &Error{Printer: s.Queue, Kind: ErrUnavailable, Cause: fmt.Errorf("lp: %w", err)}
	}
	return nil
}

// Printers lists the CUPS queues (`lpstat -e`), or ErrNotSupported without
// CUPS.
func Printers() ([]string, error) {
	lpstat, err := exec.LookPath("lpstat")
	if err != nil {
		return nil, &Error{Kind: ErrNotSupported, Cause: err}
	}
	out, err := exec.Command(lpstat, "-e").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(bytes.TrimSpace(out)) == 0 {
			return nil, nil // no queue at all: lpstat exits 1
		}
		return nil, &Error{Kind: ErrUnavailable, Cause: fmt.Errorf("lpstat: %w", err)}
	}
	return strings.Fields(string(out)), nil
}
