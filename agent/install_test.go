package agent

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/version"
)

// taskXML is the part of the Task Scheduler schema the tests read back.
type taskXML struct {
	XMLName xml.Name `xml:"Task"`
	SD      string   `xml:"RegistrationInfo>SecurityDescriptor"`
	Boot    *struct {
		Enabled bool `xml:"Enabled"`
	} `xml:"Triggers>BootTrigger"`
	Time *struct {
		Interval string `xml:"Repetition>Interval"`
		Duration string `xml:"Repetition>Duration"`
		Start    string `xml:"StartBoundary"`
		Enabled  bool   `xml:"Enabled"`
	} `xml:"Triggers>TimeTrigger"`
	UserID    string `xml:"Principals>Principal>UserId"`
	LogonType string `xml:"Principals>Principal>LogonType"`
	RunLevel  string `xml:"Principals>Principal>RunLevel"`
	Multi     string `xml:"Settings>MultipleInstancesPolicy"`
	Battery   bool   `xml:"Settings>DisallowStartIfOnBatteries"`
	Limit     string `xml:"Settings>ExecutionTimeLimit"`
	Enabled   bool   `xml:"Settings>Enabled"`
	Exec      []struct {
		Command   string `xml:"Command"`
		Arguments string `xml:"Arguments"`
	} `xml:"Actions>Exec"`
}

// decodeUTF16 reads what schtasks /XML reads: UTF-16LE after a BOM.
func decodeUTF16(t *testing.T, b []byte) string {
	t.Helper()
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xFE || len(b)%2 != 0 {
		t.Fatalf("task XML is not UTF-16LE with a byte-order mark: % x", b[:min(len(b), 8)])
	}
	u := make([]uint16, (len(b)-2)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2+2*i:])
	}
	return string(utf16.Decode(u))
}

func parseTask(t *testing.T, b []byte) (taskXML, string) {
	t.Helper()
	s := decodeUTF16(t, b)
	var tk taskXML
	d := xml.NewDecoder(strings.NewReader(s))
	// The document says UTF-16 (true of the bytes on disk); the decoded
	// string is UTF-8 already.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := d.Decode(&tk); err != nil {
		t.Fatalf("task XML does not parse: %v\n%s", err, s)
	}
	return tk, s
}

func TestUpdateTaskXML(t *testing.T) {
	exe := `C:\Program Files\ScanBox & Co\scanbox.exe`
	tk, s := parseTask(t, UpdateTaskXML(exe))
	if tk.UserID != "S-1-5-18" || tk.RunLevel != "HighestAvailable" || tk.LogonType != "" {
		t.Errorf("principal %q/%q/%q, want SYSTEM (S-1-5-18), highest", tk.UserID, tk.RunLevel, tk.LogonType)
	}
	if tk.Boot == nil || !tk.Boot.Enabled {
		t.Error("no enabled start-up trigger")
	}
	if tk.Time == nil || !tk.Time.Enabled || tk.Time.Interval != "PT5M" || tk.Time.Duration != "" || tk.Time.Start == "" {
		t.Errorf("time trigger %+v, want every 5 minutes, indefinitely", tk.Time)
	}
	if len(tk.Exec) != 1 || tk.Exec[0].Command != `"`+exe+`"` || tk.Exec[0].Arguments != "update --install-staged --if-requested" {
		t.Errorf("action %+v, want the quoted exe and update --install-staged --if-requested", tk.Exec)
	}
	if tk.Multi != "IgnoreNew" || tk.Battery || tk.Limit != "PT1H" || !tk.Enabled {
		t.Errorf("settings: instances %q, no start on battery %v, limit %q, enabled %v", tk.Multi, tk.Battery, tk.Limit, tk.Enabled)
	}
	// Users may start it (schtasks /Run from the cashier's ScanBox) but
	// neither change nor delete it.
	if tk.SD != "D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;GRGX;;;AU)" {
		t.Errorf("security descriptor %q", tk.SD)
	}
	if !strings.Contains(s, "\r\n") || strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") {
		t.Error("line ends are not CRLF throughout")
	}
}

func TestRegisterUpdateTask(t *testing.T) {
	exe := `C:\Program Files\ScanBox\scanbox.exe`
	var ran []string
	var onDisk []byte
	err := RegisterUpdateTask(context.Background(), exe, func(_ context.Context, name string, args ...string) error {
		ran = append([]string{name}, args...)
		if len(args) > 0 {
			onDisk, _ = os.ReadFile(args[len(args)-1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"schtasks", "/Create", "/F", "/TN", `\ScanBox\Update`, "/XML"}
	if len(ran) != len(want)+1 || strings.Join(ran[:len(want)], "|") != strings.Join(want, "|") {
		t.Fatalf("ran %q, want %q FILE", ran, want)
	}
	if !bytes.Equal(onDisk, UpdateTaskXML(exe)) {
		t.Error("the file given to schtasks is not UpdateTaskXML")
	}
	if _, err := os.Stat(ran[len(ran)-1]); !os.IsNotExist(err) {
		t.Errorf("task XML %s left behind: %v", ran[len(ran)-1], err)
	}
	// A refused registration is an error (the MSI then fails, rather than
	// leaving a PC that never updates).
	if err := RegisterUpdateTask(context.Background(), exe, func(context.Context, string, ...string) error {
		return exitCode(1)
	}); err == nil || !strings.Contains(err.Error(), `\ScanBox\Update`) {
		t.Errorf("refused registration: %v", err)
	}

	ran = nil
	if err := UnregisterUpdateTask(context.Background(), func(_ context.Context, name string, args ...string) error {
		ran = append([]string{name}, args...)
		return nil
	}); err != nil || strings.Join(ran, " ") != `schtasks /Delete /F /TN \ScanBox\Update` {
		t.Errorf("unregister ran %q: %v", ran, err)
	}
}

// stageDirect stages a release signed by key in dir the way the agent
// leaves it (updates/VERSION/{manifest.json,scanbox-VERSION.msi},
// updates/staged.json), without a fleet.
func stageDirect(t *testing.T, dir string, key ed25519.PrivateKey, v string, msi []byte) {
	t.Helper()
	sum := sha256.Sum256(msi)
	sm, err := proto.SignManifest(proto.Manifest{Version: v, Expires: time.Now().Add(time.Hour), MSIName: "ScanBox-" + v + ".msi",
		MSISize: int64(len(msi)), MSISHA256: hex.EncodeToString(sum[:]), SignedAt: time.Now()}, key)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(sm)
	d := filepath.Join(dir, "updates", v)
	os.MkdirAll(d, 0o755)
	os.WriteFile(filepath.Join(d, "manifest.json"), raw, 0o644)
	os.WriteFile(filepath.Join(d, "scanbox-"+v+".msi"), msi, 0o644)
	b, _ := json.Marshal(Staged{Version: v})
	os.WriteFile(filepath.Join(dir, "updates", "staged.json"), b, 0o644)
}

// The SYSTEM task never runs msiexec from the installed scanbox.exe (which
// msiexec replaces): it verifies, copies itself to a private directory,
// starts the copy and leaves the request for it.
func TestHandOffStartsAPrivateCopy(t *testing.T) {
	key := releaseKey(t)
	oldV := version.Version
	version.Version = "1.1.0"
	defer func() { version.Version = oldV }()
	dir := t.TempDir()
	self := filepath.Join(t.TempDir(), "scanbox.exe")
	os.WriteFile(self, []byte("the installed scanbox.exe"), 0o755)
	msi := fakeMSI(t, 4096)
	stageDirect(t, dir, key, "1.2.0", msi)

	var started []string
	start := func(exe string, args ...string) error {
		started = append([]string{exe}, args...)
		return nil
	}
	if _, err := HandOff(dir, self, start); !errors.Is(err, ErrNoInstallRequest) || started != nil {
		t.Fatalf("no request: %v, started %q", err, started)
	}
	req := filepath.Join(dir, "updates", installRequestFile)
	if err := writeInstallRequest(dir, Staged{Version: "1.2.0"}); err != nil {
		t.Fatal(err)
	}
	s, err := HandOff(dir, self, start)
	if err != nil || s.Version != "1.2.0" || len(started) == 0 {
		t.Fatalf("HandOff: %+v %v, started %q", s, err, started)
	}
	cp := started[0]
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(cp)) })
	if b, err := os.ReadFile(cp); err != nil || string(b) != "the installed scanbox.exe" {
		t.Errorf("the copy %s is not the running program: %q %v", cp, b, err)
	}
	if filepath.Dir(cp) == filepath.Dir(self) || !strings.HasPrefix(filepath.Base(filepath.Dir(cp)), copyDirPrefix) {
		t.Errorf("copy at %s, want a private %s* directory away from the installed program", cp, copyDirPrefix)
	}
	if fi, err := os.Stat(filepath.Dir(cp)); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("copy directory not private: %v %v", fi.Mode(), err)
	}
	want := append(append([]string{}, UpdateTaskArgs...), CopyFlag, "--data-dir", dir)
	if strings.Join(started[1:], "|") != strings.Join(want, "|") {
		t.Errorf("copy started with %q, want %q", started[1:], want)
	}
	if _, err := os.Stat(req); err != nil {
		t.Errorf("the request must be left for the copy to consume: %v", err)
	}

	// A staged file altered after staging: refused before any copy, the
	// request consumed and the refusal recorded for the next report.
	msi[100] ^= 1
	os.WriteFile(filepath.Join(dir, "updates", "1.2.0", "scanbox-1.2.0.msi"), msi, 0o644)
	started = nil
	if _, err := HandOff(dir, self, start); !errors.Is(err, proto.ErrMSIHash) || started != nil {
		t.Errorf("tampered: %v, started %q", err, started)
	}
	if _, err := os.Stat(req); !os.IsNotExist(err) {
		t.Errorf("a refused request was left to be retried every 5 minutes: %v", err)
	}
	var res proto.InstallResult
	b, _ := os.ReadFile(filepath.Join(dir, "updates", lastInstallFile))
	if json.Unmarshal(b, &res) != nil || res.OK || res.Version != "1.2.0" || !strings.Contains(res.Error, "does not match the signed manifest") {
		t.Errorf("refusal not recorded: %s", b)
	}

	// The copy cannot be started: recorded, nothing left behind.
	msi[100] ^= 1
	os.WriteFile(filepath.Join(dir, "updates", "1.2.0", "scanbox-1.2.0.msi"), msi, 0o644)
	writeInstallRequest(dir, Staged{Version: "1.2.0"})
	var tried string
	_, err = HandOff(dir, self, func(exe string, _ ...string) error { tried = exe; return errors.New("access denied") })
	if err == nil || tried == "" {
		t.Fatalf("start failure: %v", err)
	}
	if _, serr := os.Stat(filepath.Dir(tried)); !os.IsNotExist(serr) {
		t.Errorf("copy directory left after a failed start: %v", serr)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "updates", lastInstallFile))
	if json.Unmarshal(b, &res) != nil || res.OK || !strings.Contains(res.Error, "access denied") {
		t.Errorf("start failure not recorded: %s", b)
	}
}
