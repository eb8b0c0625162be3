//go:build !windows

package receipt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lp stands in for CUPS: a script that keeps its arguments and input.
func fakeLP(t *testing.T, script func(dir string) string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lp"), []byte("#!/bin/sh\n"+script(dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	return dir
}

func TestSpoolPrinterUsesLpRaw(t *testing.T) {
	catPath, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("no cat")
	}
	dir := fakeLP(t, func(dir string) string {
		return `echo "$@" > '` + dir + `/args'; ` + catPath + ` > '` + dir + `/data'` + "\n"
	})
	s := RefundSlip(sampleRefund(), Options{})
	if err := Print(context.Background(), New(Target{Kind: "spool", Name: "POS-80"}), s); err != nil {
		t.Fatal(err)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	data, _ := os.ReadFile(filepath.Join(dir, "data"))
	if !strings.Contains(string(args), "-d POS-80 -o raw") {
		t.Errorf("lp args %q", args)
	}
	if !bytes.Equal(data, s.Bytes()) {
		t.Error("lp did not get the slip's bytes")
	}
}

func TestSpoolPrinterFailures(t *testing.T) {
	fakeLP(t, func(string) string { return "echo 'lp: The printer or class does not exist.' >&2; exit 1\n" })
	e := wantKind(t, Print(context.Background(), &SpoolPrinter{Queue: "nope"}, PaymentSlip(samplePayment(), Options{})), ErrUnavailable)
	if !strings.Contains(e.Error(), "does not exist") {
		t.Errorf("the log text lost lp's reason: %v", e)
	}
	t.Setenv("PATH", t.TempDir()) // no lp at all
	wantKind(t, Print(context.Background(), &SpoolPrinter{Queue: "POS"}, PaymentSlip(samplePayment(), Options{})), ErrNotSupported)
	if _, err := Printers(); !errors.Is(err, ErrNotSupported) {
		t.Errorf("Printers without CUPS: %v", err)
	}
}
