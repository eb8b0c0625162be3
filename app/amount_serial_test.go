package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const displayTestdata = "../capture/display/testdata"

func runAmount(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"amount", "--source", "serial"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAmountSerialFile(t *testing.T) {
	for _, name := range []string{"led8_ascii", "led8_binary", "cd5220", "escpos", "text"} {
		want, err := os.ReadFile(filepath.Join(displayTestdata, name+".want"))
		if err != nil {
			t.Fatal(err)
		}
		code, out, errs := runAmount("--file", filepath.Join(displayTestdata, name+".bin"))
		if code != exitOK || out != string(want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", name, code, out, errs, want)
		}
	}
}

// TestAmountSerialFileProfiles replays every driver capture with its
// display's profile (--profile NAME) and with auto, which reads it or, for
// a lamp dialect it cannot tell apart, refuses in one line naming the
// profile to try.
func TestAmountSerialFileProfiles(t *testing.T) {
	tests := []struct {
		name, profile string
		autoTry       string // non-empty: auto reports nothing and names this profile
	}{
		{"partner_cd7111", "partner", "partner"},
		{"wintec_cd110", "wintec", ""},
		{"hisense_vc110a", "hisense", ""},
		{"citaq_pd6108", "citaq", ""},
		{"ejeton_vfd8c", "ejeton", "ejeton"},
		{"wincor_ba63", "wincor", ""},
		{"ibm_surepos", "ibm", ""},
		{"electron_gb18030", "epson", ""},
		{"aedex", "aedex", ""},
	}
	for _, tt := range tests {
		want, err := os.ReadFile(filepath.Join(displayTestdata, tt.name+".want"))
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(displayTestdata, tt.name+".bin")
		code, out, errs := runAmount("--file", file, "--profile", tt.profile)
		if code != exitOK || out != string(want) {
			t.Errorf("%s --profile %s: exit %d, stdout %q, stderr %q; want %q", tt.name, tt.profile, code, out, errs, want)
		}
		code, out, errs = runAmount("--file", file)
		switch {
		case tt.autoTry == "" && (code != exitOK || out != string(want)):
			t.Errorf("%s under auto: exit %d, stdout %q, stderr %q; want %q", tt.name, code, out, errs, want)
		case tt.autoTry != "" && (code != exitFailed || out != "" || !strings.Contains(errs, "--profile "+tt.autoTry) || strings.Count(errs, "\n") != 1):
			t.Errorf("%s under auto: exit %d, stdout %q, stderr %q; want nothing and one line naming %s", tt.name, code, out, errs, tt.autoTry)
		}
	}
}

func TestAmountSerialExplain(t *testing.T) {
	file := filepath.Join(displayTestdata, "partner_cd7111.bin")
	code, out, errs := runAmount("--file", file, "--explain")
	for _, want := range []string{"frames:", "ESC s 0x03", "partner: 7.50 11.50 11.50 1234.50", "reported with auto: nothing", "why: LED-8 pole", "try: --profile partner"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("--explain: exit %d, stderr %q, stdout lacks %q:\n%s", code, errs, want, out)
		}
	}
	code, out, _ = runAmount("--file", file, "--explain", "--profile", "partner")
	if code != exitOK || !strings.Contains(out, "reported with partner: 7.50 11.50 11.50 1234.50") {
		t.Errorf("--explain --profile partner: exit %d:\n%s", code, out)
	}
	code, _, errs = runAmount("--port", "COM1", "--explain")
	if code != exitUsage || !strings.Contains(errs, "--explain needs --file") {
		t.Errorf("--explain with --port: exit %d, stderr %q", code, errs)
	}
}

func TestAmountSerialFileJSONAndOnce(t *testing.T) {
	code, out, _ := runAmount("--file", filepath.Join(displayTestdata, "cd5220.bin"), "--json", "--once", "--profile", "cd5220")
	if code != exitOK || out != `{"amount_fen":350,"kind":"total","profile":"cd5220"}`+"\n" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}

func TestAmountSerialErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.bin")
	os.WriteFile(empty, []byte("\x1b@\x0cHello\r\n"), 0o644)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--file", empty}, exitFailed, "no total found"},
		{[]string{}, exitUsage, "either --port"},
		{[]string{"--port", "COM1", "--file", empty}, exitUsage, "either --port"},
		{[]string{"--file", filepath.Join(dir, "nope.bin")}, exitUsage, "cannot read"},
		{[]string{"--file", empty, "--profile", "vfd"}, exitUsage, "unknown profile"},
		{[]string{"--port", "COM1", "--parity", "x"}, exitUsage, "parity"},
		{[]string{"--port", "COM1", "--stop-bits", "3"}, exitUsage, "stop bits"},
		{[]string{"--port", "COM1", "--data-bits", "9"}, exitUsage, "data bits"},
		{[]string{"--file", empty, "extra"}, exitUsage, "unexpected argument"},
		{[]string{"--file", empty, "--record", "x.bin"}, exitUsage, "need --port"},
		{[]string{"--bogus"}, exitUsage, "bogus"},
	}
	for _, tt := range tests {
		code, _, errs := runAmount(tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tt.args, code, errs, tt.code, tt.msg)
		}
		if code != exitOK && strings.Count(strings.TrimSpace(errs), "\n") > 0 && tt.args[0] != "--bogus" {
			t.Errorf("%v: stderr is not one line: %q", tt.args, errs)
		}
	}
}

// TestAmountSerialLiveOnce runs the command against a socat pty pair, as a
// POS would drive it: --once prints the first total and exits 0.
func TestAmountSerialLiveOnce(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat is not installed")
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	cmd := exec.Command("socat", "pty,raw,echo=0,link="+a, "pty,raw,echo=0,link="+b)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(b); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("socat made no ptys")
		}
	}
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errs := runAmount("--port", a, "--baud", "2400", "--once", "--json", "--record", filepath.Join(dir, "rec.bin"))
		done <- result{code, out, errs}
	}()
	pos, err := os.OpenFile(b, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pos.Close()
	// Write until the command has the port open and reads the total; the
	// first writes may land before it opened the port.
	frame := []byte("\x1b@\x1bs2\x1bQA88.00\r")
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	guard := time.After(10 * time.Second)
	for {
		select {
		case r := <-done:
			if r.code != exitOK || r.out != `{"amount_fen":8800,"kind":"total","profile":"led8"}`+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
			}
			// The recording replays to the same total.
			code, out, _ := runAmount("--file", filepath.Join(dir, "rec.bin"), "--once")
			if code != exitOK || out != "88.00\n" {
				t.Errorf("replay of the recording: exit %d, stdout %q", code, out)
			}
			return
		case <-tick.C:
			pos.Write(frame)
		case <-guard:
			t.Fatal("amount --once did not exit")
		}
	}
}
