package receipt

import (
	"context"
	"errors"
	"testing"
	"time"
)

// On Windows (or wine): the spooler's list works, and a queue that does not
// exist is reported as unreachable by OpenPrinterW, quickly and typed.
func TestSpoolerListAndMissingQueue(t *testing.T) {
	names, err := Printers()
	if err != nil {
		t.Fatalf("EnumPrintersW: %v", err)
	}
	t.Logf("installed printers: %q", names)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = Print(ctx, &SpoolPrinter{Queue: "ScanBox no such printer 7f3a"}, PaymentSlip(samplePayment(), Options{}))
	e := wantKind(t, err, ErrUnavailable)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the spooler hung instead of refusing")
	}
	t.Logf("%v / %s", e, e.Sentence(English))
}
