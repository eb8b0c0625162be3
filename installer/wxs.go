package installer

import (
	"crypto/sha1"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// UpgradeCode identifies ScanBox to Windows Installer across all versions.
// Never change it: a package with another UpgradeCode would install beside
// the old one instead of replacing it.
const UpgradeCode = "8E67C936-6B23-4302-B23B-13FBFA500000"

// ProvisioningKey is the HKLM key (64-bit view) where a silent install leaves
// BANK_URL, MCH_ID, TERMINAL_ID, ACTIVATION_CODE, FLEET_URL, FLEET_CODE and
// MAX_PAYMENT for `scanbox firstrun`.
// app/cmd_firstrun*.go reads the same key; keep the two in step.
const ProvisioningKey = `Software\ScanBox\Provisioning`

// Fixed component GUIDs of the registry/shortcut components. Like the
// UpgradeCode they must stay the same across versions.
var fixedGUIDs = struct {
	RunAtLogon, InstallInfo, Provisioning, StartMenuShortcut string
}{
	RunAtLogon:        "ED606A70-A4DA-4A60-B0AE-A5460C1BBF14",
	InstallInfo:       "B176D06D-90E6-4342-9D8E-A49328FF0339",
	Provisioning:      "E173B8B9-F696-4DD0-ABBF-8EE756BE236B",
	StartMenuShortcut: "797E4940-1C1B-4B38-9D6F-AFE60071BD56",
}

//go:embed scanbox.wxs.tmpl
var wxsTemplate string

var wxsTmpl = template.Must(template.New("wxs").Parse(wxsTemplate))

// Payload names the files that go into the MSI. Paths are on the build host.
type Payload struct {
	ScanBoxExe string // installed as scanbox.exe; the Run key, shortcut and custom action point at it
	OCRExe     string // installed as scanbox-ocr.exe
	Tessdata   string // installed as tessdata\eng.traineddata
	// TessdataChi is installed as tessdata\chi_sim.traineddata: the OCR
	// helper's second reading uses it to read labels such as 找零 (change),
	// and refuses to read at all without it (docs/ocr.md).
	TessdataChi string
	VoiceDir    string // its whole tree is installed under voice\
	Icon        string // optional .ico for the shortcut and Add/Remove Programs
}

// ErrBadVersion is a version Windows Installer cannot order.
var ErrBadVersion = errors.New("installer: version must be MAJOR.MINOR.PATCH with MAJOR, MINOR < 256 and PATCH < 65536")

// CheckVersion accepts the versions an MSI ProductVersion can compare.
// Major upgrades compare only the first three fields, so a fourth is refused
// rather than silently ignored.
func CheckVersion(v string) error {
	parts := strings.Split(v, ".")
	limits := []int{255, 255, 65535}
	if len(parts) != len(limits) {
		return fmt.Errorf("%w: got %q", ErrBadVersion, v)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > limits[i] || strconv.Itoa(n) != p {
			return fmt.Errorf("%w: got %q", ErrBadVersion, v)
		}
	}
	return nil
}

type wxsFile struct{ ID, ComponentID, GUID, Name, Source string }

type wxsDir struct {
	ID, Name string
	Files    []wxsFile
	Dirs     []*wxsDir
}

// Toolset is the MSI compiler the source is rendered for. The two accept the
// same WiX v3 language except for a few attributes wixl lacks.
type Toolset int

const (
	Wixl Toolset = iota // Debian's wixl (msitools), used on Linux and in tests
	WiX3                // WiX Toolset v3 candle/light, used by build.ps1 on Windows
)

// UpdateTaskName is the SYSTEM scheduled task that `scanbox.exe update
// --register-task` creates at install (agent.UpdateTaskName; the two must
// stay the same).
const UpdateTaskName = `\ScanBox\Update`

type wxsData struct {
	Wixl                                                                   bool
	ProductName, Manufacturer, Version, UpgradeCode, ProvisioningKey, Icon string
	UpdateTask, HiddenProperties                                           string
	SecureProperties                                                       []string
	GUIDs                                                                  any
	Root                                                                   *wxsDir
	Components                                                             []string
}

// WXS describes one rendering of the WiX source.
type WXS struct {
	Toolset Toolset
	Version string // checked with CheckVersion
	Payload Payload
	// SourceDir is the directory the MSI compiler will run in: file sources
	// are written relative to it, because wixl refuses absolute paths.
	SourceDir string
}

// Write renders the WiX source. File and component ids and GUIDs are derived
// from the install path, so the same payload always yields the same source
// (stable component GUIDs are what Windows Installer needs to track files
// across versions).
func (x WXS) Write(w io.Writer) error {
	v, p := x.Version, x.Payload
	if err := CheckVersion(v); err != nil {
		return err
	}
	for _, f := range []struct{ what, path string }{
		{"scanbox.exe", p.ScanBoxExe}, {"scanbox-ocr.exe", p.OCRExe}, {"eng.traineddata", p.Tessdata},
		{"chi_sim.traineddata", p.TessdataChi}, {"voice clips", p.VoiceDir},
	} {
		if f.path == "" {
			return fmt.Errorf("installer: no %s given", f.what)
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("installer: %s: %w", f.what, err)
		}
	}
	d := &wxsData{
		Wixl:        x.Toolset == Wixl,
		ProductName: "ScanBox", Manufacturer: "ScanBox", Version: v,
		UpgradeCode: UpgradeCode, ProvisioningKey: ProvisioningKey, GUIDs: fixedGUIDs,
		UpdateTask: UpdateTaskName, HiddenProperties: strings.Join(HiddenProperties, ";"),
		SecureProperties: SecureProperties,
		Root:             &wxsDir{ID: "INSTALLDIR"},
	}
	base, err := filepath.Abs(x.SourceDir)
	if err != nil {
		return err
	}
	rel := func(src string) (string, error) {
		abs, err := filepath.Abs(src)
		if err != nil {
			return "", err
		}
		return filepath.Rel(base, abs)
	}
	if p.Icon != "" {
		if d.Icon, err = rel(p.Icon); err != nil {
			return err
		}
	}
	ids := map[string]string{} // id -> install path, to refuse collisions
	add := func(dir *wxsDir, installPath, src, id string) error {
		source, err := rel(src)
		if err != nil {
			return err
		}
		if id == "" {
			id = msiID("f_", installPath)
		}
		if prev, dup := ids[id]; dup {
			return fmt.Errorf("installer: %s and %s map to the same MSI id %s; rename one", prev, installPath, id)
		}
		ids[id] = installPath
		f := wxsFile{ID: id, ComponentID: "c" + id, GUID: componentGUID(installPath), Name: path.Base(installPath), Source: source}
		dir.Files = append(dir.Files, f)
		d.Components = append(d.Components, f.ComponentID)
		return nil
	}
	if err := add(d.Root, "scanbox.exe", p.ScanBoxExe, "ScanBoxExe"); err != nil {
		return err
	}
	if err := add(d.Root, "scanbox-ocr.exe", p.OCRExe, "ScanBoxOCRExe"); err != nil {
		return err
	}
	tess := &wxsDir{ID: "TESSDATADIR", Name: "tessdata"}
	d.Root.Dirs = append(d.Root.Dirs, tess)
	if err := add(tess, "tessdata/eng.traineddata", p.Tessdata, "EngTraineddata"); err != nil {
		return err
	}
	if err := add(tess, "tessdata/chi_sim.traineddata", p.TessdataChi, "ChiSimTraineddata"); err != nil {
		return err
	}
	voice := &wxsDir{ID: "VOICEDIR", Name: "voice"}
	d.Root.Dirs = append(d.Root.Dirs, voice)
	if err := addTree(voice, p.VoiceDir, "voice", add); err != nil {
		return err
	}
	if len(voice.Files) == 0 && len(voice.Dirs) == 0 {
		return fmt.Errorf("installer: no voice clips in %s", p.VoiceDir)
	}
	return wxsTmpl.Execute(w, d)
}

// addTree adds every regular file under src (sorted, so output is stable).
func addTree(dir *wxsDir, src, rel string, add func(*wxsDir, string, string, string) error) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue // .gitkeep, editor files
		}
		r := rel + "/" + name
		switch {
		case e.IsDir():
			sub := &wxsDir{ID: msiID("d_", r), Name: name}
			if err := addTree(sub, filepath.Join(src, name), r, add); err != nil {
				return err
			}
			dir.Dirs = append(dir.Dirs, sub)
		case e.Type().IsRegular():
			if err := add(dir, r, filepath.Join(src, name), ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// msiID turns an install path into an MSI identifier: letters, digits,
// underscores and periods, at most 72 characters. Long paths keep a hash
// suffix so that two of them cannot collide by truncation.
func msiID(prefix, rel string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range rel {
		if r < 128 && (r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	id := b.String()
	if len(id) > 72 || id != prefix+rel {
		// Sanitising or truncating may merge two names: disambiguate with a hash.
		h := sha1.Sum([]byte(rel))
		if len(id) > 63 {
			id = id[:63]
		}
		id = fmt.Sprintf("%s_%x", id, h[:4])
	}
	return id
}

// componentGUID is a name-based (version 5) UUID of the install path, so a
// file keeps its component GUID from one version to the next.
func componentGUID(rel string) string {
	// Namespace: the UpgradeCode, so that no other product's paths collide.
	ns := [16]byte{0x8E, 0x67, 0xC9, 0x36, 0x6B, 0x23, 0x43, 0x02, 0xB2, 0x3B, 0x13, 0xFB, 0xFA, 0x50, 0x00, 0x00}
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(strings.ToLower(rel)))
	s := h.Sum(nil)
	s[6] = s[6]&0x0f | 0x50
	s[8] = s[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16]))
}
