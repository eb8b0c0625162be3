package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"io"
	"os"
	"strings"
	"testing"
	"unicode/utf16"
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
