package installer

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// placeholderPayload writes small stand-in files shaped like the real
// payload, so the MSI can be built without the cgo cross-build.
func placeholderPayload(t *testing.T) (Payload, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{ // install path -> content
		"scanbox.exe":                  "placeholder scanbox.exe",
		"scanbox-ocr.exe":              "placeholder scanbox-ocr.exe",
		"tessdata/eng.traineddata":     "placeholder traineddata",
		"tessdata/chi_sim.traineddata": "placeholder chinese traineddata",
		"voice/zh/paid.wav":            "placeholder paid clip",
		"voice/zh/yuan.wav":            "placeholder yuan clip",
		"voice/en/paid.wav":            "placeholder English paid clip",
		"voice/beep.wav":               "placeholder beep",
	}
	src := map[string]string{
		"scanbox.exe": "bin/scanbox.exe", "scanbox-ocr.exe": "bin/scanbox-ocr.exe",
		"tessdata/eng.traineddata":     "tess/eng.traineddata",
		"tessdata/chi_sim.traineddata": "tess/chi_sim.traineddata",
	}
	for inst, content := range files {
		rel, ok := src[inst]
		if !ok {
			rel = "assets/" + inst
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Hidden files (.gitkeep) must not be installed.
	if err := os.WriteFile(filepath.Join(dir, "assets/voice/.gitkeep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var icon bytes.Buffer
	png.Encode(&icon, image.NewNRGBA(image.Rect(0, 0, 32, 32)))
	os.WriteFile(filepath.Join(dir, "app.png"), icon.Bytes(), 0o644)
	if err := WriteICO(filepath.Join(dir, "app.png"), filepath.Join(dir, "scanbox.ico")); err != nil {
		t.Fatal(err)
	}
	return Payload{
		Icon:        filepath.Join(dir, "scanbox.ico"),
		ScanBoxExe:  filepath.Join(dir, "bin/scanbox.exe"),
		OCRExe:      filepath.Join(dir, "bin/scanbox-ocr.exe"),
		Tessdata:    filepath.Join(dir, "tess/eng.traineddata"),
		TessdataChi: filepath.Join(dir, "tess/chi_sim.traineddata"),
		VoiceDir:    filepath.Join(dir, "assets/voice"),
	}, files
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install wixl msitools)", tool)
		}
	}
}

// table indexes rows by their first column.
func table(t *testing.T, msi, name string) map[string][]string {
	t.Helper()
	rows, err := MSITable(context.Background(), msi, name)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, r := range rows {
		m[r[0]] = r
	}
	return m
}

func TestMSITables(t *testing.T) {
	needTools(t, "wixl", "msiinfo", "msibuild", "msiextract")
	payload, files := placeholderPayload(t)
	build := t.TempDir()
	msi := filepath.Join(build, "ScanBox-1.2.3-x64.msi")
	x := WXS{Toolset: Wixl, Version: "1.2.3", Payload: payload, SourceDir: build}
	if err := BuildMSI(context.Background(), x, msi); err != nil {
		t.Fatal(err)
	}

	t.Run("properties", func(t *testing.T) {
		props := table(t, msi, "Property")
		want := map[string]string{
			"ProductVersion":      "1.2.3",
			"ProductName":         "ScanBox",
			"UpgradeCode":         "{" + UpgradeCode + "}",
			"ALLUSERS":            "1",
			"MsiHiddenProperties": "ACTIVATION_CODE;FLEET_CODE",
		}
		for k, v := range want {
			if got := props[k]; got == nil || got[1] != v {
				t.Errorf("Property %s = %v, want %q", k, got, v)
			}
		}
		secure := strings.Split(props["SecureCustomProperties"][1], ";")
		// The provisioning properties bank staff pass to msiexec (issue 10
		// item 2: FLEET_URL, FLEET_CODE; issue 11 item 3: MAX_PAYMENT) must
		// all reach the elevated part of the install.
		for _, p := range []string{"WIX_UPGRADE_DETECTED", "BANK_URL", "MCH_ID", "TERMINAL_ID", "ACTIVATION_CODE", "FLEET_URL", "FLEET_CODE", "MAX_PAYMENT"} {
			if !contains(secure, p) {
				t.Errorf("SecureCustomProperties %v lacks %s", secure, p)
			}
		}
	})

	t.Run("files", func(t *testing.T) {
		dirs := table(t, msi, "Directory")
		// dirPath rebuilds a directory's install path from the Directory table.
		var dirPath func(id string) string
		dirPath = func(id string) string {
			r := dirs[id]
			if r == nil {
				t.Fatalf("no Directory %s", id)
			}
			name := r[2]
			if i := strings.IndexByte(name, '|'); i >= 0 {
				name = name[i+1:] // short|long
			}
			if r[1] == "" || id == "INSTALLDIR" {
				if id == "INSTALLDIR" && (r[1] != "ProgramFiles64Folder" || name != "ScanBox") {
					t.Errorf("INSTALLDIR = %v, want ScanBox under ProgramFiles64Folder", r)
				}
				return ""
			}
			return strings.TrimPrefix(dirPath(r[1])+"/"+name, "/")
		}
		comps := table(t, msi, "Component")
		got := map[string]bool{}
		for id, r := range table(t, msi, "File") {
			name := r[2]
			if i := strings.IndexByte(name, '|'); i >= 0 {
				name = name[i+1:]
			}
			c := comps[r[1]]
			if c == nil {
				t.Fatalf("file %s: no component %s", id, r[1])
			}
			inst := strings.TrimPrefix(dirPath(c[2])+"/"+name, "/")
			got[inst] = true
			if attr, _ := strconv.Atoi(c[3]); attr&256 == 0 {
				t.Errorf("component of %s is not 64-bit (Attributes %s)", inst, c[3])
			}
			if c[5] != id {
				t.Errorf("component of %s has key path %s, want the file", inst, c[5])
			}
		}
		for inst := range files {
			if !got[inst] {
				t.Errorf("MSI does not install %s", inst)
			}
		}
		if len(got) != len(files) {
			t.Errorf("MSI installs %d files %v, want the %d payload files", len(got), got, len(files))
		}
		if got := table(t, msi, "File")["ScanBoxExe"]; got == nil {
			t.Error("scanbox.exe must have the File id ScanBoxExe (the shortcut, Run key and custom action refer to it)")
		}

		// The cabinet holds the real bytes, not just table rows.
		out := t.TempDir()
		if b, err := exec.Command("msiextract", "-C", out, msi).CombinedOutput(); err != nil {
			t.Fatalf("msiextract: %v\n%s", err, b)
		}
		for inst, content := range files {
			// msiextract drops the unnamed ProgramFiles64Folder.
			b, err := os.ReadFile(filepath.Join(out, "ScanBox", filepath.FromSlash(inst)))
			if err != nil {
				t.Errorf("extracted %s: %v", inst, err)
			} else if string(b) != content {
				t.Errorf("extracted %s = %q, want %q", inst, b, content)
			}
		}
	})

	t.Run("shortcut", func(t *testing.T) {
		sc := table(t, msi, "Shortcut")["ScanBoxStartMenu"]
		if sc == nil {
			t.Fatal("no Start-menu shortcut")
		}
		// Directory_, Name, Component_, Target, ..., WkDir
		if sc[1] != "ProgramMenuFolder" || sc[2] != "ScanBox" || sc[4] != "[#ScanBoxExe]" || sc[11] != "INSTALLDIR" || sc[8] != "ScanBoxIcon.ico" {
			t.Errorf("shortcut = %q", sc)
		}
		if table(t, msi, "Icon")["ScanBoxIcon.ico"] == nil {
			t.Error("no ScanBoxIcon.ico in the Icon table")
		}
		if p := table(t, msi, "Property")["ARPPRODUCTICON"]; p == nil || p[1] != "ScanBoxIcon.ico" {
			t.Errorf("ARPPRODUCTICON = %v", p)
		}
	})

	t.Run("registry", func(t *testing.T) {
		type key struct{ root, key, name string }
		reg := map[key][]string{}
		for _, r := range table(t, msi, "Registry") {
			reg[key{r[1], r[2], r[3]}] = r
		}
		const hklm = "2"
		want := map[key]string{
			{hklm, `Software\Microsoft\Windows\CurrentVersion\Run`, "ScanBox"}: `"[#ScanBoxExe]"`,
			{hklm, ProvisioningKey, "BankURL"}:                                 "[BANK_URL]",
			{hklm, ProvisioningKey, "MchID"}:                                   "[MCH_ID]",
			{hklm, ProvisioningKey, "TerminalID"}:                              "[TERMINAL_ID]",
			{hklm, ProvisioningKey, "ActivationCode"}:                          "[ACTIVATION_CODE]",
			{hklm, ProvisioningKey, "FleetURL"}:                                "[FLEET_URL]",
			{hklm, ProvisioningKey, "FleetCode"}:                               "[FLEET_CODE]",
			{hklm, ProvisioningKey, "MaxPayment"}:                              "[MAX_PAYMENT]",
		}
		for k, v := range want {
			if r := reg[k]; r == nil || r[4] != v {
				t.Errorf("registry %v = %v, want value %q", k, r, v)
			}
		}
	})

	t.Run("upgrade", func(t *testing.T) {
		rows, err := MSITable(context.Background(), msi, "Upgrade")
		if err != nil {
			t.Fatal(err)
		}
		var replacesOlder bool
		for _, r := range rows {
			// UpgradeCode, VersionMin, VersionMax, Language, Attributes, Remove, ActionProperty
			attr, _ := strconv.Atoi(r[4])
			const onlyDetect, maxInclusive = 2, 512
			if r[0] == "{"+UpgradeCode+"}" && r[1] == "" && r[2] == "1.2.3" && attr&onlyDetect == 0 && attr&maxInclusive == 0 {
				replacesOlder = true
			}
		}
		if !replacesOlder {
			t.Errorf("no Upgrade row that removes older versions of %s: %q", UpgradeCode, rows)
		}
		seq := table(t, msi, "InstallExecuteSequence")
		at := func(a string) int {
			r := seq[a]
			if r == nil {
				t.Fatalf("InstallExecuteSequence lacks %s", a)
			}
			n, _ := strconv.Atoi(r[2])
			return n
		}
		if !(at("FindRelatedProducts") < at("RemoveExistingProducts") && at("RemoveExistingProducts") < at("InstallInitialize")) {
			t.Error("RemoveExistingProducts must run after FindRelatedProducts and before InstallInitialize (old product removed first)")
		}
	})

	t.Run("firstrun custom action", func(t *testing.T) {
		ca := table(t, msi, "CustomAction")["ImportProvisioning"]
		if ca == nil {
			t.Fatal("no ImportProvisioning custom action")
		}
		typ, _ := strconv.Atoi(ca[1])
		const exeFromFile, deferred, noImpersonate = 18, 1024, 2048
		if typ&0x3f != exeFromFile || typ&deferred == 0 || typ&noImpersonate == 0 || ca[2] != "ScanBoxExe" || ca[3] != "firstrun" {
			t.Errorf("ImportProvisioning = %q, want deferred, not impersonated, scanbox.exe firstrun", ca)
		}
		seq := table(t, msi, "InstallExecuteSequence")
		n := func(a string) int { v, _ := strconv.Atoi(seq[a][2]); return v }
		if s := n("ImportProvisioning"); !(s > n("InstallFiles") && s > n("WriteRegistryValues") && s < n("InstallFinalize")) {
			t.Errorf("ImportProvisioning at %d: must run after files and registry are written and before InstallFinalize", s)
		}
		if cond := seq["ImportProvisioning"][1]; cond != `NOT (REMOVE="ALL")` {
			t.Errorf("ImportProvisioning condition %q: must not run on uninstall", cond)
		}
	})

	t.Run("update task custom actions", func(t *testing.T) {
		cas := table(t, msi, "CustomAction")
		seq := table(t, msi, "InstallExecuteSequence")
		n := func(a string) int {
			r := seq[a]
			if r == nil {
				t.Fatalf("InstallExecuteSequence lacks %s", a)
			}
			v, _ := strconv.Atoi(r[2])
			return v
		}
		const exeFromFile, continueOnError, deferred, noImpersonate = 18, 64, 1024, 2048
		for _, tc := range []struct {
			id, cmd, cond string
			check         bool
		}{
			// Registration must fail the install when it fails: a PC
			// without the task never updates, and nobody would know.
			{"RegisterUpdateTask", "update --register-task", `NOT (REMOVE="ALL")`, true},
			// Removal is best effort (an uninstall must not be blocked by
			// a task someone deleted already), and is skipped when the
			// uninstall is the old half of a major upgrade.
			{"UnregisterUpdateTask", "update --unregister-task", `REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE`, false},
		} {
			ca := cas[tc.id]
			if ca == nil {
				t.Errorf("no %s custom action", tc.id)
				continue
			}
			typ, _ := strconv.Atoi(ca[1])
			if typ&0x3f != exeFromFile || typ&deferred == 0 || typ&noImpersonate == 0 || ca[2] != "ScanBoxExe" || ca[3] != tc.cmd {
				t.Errorf("%s = %q, want deferred, not impersonated (LocalSystem), scanbox.exe %s", tc.id, ca, tc.cmd)
			}
			if got := typ&continueOnError == 0; got != tc.check {
				t.Errorf("%s: checks its exit code = %v, want %v (type %d)", tc.id, got, tc.check, typ)
			}
			if cond := seq[tc.id][1]; cond != tc.cond {
				t.Errorf("%s condition %q, want %q", tc.id, cond, tc.cond)
			}
		}
		if s := n("RegisterUpdateTask"); !(s > n("InstallFiles") && s > n("ImportProvisioning") && s < n("InstallFinalize")) {
			t.Errorf("RegisterUpdateTask at %d: must run after the files are installed (it runs scanbox.exe) and before InstallFinalize", s)
		}
		if s := n("UnregisterUpdateTask"); !(s > n("InstallInitialize") && s < n("RemoveFiles")) {
			t.Errorf("UnregisterUpdateTask at %d: deferred actions run after InstallInitialize, and scanbox.exe must still be there (before RemoveFiles %d)", s, n("RemoveFiles"))
		}
	})

	t.Run("summary", func(t *testing.T) {
		out, err := exec.Command("msiinfo", "suminfo", msi).CombinedOutput()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(out, []byte("Template: x64;1033")) {
			t.Errorf("summary information is not an x64 package:\n%s", out)
		}
	})
}

func TestWXSRenderings(t *testing.T) {
	payload, _ := placeholderPayload(t)
	for _, tc := range []struct {
		toolset      Toolset
		want, reject []string
	}{
		{Wixl, nil, []string{`Secure="yes"`, `Platform=`}},
		{WiX3, []string{`Platform="x64"`, `<Property Id="ACTIVATION_CODE" Secure="yes" />`,
			`<Property Id="FLEET_URL" Secure="yes" />`, `<Property Id="FLEET_CODE" Secure="yes" />`,
			`<Property Id="MAX_PAYMENT" Secure="yes" />`, `Value="ACTIVATION_CODE;FLEET_CODE"`}, nil},
	} {
		var b bytes.Buffer
		x := WXS{Toolset: tc.toolset, Version: "0.1.0", Payload: payload, SourceDir: filepath.Dir(payload.ScanBoxExe)}
		if err := x.Write(&b); err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(b.Bytes(), new(struct{})); err != nil {
			t.Errorf("toolset %d: not well-formed XML: %v", tc.toolset, err)
		}
		for _, s := range tc.want {
			if !strings.Contains(b.String(), s) {
				t.Errorf("toolset %d: lacks %s", tc.toolset, s)
			}
		}
		for _, s := range tc.reject {
			if strings.Contains(b.String(), s) {
				t.Errorf("toolset %d: has %s, which it does not accept", tc.toolset, s)
			}
		}
		if strings.Contains(b.String(), filepath.Dir(payload.ScanBoxExe)) {
			t.Errorf("toolset %d: absolute source paths (wixl refuses them)", tc.toolset)
		}
	}
}

func TestWXSRefuses(t *testing.T) {
	payload, _ := placeholderPayload(t)
	noOCR := payload
	noOCR.OCRExe = filepath.Join(t.TempDir(), "missing.exe")
	emptyVoice := payload
	emptyVoice.VoiceDir = t.TempDir()
	for name, tc := range map[string]struct {
		version string
		p       Payload
	}{
		"bad version":   {"1.2", payload},
		"missing file":  {"1.2.3", noOCR},
		"no voice clip": {"1.2.3", emptyVoice},
	} {
		x := WXS{Toolset: Wixl, Version: tc.version, Payload: tc.p, SourceDir: t.TempDir()}
		if err := x.Write(new(bytes.Buffer)); err == nil {
			t.Errorf("%s: rendered anyway", name)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for v, ok := range map[string]bool{
		"0.1.0": true, "255.255.65535": true, "1.0.10": true,
		"256.0.0": false, "1.256.0": false, "1.0.65536": false, "1.0": false, "1.0.0.1": false,
		"1.0.0-dev": false, "v1.0.0": false, "01.0.0": false, "-1.0.0": false, "": false,
	} {
		err := CheckVersion(v)
		if (err == nil) != ok {
			t.Errorf("CheckVersion(%q) = %v, want ok=%v", v, err, ok)
		}
		if err != nil && !errors.Is(err, ErrBadVersion) {
			t.Errorf("CheckVersion(%q) error %v is not ErrBadVersion", v, err)
		}
	}
}

func TestMSIIDs(t *testing.T) {
	seen := map[string]string{}
	for _, p := range []string{"voice/a.wav", "voice/a_wav", "voice/a-wav", "voice/阿.wav", "voice/" + strings.Repeat("x", 100) + "1.wav", "voice/" + strings.Repeat("x", 100) + "2.wav"} {
		id := msiID("f_", p)
		if len(id) > 72 {
			t.Errorf("msiID(%q) = %q: longer than 72", p, id)
		}
		for _, r := range id {
			if !(r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				t.Errorf("msiID(%q) = %q: bad character %q", p, id, r)
			}
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("msiID: %q and %q both give %q", prev, p, id)
		}
		seen[id] = p
	}
}

// Component GUIDs must never change for the same install path, or Windows
// Installer loses track of files across upgrades. These values are the ones
// shipped in 0.1.0; a change here is a bug, not a test to update.
func TestComponentGUIDStable(t *testing.T) {
	for p, want := range map[string]string{
		"scanbox.exe":     "63D298C7-9E21-57A6-8698-1AEB6B9F6CCA",
		"scanbox-ocr.exe": "2A77B869-9E3B-523B-A5CA-BC4FACECE995",
		"SCANBOX.EXE":     "63D298C7-9E21-57A6-8698-1AEB6B9F6CCA", // Windows paths are case-insensitive
	} {
		if got := componentGUID(p); got != want {
			t.Errorf("componentGUID(%q) = %s, want %s", p, got, want)
		}
	}
}
