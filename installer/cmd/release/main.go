// Command release builds the Windows deliverables of ScanBox into one
// directory: scanbox.exe, scanbox-ocr.exe and ScanBox-<version>-x64.msi,
// signed when SCANBOX_SIGN_* is set. `make release` (Linux, CI) and
// build.ps1 (Windows) both call it, so the steps live only here.
//
//	go run ./installer/cmd/release [-out dist] [-steps exe,ocr,msi] [-version X.Y.Z]
//	                               [-toolset wixl|wix3] [-tessdata FILE] [-verify-ca CA.pem]
//	                               [-release-key release.pub]
//
// The version comes from the version package unless -version overrides it;
// either way it is stamped into scanbox.exe with -X and into the MSI.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/scanbox/scanbox/installer"
	"github.com/scanbox/scanbox/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "dist", "release directory")
	steps := fs.String("steps", "exe,ocr,msi", "comma-separated steps to run: exe, ocr, msi")
	ver := fs.String("version", version.Version, "version to stamp (default: the version package)")
	toolset := fs.String("toolset", defaultToolset(), "MSI compiler: wixl (msitools) or wix3 (candle/light)")
	tessdata := fs.String("tessdata", "", "eng.traineddata to ship (default: searched)")
	verifyCA := fs.String("verify-ca", os.Getenv("SCANBOX_VERIFY_CA"), "verify every signature against this PEM CA (default $SCANBOX_VERIFY_CA)")
	releaseKey := fs.String("release-key", os.Getenv(installer.EnvReleaseKey), "the bank's release public key (scanbox-fleet keygen's release.pub) to build into scanbox.exe (default $"+installer.EnvReleaseKey+"; none: the program accepts no update)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(stderr, "release:", err)
		return 2
	}
	if err := installer.CheckVersion(*ver); err != nil {
		fmt.Fprintln(stderr, "release:", err)
		return 2
	}
	signer, err := installer.SignerFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "release:", err)
		return 2
	}
	if *verifyCA != "" && signer == nil {
		fmt.Fprintln(stderr, "release: -verify-ca given but nothing will be signed (set SCANBOX_SIGN_*)")
		return 2
	}
	r := &installer.Release{Root: root, Out: *out, Version: *ver, Tessdata: *tessdata,
		Signer: signer, VerifyCA: *verifyCA, Log: stderr}
	if *releaseKey != "" {
		if r.ReleaseKey, err = installer.ReadReleaseKey(*releaseKey); err != nil {
			fmt.Fprintln(stderr, "release:", err)
			return 2
		}
	}
	switch *toolset {
	case "wixl":
		r.Toolset = installer.Wixl
	case "wix3":
		r.Toolset = installer.WiX3
	default:
		fmt.Fprintf(stderr, "release: unknown -toolset %q (wixl or wix3)\n", *toolset)
		return 2
	}
	if r.Tessdata == "" {
		r.Tessdata = installer.FindTessdata(root)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	do := map[string]func(context.Context) error{"exe": r.BuildExe, "ocr": r.BuildOCR, "msi": r.BuildMSI}
	code := 0
	for _, s := range strings.Split(*steps, ",") {
		f, ok := do[strings.TrimSpace(s)]
		if !ok {
			fmt.Fprintf(stderr, "release: unknown step %q (exe, ocr, msi)\n", s)
			return 2
		}
		if err := f(ctx); err != nil {
			fmt.Fprintln(stderr, "release:", err)
			code = 1
			break
		}
	}
	fmt.Fprintf(stdout, "ScanBox %s release in %s:\n", r.Version, r.Path(""))
	r.WriteSizes(stdout)
	return code
}

// defaultToolset is wix3 on Windows when candle is on PATH, else wixl.
func defaultToolset() string {
	if runtime.GOOS == "windows" {
		if _, err := exec.LookPath("candle"); err == nil {
			return "wix3"
		}
	}
	return "wixl"
}

// repoRoot is the module root, found from the working directory upwards, so
// the command works from any subdirectory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: run from the ScanBox repository", dir)
		}
	}
}
