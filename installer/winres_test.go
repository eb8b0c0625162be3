package installer

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tc-hib/winres"
)

// buildTinyExe cross-builds a cgo-free Windows program in its own module, with
// the resources of p linked in (or none when p is nil), and returns its path.
func buildTinyExe(t *testing.T, p *Program) string {
	t.Helper()
	dir := t.TempDir()
	src := "package main\n\nfunc main() {}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module tiny\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p != nil {
		if _, err := p.WriteSyso(dir); err != nil {
			t.Fatal(err)
		}
	}
	exe := filepath.Join(dir, "tiny.exe")
	cmd := exec.Command("go", "build", "-o", exe, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

func TestWindowsResourcesInBuiltExe(t *testing.T) {
	root, _ := filepath.Abs("..")
	p := Program{Version: "1.2.3", Description: "ScanBox test", Filename: "tiny.exe",
		IconPNG: filepath.Join(root, "assets", "icons", "app.png")}
	exe := buildTinyExe(t, &p)

	r, err := ReadExeResources(exe)
	if err != nil {
		t.Fatal(err)
	}
	if r.Manifest.DPIAwareness != winres.DPIPerMonitorV2 {
		t.Errorf("DPI awareness = %v, want per-monitor v2", r.Manifest.DPIAwareness)
	}
	if r.Manifest.ExecutionLevel != winres.AsInvoker {
		t.Errorf("execution level = %v, want asInvoker", r.Manifest.ExecutionLevel)
	}
	if r.Manifest.Compatibility != winres.Win10AndAbove {
		t.Errorf("supported OS = %v, want Windows 10 and above", r.Manifest.Compatibility)
	}
	if r.FileVersion != "1.2.3" {
		t.Errorf("file version = %q, want 1.2.3", r.FileVersion)
	}
	if r.Icons != 1 {
		t.Errorf("icon groups = %d, want 1", r.Icons)
	}
	if err := CheckExe(exe, "1.2.3", true); err != nil {
		t.Errorf("CheckExe: %v", err)
	}
	if err := CheckExe(exe, "1.2.4", true); !errors.Is(err, ErrResources) {
		t.Errorf("CheckExe with another version = %v, want ErrResources", err)
	}
}

// A program built without the .syso is caught: this is what the release
// step's check stops.
func TestCheckExeRefusesBareExe(t *testing.T) {
	exe := buildTinyExe(t, nil)
	if err := CheckExe(exe, "1.2.3", false); !errors.Is(err, ErrResources) {
		t.Fatalf("CheckExe on a program without resources = %v, want ErrResources", err)
	}
}

func TestWriteSysoRefusesBadVersion(t *testing.T) {
	if _, err := (Program{Version: "1.2", Filename: "x.exe"}).WriteSyso(t.TempDir()); err == nil {
		t.Fatal("WriteSyso accepted version 1.2")
	}
}
