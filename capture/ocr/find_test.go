package ocr

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"
)

func TestFindHelper(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "my-ocr")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCANBOX_OCR", exe)
	if p, err := FindHelper(); err != nil || p != exe {
		t.Errorf("SCANBOX_OCR set: got %q, %v", p, err)
	}
	t.Setenv("SCANBOX_OCR", filepath.Join(dir, "missing"))
	if _, err := FindHelper(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("SCANBOX_OCR wrong: got %v, want ErrUnavailable (no silent fallback)", err)
	}
	t.Setenv("SCANBOX_OCR", "")
	onPath := filepath.Join(dir, HelperName)
	if err := os.WriteFile(onPath, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if p, err := FindHelper(); err != nil || p != onPath {
		t.Errorf("on PATH: got %q, %v", p, err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := FindHelper(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("nowhere: got %v, want ErrUnavailable", err)
	}
}

func TestParseRegion(t *testing.T) {
	good := map[string]image.Rectangle{
		"0,0,100,40":         image.Rect(0, 0, 100, 40),
		"1200, 800, 300, 60": image.Rect(1200, 800, 1500, 860),
		"-1920,0,200,50":     image.Rect(-1920, 0, -1720, 50), // a monitor left of the primary
	}
	for s, want := range good {
		if got, err := ParseRegion(s); err != nil || got != want {
			t.Errorf("ParseRegion(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "1,2,3", "1,2,3,4,5", "a,b,c,d", "0,0,0,10", "0,0,10,-5", "0,0,9000,10"} {
		if _, err := ParseRegion(s); err == nil {
			t.Errorf("ParseRegion(%q) succeeded", s)
		}
	}
}
