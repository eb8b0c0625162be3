package installer

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// EnvReleaseKey names the release.pub the release tool links into
// scanbox.exe when -release-key is not given.
const EnvReleaseKey = "SCANBOX_RELEASE_KEY_FILE"

// VersionVar is the linker symbol that carries the version into the program.
const VersionVar = "github.com/scanbox/scanbox/version.Version"

// ReleaseKeyVar is the linker symbol that carries the bank's release public
// key into the program (agent.ReleasePublicKey): the only key whose signed
// manifests the plug-in's updater accepts. It is public, but it is a build
// input like the version, never a file the program reads at run time.
const ReleaseKeyVar = "github.com/scanbox/scanbox/agent.ReleasePublicKey"

// ErrBadReleaseKey is a release key that is not base64 ed25519 public keys.
var ErrBadReleaseKey = errors.New("installer: the release key must be one or more base64 ed25519 public keys (scanbox-fleet keygen's release.pub), separated by commas")

// ReadReleaseKey reads a release.pub (one base64 line; several lines or
// commas during a key rotation) and returns the comma-separated form the
// linker gets.
func ReadReleaseKey(path string) (string, error) {
	// keygen's private release.key is a 32-byte base64 seed, the same shape
	// as a public key: linked in by mistake it would ship the bank's
	// signing key to every shop. Refuse it by name.
	if strings.HasSuffix(strings.ToLower(path), ".key") {
		return "", fmt.Errorf("%w: %s looks like the private release.key; give release.pub", ErrBadReleaseKey, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("installer: release key: %w", err)
	}
	var keys []string
	for _, f := range strings.FieldsFunc(string(b), func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' }) {
		k, err := base64.StdEncoding.DecodeString(f)
		if err != nil || len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("%w: %s", ErrBadReleaseKey, path)
		}
		keys = append(keys, f)
	}
	if len(keys) == 0 {
		return "", fmt.Errorf("%w: %s is empty", ErrBadReleaseKey, path)
	}
	return strings.Join(keys, ","), nil
}

// ReleaseTags are the build tags of the shipped scanbox.exe.
const ReleaseTags = "no_animations,no_emoji"

// Output names inside the release directory.
const (
	ExeName = "scanbox.exe"
	OCRName = "scanbox-ocr.exe"
)

// MSIName is the installer's file name for a version.
func MSIName(version string) string { return "ScanBox-" + version + "-x64.msi" }

// OCRScript is the OCR engineer's script that cross-builds scanbox-ocr.exe
// against static Tesseract. It is called as `bash OCRScript OUT.exe`.
const OCRScript = "scripts/build-ocr-windows.sh"

// ErrMissingPart is a release input that is not in the tree (yet).
var ErrMissingPart = errors.New("installer: a release input is missing")

// Release builds the Windows deliverables of one version into Out.
type Release struct {
	Root     string // repository root (holds go.mod)
	Out      string // release directory, e.g. dist
	Version  string // checked with CheckVersion
	Toolset  Toolset
	Tessdata string  // eng.traineddata to ship
	Signer   *Signer // nil: leave everything unsigned
	VerifyCA string  // when set, every signature is verified against this PEM CA file
	// ReleaseKey is the release public key(s) linked into scanbox.exe
	// (ReadReleaseKey's form); "" builds a program that accepts no update.
	ReleaseKey string
	Log        io.Writer
}

// ExeBuild is the fixed cross-build of scanbox.exe: the same flags every
// time, so that the Go build cache (≈5.5 min cold for fyne on two cores) is
// reused by every later release build. Only the link step sees the version.
func (r *Release) ExeBuild(ctx context.Context) *exec.Cmd {
	cc := os.Getenv("SCANBOX_MINGW_CC")
	if cc == "" {
		cc = "x86_64-w64-mingw32-gcc"
	}
	// no_animations: fyne otherwise redraws the blinking text cursor at
	// frame rate, which costs an idle POS PC ~9 % of a core (docs/ui.md).
	// no_emoji: fyne's 4 MB colour-emoji font, which ScanBox never draws,
	// is otherwise embedded and parsed once per text style (~18 MiB of
	// resident memory, docs/ui.md "Weight").
	// The version and the release key are link-time only (-X), so a build
	// that differs in either relinks and recompiles nothing.
	ldflags := "-s -w -H windowsgui -X " + VersionVar + "=" + r.Version
	if r.ReleaseKey != "" {
		ldflags += " -X " + ReleaseKeyVar + "=" + r.ReleaseKey
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", ReleaseTags,
		"-ldflags", ldflags, "-o", filepath.Join(r.absOut(), ExeName), "./app")
	cmd.Dir = r.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS=windows", "GOARCH=amd64", "CC="+cc)
	return cmd
}

// program is the resource description of one of the release's programs.
func (r *Release) program(filename, description string) Program {
	p := Program{Version: r.Version, Description: description, Filename: filename}
	if png := filepath.Join(r.Root, "assets", "icons", "app.png"); fileExists(png) {
		p.IconPNG = png
	}
	return p
}

func (r *Release) absOut() string {
	if filepath.IsAbs(r.Out) {
		return r.Out
	}
	return filepath.Join(r.Root, r.Out)
}

// Path is the path of a release file.
func (r *Release) Path(name string) string { return filepath.Join(r.absOut(), name) }

// BuildExe cross-builds and (when configured) signs scanbox.exe.
func (r *Release) BuildExe(ctx context.Context) error {
	if err := CheckVersion(r.Version); err != nil {
		return err
	}
	if err := os.MkdirAll(r.absOut(), 0o755); err != nil {
		return err
	}
	// A failed build must not leave an older scanbox.exe looking current.
	if err := os.Remove(r.Path(ExeName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	remove, err := r.program(ExeName, "ScanBox cashier plug-in").WriteSyso(filepath.Join(r.Root, "app"))
	if err != nil {
		return err
	}
	defer remove()
	if r.ReleaseKey == "" {
		fmt.Fprintf(r.Log, "release: %s built without a release key: it accepts no update (-release-key FILE or $%s)\n", ExeName, EnvReleaseKey)
	} else {
		fmt.Fprintf(r.Log, "release: %s accepts updates signed by release key %s\n", ExeName, r.ReleaseKey)
	}
	cmd := r.ExeBuild(ctx)
	cmd.Stdout, cmd.Stderr = r.Log, r.Log
	if err := r.step("go build "+ExeName+" (windows/amd64, cgo)", cmd.Run); err != nil {
		return fmt.Errorf("installer: build %s: %w", ExeName, err)
	}
	if err := CheckExe(r.Path(ExeName), r.Version, true); err != nil {
		return err
	}
	return r.sign(ctx, r.Path(ExeName), "ScanBox")
}

// BuildOCR runs the OCR engineer's script to build scanbox-ocr.exe, then
// signs it.
func (r *Release) BuildOCR(ctx context.Context) error {
	script := filepath.Join(r.Root, OCRScript)
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("%w: %s is not in the tree yet (the OCR engineer's static-Tesseract build); %s cannot be built without it", ErrMissingPart, OCRScript, OCRName)
	}
	if err := os.MkdirAll(r.absOut(), 0o755); err != nil {
		return err
	}
	if err := os.Remove(r.Path(OCRName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	remove, err := r.program(OCRName, "ScanBox OCR helper").WriteSyso(filepath.Join(r.Root, "cmd", "scanbox-ocr"))
	if err != nil {
		return err
	}
	defer remove()
	cmd := exec.CommandContext(ctx, "bash", script, r.Path(OCRName))
	cmd.Dir = r.Root
	cmd.Env = append(os.Environ(), "SCANBOX_VERSION="+r.Version)
	cmd.Stdout, cmd.Stderr = r.Log, r.Log
	if err := r.step(OCRScript, cmd.Run); err != nil {
		return fmt.Errorf("installer: %s: %w", OCRScript, err)
	}
	if _, err := os.Stat(r.Path(OCRName)); err != nil {
		return fmt.Errorf("installer: %s finished but left no %s: %w", OCRScript, r.Path(OCRName), err)
	}
	if err := CheckExe(r.Path(OCRName), r.Version, true); err != nil {
		return err
	}
	return r.sign(ctx, r.Path(OCRName), "ScanBox OCR helper")
}

// BuildMSI packages the built programs, the voice clips and the Tesseract
// data into the MSI, then signs it.
func (r *Release) BuildMSI(ctx context.Context) error {
	for _, n := range []string{ExeName, OCRName} {
		if _, err := os.Stat(r.Path(n)); err != nil {
			return fmt.Errorf("%w: %s (build it first)", ErrMissingPart, r.Path(n))
		}
	}
	if r.Tessdata == "" {
		return fmt.Errorf("%w: eng.traineddata (install tesseract-ocr-eng or pass -tessdata)", ErrMissingPart)
	}
	if chi := filepath.Join(filepath.Dir(r.Tessdata), "chi_sim.traineddata"); !fileExists(chi) {
		return fmt.Errorf("%w: %s, beside eng.traineddata (install tesseract-ocr-chi-sim)", ErrMissingPart, chi)
	}
	work := filepath.Join(r.absOut(), "msi-build")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	x := WXS{
		Toolset: r.Toolset, Version: r.Version, SourceDir: work,
		Payload: Payload{
			ScanBoxExe: r.Path(ExeName), OCRExe: r.Path(OCRName), Tessdata: r.Tessdata,
			TessdataChi: filepath.Join(filepath.Dir(r.Tessdata), "chi_sim.traineddata"),
			VoiceDir:    filepath.Join(r.Root, "assets", "voice"),
		},
	}
	if png := filepath.Join(r.Root, "assets", "icons", "app.png"); fileExists(png) {
		x.Payload.Icon = filepath.Join(work, "scanbox.ico")
		if err := WriteICO(png, x.Payload.Icon); err != nil {
			return err
		}
	}
	msi := r.Path(MSIName(r.Version))
	if err := r.step("MSI "+filepath.Base(msi), func() error { return BuildMSI(ctx, x, msi) }); err != nil {
		return err
	}
	return r.sign(ctx, msi, "ScanBox "+r.Version+" installer")
}

func (r *Release) sign(ctx context.Context, path, description string) error {
	if r.Signer == nil {
		fmt.Fprintf(r.Log, "release: %s left unsigned (no %s/%s/%s set)\n", filepath.Base(path), EnvPKCS12, EnvCert, EnvThumbprint)
		return nil
	}
	if err := r.step("sign "+filepath.Base(path)+" with "+r.Signer.Tool(), func() error { return r.Signer.Sign(ctx, path, description) }); err != nil {
		return err
	}
	if r.VerifyCA != "" {
		return r.step("verify "+filepath.Base(path), func() error { return VerifySignature(ctx, path, r.VerifyCA) })
	}
	return nil
}

func (r *Release) step(what string, f func() error) error {
	start := time.Now()
	fmt.Fprintf(r.Log, "release: %s ...\n", what)
	err := f()
	if err == nil {
		fmt.Fprintf(r.Log, "release: %s done in %s\n", what, time.Since(start).Round(100*time.Millisecond))
	}
	return err
}

// WriteSizes prints the size of each deliverable that exists.
func (r *Release) WriteSizes(w io.Writer) {
	for _, n := range []string{ExeName, OCRName, MSIName(r.Version)} {
		fi, err := os.Stat(r.Path(n))
		if err != nil {
			fmt.Fprintf(w, "  %-28s (not built)\n", n)
			continue
		}
		fmt.Fprintf(w, "  %-28s %10d bytes  %6.1f MiB\n", n, fi.Size(), float64(fi.Size())/(1<<20))
	}
}

// FindTessdata returns the first eng.traineddata among the usual places
// (chi_sim.traineddata must stand beside it):
// the repository's assets, $SCANBOX_TESSDATA, Debian's tesseract-ocr-eng,
// MSYS2's mingw-w64 tesseract data.
func FindTessdata(root string) string {
	cands := []string{filepath.Join(root, "assets", "tessdata", "eng.traineddata")}
	if d := os.Getenv("SCANBOX_TESSDATA"); d != "" {
		cands = append(cands, filepath.Join(d, "eng.traineddata"))
	}
	cands = append(cands,
		"/usr/share/tesseract-ocr/5/tessdata/eng.traineddata",
		"/usr/share/tesseract-ocr/4.00/tessdata/eng.traineddata")
	if runtime.GOOS == "windows" {
		cands = append(cands, `C:\msys64\mingw64\share\tessdata\eng.traineddata`)
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
