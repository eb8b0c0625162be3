package installer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/png" // the icon source is a PNG
	"os"
	"path/filepath"
	"strings"

	"github.com/tc-hib/winres"
	winver "github.com/tc-hib/winres/version"
)

// Windows resources: every program we ship carries an application manifest,
// VERSIONINFO from the one version source, and the icon. The manifest matters
// for money as much as for looks: without per-monitor-v2 DPI awareness a
// process that never initialises GLFW (scanbox amount --region, scanbox serve)
// sees scaled coordinates at 125–150 % display scaling, and the OCR rectangle
// the tray's picker chose (in physical pixels) then reads the wrong part of
// the screen.
//
// The resources are compiled by github.com/tc-hib/winres (the library behind
// go-winres) into a COFF object, a .syso beside the main package, which
// `go build` links for GOOS=windows only. The .syso is written just before the
// build and removed after it, so nothing generated is ever committed.

// SysoName is the object file `go build` links into a windows/amd64 program.
const SysoName = "rsrc_windows_amd64.syso"

// Program describes one executable's resources.
type Program struct {
	Version     string // MAJOR.MINOR.PATCH (CheckVersion)
	Description string // FileDescription, shown by Explorer
	Filename    string // OriginalFilename, e.g. scanbox.exe
	IconPNG     string // optional: a square PNG, resized to the usual icon sizes
}

// Manifest is the application manifest of every ScanBox program.
func Manifest() winres.AppManifest {
	return winres.AppManifest{
		Identity:       winres.AssemblyIdentity{Name: "ScanBox"},
		Description:    "ScanBox cashier plug-in",
		Compatibility:  winres.Win10AndAbove,
		ExecutionLevel: winres.AsInvoker,
		DPIAwareness:   winres.DPIPerMonitorV2,
		LongPathAware:  true,
	}
}

// resourceSet builds the resources of p.
func (p Program) resourceSet() (*winres.ResourceSet, error) {
	if err := CheckVersion(p.Version); err != nil {
		return nil, err
	}
	rs := &winres.ResourceSet{}
	rs.SetManifest(Manifest())

	vi := winver.Info{}
	vi.SetFileVersion(p.Version + ".0")
	vi.SetProductVersion(p.Version + ".0")
	const lang = 0x0409 // en-US; Explorer shows it whatever the UI language
	for k, v := range map[string]string{
		winver.ProductName:      "ScanBox",
		winver.ProductVersion:   p.Version,
		winver.FileVersion:      p.Version,
		winver.FileDescription:  p.Description,
		winver.OriginalFilename: p.Filename,
		winver.InternalName:     strings.TrimSuffix(p.Filename, ".exe"),
		winver.CompanyName:      "ScanBox",
		winver.LegalCopyright:   "© ScanBox",
	} {
		if err := vi.Set(lang, k, v); err != nil {
			return nil, fmt.Errorf("installer: version info %s: %w", k, err)
		}
	}
	rs.SetVersionInfo(vi)

	if p.IconPNG != "" {
		data, err := os.ReadFile(p.IconPNG)
		if err != nil {
			return nil, fmt.Errorf("installer: icon: %w", err)
		}
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("installer: icon %s: %w", p.IconPNG, err)
		}
		icon, err := winres.NewIconFromResizedImage(img, []int{16, 24, 32, 48, 64, 256})
		if err != nil {
			return nil, fmt.Errorf("installer: icon %s: %w", p.IconPNG, err)
		}
		if err := rs.SetIcon(winres.Name("APPICON"), icon); err != nil {
			return nil, fmt.Errorf("installer: icon: %w", err)
		}
	}
	return rs, nil
}

// WriteSyso writes p's resources as a .syso object into pkgDir and returns a
// function that removes it again.
func (p Program) WriteSyso(pkgDir string) (remove func(), err error) {
	rs, err := p.resourceSet()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(pkgDir, SysoName)
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("installer: %w", err)
	}
	if err := rs.WriteObject(f, winres.ArchAMD64); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("installer: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("installer: write %s: %w", path, err)
	}
	return func() { os.Remove(path) }, nil
}

// ExeResources is what CheckExe found in a built program.
type ExeResources struct {
	FileVersion string // the VERSIONINFO FileVersion string
	Manifest    winres.AppManifest
	Icons       int // icon groups
}

// ErrResources is a built program whose resources are missing or wrong.
var ErrResources = errors.New("installer: program resources are missing or wrong")

// ReadExeResources parses the resource section of a PE file.
func ReadExeResources(exe string) (ExeResources, error) {
	var out ExeResources
	f, err := os.Open(exe)
	if err != nil {
		return out, fmt.Errorf("installer: %w", err)
	}
	defer f.Close()
	rs, err := winres.LoadFromEXE(f)
	if err != nil {
		return out, fmt.Errorf("%w: %s: %v", ErrResources, filepath.Base(exe), err)
	}
	var manifest, verinfo []byte
	rs.Walk(func(typeID, _ winres.Identifier, _ uint16, data []byte) bool {
		switch typeID {
		case winres.RT_MANIFEST:
			manifest = data
		case winres.RT_VERSION:
			verinfo = data
		case winres.RT_GROUP_ICON:
			out.Icons++
		}
		return true
	})
	if manifest != nil {
		if out.Manifest, err = winres.AppManifestFromXML(manifest); err != nil {
			return out, fmt.Errorf("%w: %s: manifest: %v", ErrResources, filepath.Base(exe), err)
		}
	}
	if verinfo != nil {
		vi, err := winver.FromBytes(verinfo)
		if err != nil {
			return out, fmt.Errorf("%w: %s: version info: %v", ErrResources, filepath.Base(exe), err)
		}
		b, err := vi.MarshalJSON()
		if err != nil {
			return out, fmt.Errorf("%w: %s: version info: %v", ErrResources, filepath.Base(exe), err)
		}
		out.FileVersion = jsonField(b, "0409", winver.FileVersion)
	}
	return out, nil
}

// CheckExe verifies that exe carries the manifest ScanBox needs, the
// version and (if wantIcon) an icon.
func CheckExe(exe, version string, wantIcon bool) error {
	r, err := ReadExeResources(exe)
	if err != nil {
		return err
	}
	want := Manifest()
	var problems []string
	if r.Manifest.DPIAwareness != want.DPIAwareness {
		problems = append(problems, "not per-monitor-v2 DPI aware")
	}
	if r.Manifest.ExecutionLevel != winres.AsInvoker {
		problems = append(problems, "execution level is not asInvoker")
	}
	if r.Manifest.Compatibility != want.Compatibility {
		problems = append(problems, "supported OS is not Windows 10/11")
	}
	if r.FileVersion != version {
		problems = append(problems, fmt.Sprintf("file version %q, want %q", r.FileVersion, version))
	}
	if wantIcon && r.Icons == 0 {
		problems = append(problems, "no icon")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrResources, filepath.Base(exe), strings.Join(problems, "; "))
	}
	return nil
}

// jsonField finds key's string value in one translation (lang, e.g. "0409")
// of a VERSIONINFO as winres/version marshals it
// ({"fixed":…,"info":{"0409":{…}}}).
func jsonField(b []byte, lang, key string) string {
	var v struct {
		Info map[string]map[string]string `json:"info"`
	}
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	return v.Info[lang][key]
}
