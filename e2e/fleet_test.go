package e2e

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/deviceid"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/version"
)

var (
	fleetBuildOnce sync.Once
	fleetBin       string
	fleetBuildErr  error
)

// buildFleet compiles scanbox-fleet once per test run, beside scanbox.
func buildFleet(t *testing.T) string {
	t.Helper()
	sb := buildScanbox(t)
	fleetBuildOnce.Do(func() {
		fleetBin = filepath.Join(filepath.Dir(sb), "scanbox-fleet")
		cmd := exec.Command("go", "build", "-o", fleetBin, "github.com/scanbox/scanbox/cmd/scanbox-fleet")
		cmd.Stderr = os.Stderr
		fleetBuildErr = cmd.Run()
	})
	if fleetBuildErr != nil {
		t.Fatalf("building scanbox-fleet: %v", fleetBuildErr)
	}
	return fleetBin
}

// startFleetServer runs `scanbox-fleet serve` on addr with its SQLite
// database in dir and returns its base URL.
func startFleetServer(t *testing.T, bin, dir, addr string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatal("scanbox-fleet serve printed nothing")
	}
	base, ok := strings.CutPrefix(sc.Text(), "listening on ")
	if !ok {
		t.Fatalf("scanbox-fleet serve's first line is %q", sc.Text())
	}
	go io.Copy(io.Discard, out)
	return cmd, base
}

func fleetCLI(t *testing.T, bin, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--data-dir", dir)...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scanbox-fleet %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// startServeOn runs `scanbox serve` as on PC pc with a heartbeat every iv.
func startServeOn(t *testing.T, bin, dir, pc string, iv time.Duration) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data-dir", dir)
	cmd.Env = append(os.Environ(), deviceid.TestHookEnv+"="+pc, core.FleetIntervalTestHookEnv+"="+iv.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "serving "+dir {
		t.Fatalf("serve's first line is %q", sc.Text())
	}
	go io.Copy(io.Discard, out)
	return cmd
}

type apiTerminal struct {
	MchID            string   `json:"mch_id"`
	TerminalID       string   `json:"terminal_id"`
	TerminalSN       string   `json:"terminal_sn"`
	DeviceID         string   `json:"device_id"`
	AppVersion       string   `json:"app_version"`
	LastSeen         string   `json:"last_seen"`
	Online           bool     `json:"online"`
	UnresolvedOrders int      `json:"unresolved_orders"`
	Alerts           []string `json:"alerts"`
	UID              string   `json:"terminal_uid"`
}

func terminals(t *testing.T, base, token string) []apiTerminal {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/terminals", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ts []apiTerminal
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /api/v1/terminals: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

// eventually polls fn every 100 ms until it says true or d passes.
func eventually(t *testing.T, d time.Duration, what string, fn func() bool) {
	t.Helper()
	for end := time.Now().Add(d); ; {
		if fn() {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// console is a staff member's browser session (cookie, CSRF token).
type console struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func loginConsole(t *testing.T, base, name, pw string) *console {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &console{t: t, base: base, hc: &http.Client{Jar: jar}}
	resp, err := c.hc.PostForm(base+"/login", url.Values{"name": {name}, "password": {pw}, "lang": {"en"}, "next": {"/terminals"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	return c
}

func (c *console) get(path string) string {
	c.t.Helper()
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		c.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *console) post(path string, form url.Values) {
	c.t.Helper()
	m := csrfRE.FindStringSubmatch(c.get("/terminals"))
	if m == nil {
		c.t.Fatal("no CSRF token on the console page")
	}
	form.Set("csrf", m[1])
	resp, err := c.hc.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		c.t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
}

func readSeq(t *testing.T, dir string) uint64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "fleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Seq uint64 `json:"seq"`
	}
	json.Unmarshal(b, &st)
	return st.Seq
}

type fleetStatusJSON struct {
	Joined        bool   `json:"joined"`
	TerminalUID   string `json:"terminal_uid"`
	Queued        int    `json:"queued"`
	ConfigVersion int64  `json:"config_version"`
	LastError     string `json:"last_error"`
}

func fleetStatus(t *testing.T, bin, dir string) fleetStatusJSON {
	t.Helper()
	out, code := run(t, bin, "fleet", "status", "--data-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("fleet status exit %d", code)
	}
	var st fleetStatusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("fleet status --json: %v\n%s", err, out)
	}
	return st
}

// TestFleetEndToEnd (issue 10, must show): a real `scanbox serve` joins a
// real `scanbox-fleet serve` (SQLite), appears in /api/v1/terminals within
// two heartbeats with its version and its unresolved order; a log bundle
// staff request arrives redacted (a payment code and the signing key
// planted in a log file are not in it); a configuration change is applied
// to config.json and reported as applied; a copy of the data directory
// started on another PC raises "device changed"; with the fleet stopped a
// payment succeeds, and the report holding it reaches the fleet once it is
// back.
func TestFleetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binaries")
	}
	bin := buildScanbox(t)
	fbin := buildFleet(t)
	const iv = 2 * time.Second

	// The bank, and a fleet with a staff account, a token and a code.
	bank := startBanksim(t, bin, "--password-delay", "1h")
	fdir := t.TempDir()
	fleetCmd, fleetURL := startFleetServer(t, fbin, fdir, "127.0.0.1:0")
	const pw = "a long password for the test"
	fleetCLI(t, fbin, fdir, pw+"\n", "user", "add", "--name", "admin", "--role", "admin")
	token := fleetCLI(t, fbin, fdir, "", "token", "--user", "admin")
	code := fleetCLI(t, fbin, fdir, "", "enrollment-code", "--count", "1")

	// The shop: activated on PC A, a payer typing a password (in flight).
	orig := t.TempDir()
	if out, errs, c := runOn(t, "pc-a", bin, "activate", "--data-dir", orig, "--url", bank, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); c != 0 {
		t.Fatalf("activate: exit %d: %s %s", c, out, errs)
	}
	cfg, err := config.Load(orig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PollInterval = config.Duration(200 * time.Millisecond)
	cfg.PollTimeout = config.Duration(40 * time.Second)
	cfg.HTTPTimeout = config.Duration(2 * time.Second)
	if err := config.Save(orig, cfg); err != nil {
		t.Fatal(err)
	}
	srv := startServeOn(t, bin, orig, "pc-a", iv)
	typing := randomCode(t, 4) // ends in 4: the payer types a password for an hour
	payer := exec.Command(bin, "pay", "--data-dir", orig, "--amount", "3.00", "--code", typing)
	if err := payer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { payer.Process.Kill(); payer.Wait() })
	eventually(t, 10*time.Second, "the payment in flight", func() bool { return status(t, bin, orig).InFlight == 1 })

	// Join through the running instance: it reports at once.
	if out, c := run(t, bin, "fleet", "join", "--data-dir", orig, "--url", fleetURL, "--code", code); c != 0 {
		t.Fatalf("fleet join exit %d: %s", c, out)
	}
	fst := fleetStatus(t, bin, orig)
	if !fst.Joined || fst.TerminalUID == "" {
		t.Fatalf("fleet status after join: %+v", fst)
	}
	var me apiTerminal
	eventually(t, 3*iv+5*time.Second, "the terminal in /api/v1/terminals", func() bool {
		for _, tm := range terminals(t, fleetURL, token) {
			if tm.TerminalID == banksim.DefaultTerminalID && tm.AppVersion == version.Version && tm.UnresolvedOrders == 1 {
				me = tm
				return true
			}
		}
		return false
	})
	if seq := readSeq(t, orig); seq > 2 {
		t.Errorf("the terminal appeared only after %d heartbeats", seq)
	}
	wantDev, _ := deviceid.Derive("pc-a", banksim.DefaultMchID, banksim.DefaultTerminalID)
	if me.MchID != banksim.DefaultMchID || me.DeviceID != wantDev || !me.Online || me.TerminalSN == "" {
		t.Errorf("terminal at the fleet: %+v", me)
	}
	uid := fst.TerminalUID

	// No release published: the check goes through, nothing offered.
	out, c := run(t, bin, "update", "--check", "--json", "--data-dir", orig)
	var check map[string]any
	if err := json.Unmarshal([]byte(out), &check); err != nil || c != 0 {
		t.Fatalf("update --check: exit %d, %s", c, out)
	}
	for _, k := range []string{"current", "offered", "verified", "staged", "error"} {
		if _, ok := check[k]; !ok {
			t.Errorf("update --check --json lacks %q: %s", k, out)
		}
	}
	if check["current"] != version.Version || check["offered"] != "" || check["error"] != "" {
		t.Errorf("update --check with nothing published: %s", out)
	}
	payer.Process.Kill() // the order goes on in serve; the client is not needed
	payer.Wait()

	// A log bundle: plant what must never leave the PC in a log file.
	key, err := config.LoadKey(orig)
	if err != nil {
		t.Fatal(err)
	}
	leak := fmt.Sprintf("time=2026-12-01T00:00:00Z level=INFO msg=\"leaky line\" code=%s key_hex=%s key_b64=%s\n",
		typing, hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key))
	logs, _ := filepath.Glob(filepath.Join(orig, "logs", "*"))
	if len(logs) == 0 {
		t.Fatal("serve wrote no log file")
	}
	f, err := os.OpenFile(logs[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(leak)
	f.Close()
	staff := loginConsole(t, fleetURL, "admin", pw)
	staff.post("/terminals/"+uid+"/logs", url.Values{})
	logRE := regexp.MustCompile(`href="/logs/([^"]+)"`)
	var logID string
	eventually(t, 3*iv+10*time.Second, "the uploaded log bundle", func() bool {
		if m := logRE.FindStringSubmatch(staff.get("/terminals/" + uid)); m != nil {
			logID = m[1]
			return true
		}
		return false
	})
	bundle := []byte(staff.get("/logs/" + logID))
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil {
		t.Fatalf("the bundle is not a zip: %v", err)
	}
	var all bytes.Buffer
	names := map[string]bool{}
	for _, zf := range zr.File {
		names[filepath.Dir(zf.Name)+"/"] = true
		names[zf.Name] = true
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&all, rc)
		rc.Close()
	}
	if !names["orders.json"] || !names["config.json"] || !names["logs/"] {
		t.Errorf("bundle holds %v; want logs/, orders.json, config.json", names)
	}
	if !strings.Contains(all.String(), "leaky line") {
		t.Error("the planted log line is not in the bundle at all (the test proves nothing)")
	}
	for what, s := range map[string]string{"the payment code": typing, "the key (hex)": hex.EncodeToString(key),
		"the key (base64)": base64.StdEncoding.EncodeToString(key), "the enrollment code": code} {
		if strings.Contains(all.String(), s) {
			t.Errorf("%s reached the fleet in the log bundle", what)
		}
	}

	// A configuration change: applied to config.json, reported as applied.
	staff.post("/terminals/"+uid+"/config", url.Values{"poll_interval_ms": {"400"}, "voice_volume": {"37"}})
	eventually(t, 3*iv+10*time.Second, "the configuration applied", func() bool {
		c, err := config.Load(orig)
		return err == nil && c.Volume == 37 && c.PollInterval.D() == 400*time.Millisecond
	})
	if c, _ := config.Load(orig); c.BankURL != cfg.BankURL || c.MchID != cfg.MchID || c.TerminalID != cfg.TerminalID {
		t.Errorf("the bank identity changed: %+v", c)
	}
	appliedRE := regexp.MustCompile(`: v(\d+) · [^:<]+: v(\d+)`)
	eventually(t, 3*iv+10*time.Second, "the applied version reported", func() bool {
		m := appliedRE.FindStringSubmatch(staff.get("/terminals/" + uid))
		return m != nil && m[1] == m[2] && m[2] != "0"
	})
	if st := fleetStatus(t, bin, orig); st.ConfigVersion == 0 {
		t.Errorf("fleet status shows no applied configuration: %+v", st)
	}

	// The fleet stopped: payments go on; the report is delivered later.
	paidRE := regexp.MustCompile(`Paid (\d+) \(¥([\d.,]+)\)`)
	paidAtFleet := func() int {
		m := paidRE.FindStringSubmatch(staff.get("/terminals/" + uid))
		if m == nil {
			t.Fatal("no paid count on the terminal page")
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	before := paidAtFleet()
	fleetAddr := strings.TrimPrefix(fleetURL, "http://")
	fleetCmd.Process.Signal(syscall.SIGTERM)
	fleetCmd.Wait()
	out, c = run(t, bin, "pay", "--data-dir", orig, "--amount", "12.34", "--code", randomCode(t, 10), "--json")
	var paid cliOrder
	json.Unmarshal([]byte(out), &paid)
	if c != 0 || paid.State != "paid" {
		t.Fatalf("pay with the fleet down: exit %d, %s", c, out)
	}
	eventually(t, 3*iv+5*time.Second, "a report queued while the fleet is down", func() bool {
		st := fleetStatus(t, bin, orig)
		return st.Queued >= 1 && st.LastError != ""
	})
	_, fleetURL2 := startFleetServer(t, fbin, fdir, fleetAddr)
	if fleetURL2 != fleetURL {
		t.Fatalf("the fleet came back at %s, not %s", fleetURL2, fleetURL)
	}
	staff = loginConsole(t, fleetURL, "admin", pw)
	eventually(t, 3*iv+10*time.Second, "the queued reports delivered", func() bool {
		st, n := fleetStatus(t, bin, orig), paidAtFleet()
		t.Logf("queued %d, last error %q, paid at the fleet %d (before the outage %d)", st.Queued, st.LastError, n, before)
		return st.Queued == 0 && n >= before+1
	})
	// A copied installation: the data directory on PC B.
	copied := t.TempDir()
	copyDir(t, orig, copied)
	os.Remove(filepath.Join(copied, "scanbox.sock"))
	cp := startServeOn(t, bin, copied, "pc-b", iv)
	eventually(t, 3*iv+10*time.Second, "the copied-installation alert", func() bool {
		for _, tm := range terminals(t, fleetURL, token) {
			if tm.UID == uid {
				for _, a := range tm.Alerts {
					if a == "device_changed" {
						return true
					}
				}
			}
		}
		return false
	})
	cp.Process.Signal(syscall.SIGTERM)
	cp.Wait()
	// (Last: the copy shares the original's key and report sequence, so
	// the fleet counts the original's next reports only once its sequence
	// passes the copy's; staff disable the copy.)

	if st := status(t, bin, orig); st.Owner == nil || st.Owner.PID != srv.Process.Pid {
		t.Errorf("serve is not the owner any more: %+v", st)
	}
}
