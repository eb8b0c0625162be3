package ocr

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// HelperName is the helper's file name without the .exe suffix.
const HelperName = "scanbox-ocr"

// FindHelper returns the path of the helper program: $SCANBOX_OCR when set
// (an explicit choice, so a wrong one is an error, not a reason to look
// elsewhere), else scanbox-ocr next to the running executable, else on PATH.
// Its error wraps ErrUnavailable.
func FindHelper() (string, error) {
	name := HelperName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if p := os.Getenv("SCANBOX_OCR"); p != "" {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			return "", fmt.Errorf("%w: SCANBOX_OCR names %s, which is not a program file", ErrUnavailable, p)
		}
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: the helper %s was not found next to scanbox, in SCANBOX_OCR or on PATH", ErrUnavailable, name)
}
