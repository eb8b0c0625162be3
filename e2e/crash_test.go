package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scanbox/scanbox/order"
	"github.com/scanbox/scanbox/payclient/banksim"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildScanbox compiles the real program once per test binary run.
func buildScanbox(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the crash tests send SIGKILL; they run on Linux")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "scanbox-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "scanbox")
		// scanbox_testhooks: the e2e harness plays "another PC" with
		// SCANBOX_TESTHOOK_MACHINE_ID (deviceid); release builds lack it.
		cmd := exec.Command("go", "build", "-tags", "scanbox_testhooks", "-o", builtBin, "github.com/scanbox/scanbox/app")
		cmd.Stderr = os.Stderr
		buildErr = cmd.Run()
	})
	if buildErr != nil {
		t.Fatalf("building scanbox: %v", buildErr)
	}
	return builtBin
}

// TestMain removes the program built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// startBanksim runs `scanbox banksim` and returns its base URL.
func startBanksim(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"banksim", "--addr", "127.0.0.1:0"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	var first, base string
	for sc.Scan() {
		line := sc.Text()
		if first == "" {
			first = line
		}
		if rest, ok := strings.CutPrefix(line, "base URL "); ok {
			base = strings.Fields(rest)[0]
			break
		}
	}
	if !strings.HasPrefix(first, "listening on http://127.0.0.1:") {
		t.Fatalf("banksim's first line is %q", first)
	}
	if base == "" {
		t.Fatal("banksim printed no base URL")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return base
}

func run(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if stderr.Len() > 0 {
		t.Logf("%s: stderr: %s", args[0], strings.TrimSpace(stderr.String()))
	}
	return string(out), code
}

type cliOrder struct {
	OutTradeNo    string `json:"out_trade_no"`
	State         string `json:"state"`
	AmountFen     int64  `json:"amount_fen"`
	Channel       string `json:"channel"`
	CreatedAt     string `json:"created_at"`
	CodeMasked    string `json:"code_masked"`
	TransactionID string `json:"transaction_id"`
	ErrCode       string `json:"err_code"`
}

// TestCrashKill9DuringPayments kills `scanbox pay` with SIGKILL at random
// moments of 30 payments (with a bank that also misbehaves), then runs
// `scanbox resolve`: every order must end as the bank's ledger has it, and
// no code may be paid twice.
func TestCrashKill9DuringPayments(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildScanbox(t)
	base := startBanksim(t, bin, "--password-delay", "300ms", "--fault-rate", "0.15", "--slow", "700ms", "--seed", "7")
	dir := t.TempDir()
	if out, code := run(t, bin, "activate", "--data-dir", dir, "--url", base, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != 0 {
		t.Fatalf("activate exit %d: %s", code, out)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	for i := 0; i < 30; i++ {
		code := randomCode(t, i)
		cmd := exec.Command(bin, "pay", "--data-dir", dir, "--amount", fmt.Sprintf("%d.%02d", 1+i, i), "--code", code,
			"--json", "--poll-interval", "50ms", "--poll-timeout", "1500ms", "--http-timeout", "400ms")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Anywhere from before the journal write to deep in the polling.
		time.Sleep(time.Duration(rng.IntN(900)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			kills++
		}
		cmd.Wait()
	}
	if kills < 20 {
		t.Fatalf("only %d kills landed; the test needs at least 20", kills)
	}
	// The kills must have left work for resolve, or this test proves nothing.
	out, code := run(t, bin, "orders", "--data-dir", dir, "--json", "--limit", "1000")
	if code != 0 {
		t.Fatalf("orders exit %d", code)
	}
	var before []cliOrder
	if err := json.Unmarshal([]byte(out), &before); err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, o := range before {
		if st, _ := order.ParseState(o.State); !st.Terminal() {
			open++
		}
	}
	if open < 5 {
		t.Fatalf("only %d of %d orders were left unresolved by the kills", open, len(before))
	}
	// The bank still misbehaves (15 % faults), so one round may leave an
	// order unknown (exit 3); support runs resolve again until it is clean.
	rounds := resolveUntilClean(t, bin, dir)
	n := journalEqualsLedger(t, bin, dir, base)
	t.Logf("%d kills, %d orders journaled (%d unresolved before resolve, %d resolve rounds)", kills, n, open, rounds)
}

// TestReactivationRefusedWhileUnresolved: switching the data directory to
// another terminal while an order of the first is unresolved would let the
// new terminal "close" a number its bank never saw, and the code could then
// be charged twice; re-activating the same terminal would replace the key
// the order is resolved with. activate must refuse until resolve has run.
func TestReactivationRefusedWhileUnresolved(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildScanbox(t)
	base := startBanksim(t, bin, "--terminal", "T0001,T0002", "--password-delay", "1h")
	dir := t.TempDir()
	act := func(term string) (string, int) {
		return run(t, bin, "activate", "--data-dir", dir, "--url", base, "--mch", banksim.DefaultMchID,
			"--terminal", term, "--code", banksim.DefaultActivationCode)
	}
	if _, code := act("T0001"); code != 0 {
		t.Fatalf("activate T0001 exit %d", code)
	}
	// A payer who is still typing the password when pay is killed.
	cmd := exec.Command(bin, "pay", "--data-dir", dir, "--amount", "5.00", "--code", "134567890123456784",
		"--poll-interval", "50ms", "--poll-timeout", "1h")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	waiting := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "waiting for the payer") {
			waiting = true
			break
		}
	}
	if !waiting {
		cmd.Wait()
		t.Fatal("scanbox pay ended before the payer was confirming")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, code := act("T0002"); code != 3 {
		t.Fatalf("activating another terminal with an unresolved order: exit %d, want 3", code)
	}
	// Re-activation of the same terminal is refused too (issue 8): the new
	// key would invalidate the one the open order is resolved with.
	if _, code := act("T0001"); code != 3 {
		t.Fatalf("re-activating the same terminal with an unresolved order: exit %d, want 3", code)
	}
}

// TestErrorsAreOneLine: a refused command says why in exactly one line on
// stderr, even under LANG=C.UTF-8 where the GUI toolkit used to complain.
func TestErrorsAreOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildScanbox(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"orders", "--data-dir", dir},
		{"pay", "--data-dir", dir, "--amount", "1.00", "--code", "134567890123456780"},
		{"pay", "--data-dir", dir, "--amount", "12.505", "--code", "134567890123456780"},
		{"pay", "--data-dir", dir, "--amount", "1.00", "--code", "6901234567892"},
		{"nosuchcommand"},
		{}, // the tray app with no display to show it on
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", "DISPLAY=", "WAYLAND_DISPLAY=")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		if err == nil {
			t.Errorf("%v: succeeded, want a refusal", args)
		}
		lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
		if len(lines) != 1 || lines[0] == "" {
			t.Errorf("%v: stderr has %d lines: %q", args, len(lines), stderr.String())
		}
	}
}

// TestPaymentsWithoutOCRRuntime: OCR is optional. The scanbox program links
// no Tesseract (it runs in the scanbox-ocr helper), so with the helper or its
// runtime missing, `amount --source ocr` fails with one sentence and `pay`
// still takes the payment.
func TestPaymentsWithoutOCRRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildScanbox(t)
	if out, err := exec.Command("readelf", "-d", bin).Output(); err == nil && strings.Contains(string(out), "tesseract") {
		t.Fatalf("scanbox links Tesseract directly:\n%s", out)
	}
	base := startBanksim(t, bin)
	dir := t.TempDir()
	env := append(os.Environ(), "SCANBOX_OCR="+filepath.Join(t.TempDir(), "no-such-helper"), "PATH=/nonexistent")
	img, err := filepath.Abs("../capture/ocr/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	img = filepath.Join(img, "r000.png")

	runEnv := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}
	_, stderr, code := runEnv("amount", "--source", "ocr", "--image", img)
	if code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "OCR is unavailable") {
		t.Fatalf("amount without OCR: exit %d, stderr %q", code, stderr)
	}
	if _, _, code := runEnv("activate", "--data-dir", dir, "--url", base, "--mch", banksim.DefaultMchID,
		"--terminal", banksim.DefaultTerminalID, "--code", banksim.DefaultActivationCode); code != 0 {
		t.Fatalf("activate exit %d", code)
	}
	out, stderr, code := runEnv("pay", "--data-dir", dir, "--amount", "12.50", "--code", "134567890123456780", "--json")
	if code != 0 || !strings.Contains(out, `"state":"paid"`) {
		t.Fatalf("pay without OCR: exit %d, %s %s", code, out, stderr)
	}
}
