package fleet_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scanbox/scanbox/fleet"
	"github.com/scanbox/scanbox/fleet/internal/fleettest"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/sim"
	"github.com/scanbox/scanbox/fleet/store"
)

// chromiumPath finds Debian's chromium. Without it the browser test skips,
// except in CI (CI=true), where it must run.
func chromiumPath(t *testing.T) string {
	for _, p := range []string{os.Getenv("SCANBOX_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found and CI=true: install Debian's chromium (apt-get install chromium)")
	}
	t.Skip("chromium not installed (apt-get install chromium); the console browser test needs it")
	return ""
}

// shotDir is where screenshots go: SCANBOX_FLEET_SCREENSHOTS (e.g.
// docs/screenshots) or a temporary directory.
func shotDir(t *testing.T) string {
	if d := os.Getenv("SCANBOX_FLEET_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// seed fills a fleet with terminals, a day of reports and some trouble.
func seed(t *testing.T, st *store.Store, url string) (*sim.Terminal, *sim.Terminal) {
	ctx := context.Background()
	codes, err := st.CreateEnrollmentCodes(ctx, 13, "seed")
	if err != nil {
		t.Fatal(err)
	}
	var terms []*sim.Terminal
	for i := 0; i < 12; i++ {
		tm := sim.New(url, nil, proto.Identity{MchID: fmt.Sprintf("898310058%02d", i/3), TerminalID: fmt.Sprintf("POS%03d", i), TerminalSN: fmt.Sprintf("SB2026%04d", i), DeviceID: fmt.Sprintf("pc-%02d", i)}, "1.1.0")
		if _, err := tm.Enroll(ctx, codes[i]); err != nil {
			t.Fatal(err)
		}
		terms = append(terms, tm)
	}
	now := time.Now()
	for h := 23; h >= 0; h-- {
		for i, tm := range terms[:10] {
			hb := tm.Report([]proto.PaymentCount{
				{Channel: "wechat", Outcome: proto.OutcomePaid, Count: int64(5 + (i+h)%7), SumFen: int64(8000 + 1500*((i*h)%9))},
				{Channel: "alipay", Outcome: proto.OutcomeFailed, Count: int64((i * h) % 3 / 2)},
				{Channel: "alipay", Outcome: proto.OutcomeUnknown, Count: int64(boolInt(i == 3 && h%4 == 0))},
			})
			hb.At = now.Add(-time.Duration(h) * time.Hour)
			hb.Scanner.USBVIDPID, hb.Scanner.USBSerial, hb.Scanner.Model = "1EAB:0D10", fmt.Sprintf("NL%06d", i), "Newland FM30"
			if i == 2 && h == 0 {
				old := now.Add(-9 * time.Minute)
				hb.OldestUnresolvedAt, hb.UnresolvedOrders = &old, 1
				hb.Scanner.State = proto.StateFailing
			}
			if i == 5 {
				hb.ClockOffsetMs = 95_000
			}
			if _, err := tm.Heartbeat(ctx, hb); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A copied installation: POS001's identity enrolled from another PC.
	cp := sim.New(url, nil, proto.Identity{MchID: terms[1].Identity.MchID, TerminalID: terms[1].Identity.TerminalID, TerminalSN: terms[1].Identity.TerminalSN, DeviceID: "pc-copy"}, "1.1.0")
	if _, err := cp.Enroll(ctx, codes[12]); err != nil {
		t.Fatal(err)
	}
	return terms[0], cp
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestConsoleInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	dbs := fleettest.DBs()
	st, _ := dbs[0].Open(t) // the browser flow on SQLite; storage is tested on both
	srv := fleet.New(st, fleet.Options{})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	first, _ := seed(t, st, hs.URL)
	h, _ := fleet.HashPassword("console-pass")
	st.AddUser(context.Background(), "admin", store.RoleAdmin, h)

	// A signed release to publish through the form.
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	msi := []byte("pretend scanbox-1.2.0.msi")
	sum := sha256.Sum256(msi)
	sm, _ := proto.SignManifest(proto.Manifest{Version: "1.2.0", MinVersion: "1.0.0", Expires: time.Now().Add(30 * 24 * time.Hour), MSIName: "scanbox-1.2.0.msi", MSISize: int64(len(msi)), MSISHA256: hex.EncodeToString(sum[:]), SignedAt: time.Now()}, priv)
	mj, _ := json.Marshal(sm)
	os.WriteFile(filepath.Join(dir, "scanbox-1.2.0.json"), mj, 0o644)
	os.WriteFile(filepath.Join(dir, "scanbox-1.2.0.msi"), msi, 0o644)

	shots := shotDir(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0], chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts,
		chromedp.ExecPath(chrome), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()

	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			ctx, cancel2 := context.WithTimeout(ctx, 90*time.Second)
			defer cancel2()
			shot := func(name string) chromedp.Action[chromedp.Void] {
				return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
					buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
					if err != nil {
						return err
					}
					return os.WriteFile(filepath.Join(shots, "fleet-"+name+"-"+lang+".png"), buf, 0o644)
				})
			}
			want := map[string][2]string{
				"terminals": {"终端", "Terminals"}, "waiting": {"等待终端上报", "Waiting for the terminal"},
				"uploaded": {"已上传", "Uploaded"}, "paused": {"已暂停", "Paused"}, "copy": {"设备更换 / 安装被复制", "device changed / copied installation"},
				"takings": {"每小时交易额", "Takings per hour"},
			}
			w := func(k string) string {
				if lang == "en" {
					return want[k][1]
				}
				return want[k][0]
			}
			do := func(step string, acts ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, acts...); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
			}
			text := func(sel string) string {
				t.Helper()
				s, err := chromedp.Run(ctx, chromedp.Text(sel))
				if err != nil {
					t.Fatalf("text of %s: %v", sel, err)
				}
				return s
			}
			count := func(sel string) int {
				t.Helper()
				n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
				if err != nil {
					t.Fatalf("count %s: %v", sel, err)
				}
				return n
			}
			// Log in.
			do("login page", chromedp.Navigate(hs.URL+"/login?lang="+lang), chromedp.WaitVisible("#login-button"), shot("login"))
			do("log in", chromedp.SendKeys("#name", "admin"), chromedp.SendKeys("#password", "console-pass"),
				chromedp.Click("#login-button"), chromedp.WaitVisible("#terminals"), shot("terminals"))
			if h1, total := text("h1"), text("#total"); !strings.Contains(h1, w("terminals")) || total != "13" {
				t.Fatalf("terminals page: h1 %q total %q", h1, total)
			}
			// Filter by state: with alerts.
			do("filter", chromedp.SetValue("#state", "alert"), chromedp.Click("#search"), chromedp.WaitVisible("#terminals"))
			if total := text("#total"); total == "13" || total == "0" {
				t.Errorf("alert filter total %s", total)
			}
			// A terminal's page.
			do("terminal page", chromedp.Navigate(hs.URL+"/terminals/"+first.UID), chromedp.WaitVisible("#checks"), shot("terminal"))
			if checks, n := text("#checks"), count("#checks li"); !strings.Contains(checks, "✔") || n < 10 {
				t.Errorf("checklist %q (%d items)", checks, n)
			}
			// Request logs; the terminal uploads at its next heartbeat.
			do("request logs", chromedp.Click("#request-logs"), chromedp.WaitVisible(".flash"))
			if lr := text("#log-requests"); !strings.Contains(lr, w("waiting")) || !strings.Contains(lr, "admin") {
				t.Errorf("log requests table %q", lr)
			}
			resp, err := first.Heartbeat(context.Background(), first.Report(nil))
			if err != nil || resp.LogRequest == nil {
				t.Fatalf("log request not delivered: %+v %v", resp, err)
			}
			if _, err := first.Do(context.Background(), http.MethodPost, proto.PathLogUpload+"/"+resp.LogRequest.ID, []byte("PK\x03\x04 redacted bundle"), nil); err != nil {
				t.Fatal(err)
			}
			do("logs uploaded", chromedp.Reload(), chromedp.WaitVisible("#log-requests"), chromedp.ScrollIntoView("#log-requests"), shot("request-logs"))
			if lr := text("#log-requests"); !strings.Contains(lr, w("uploaded")) {
				t.Errorf("after upload %q", lr)
			}
			// Publish a release, then pause it.
			do("publish", chromedp.Navigate(hs.URL+"/releases"), chromedp.WaitVisible("#publish-form"),
				chromedp.SetUploadFiles("#manifest", []string{filepath.Join(dir, "scanbox-1.2.0.json")}),
				chromedp.SetUploadFiles("#msi", []string{filepath.Join(dir, "scanbox-1.2.0.msi")}),
				chromedp.SetValue("#cohort", "25"), chromedp.Click("#publish"), chromedp.WaitVisible(`#release-1\.2\.0`))
			do("pause", chromedp.Click(`#release-1\.2\.0 button.pause`), chromedp.WaitVisible(`#release-1\.2\.0 button.resume`), shot("releases"))
			if row := text(`#release-1\.2\.0`); !strings.Contains(row, w("paused")) || !strings.Contains(row, "25%") {
				t.Errorf("release row %q", row)
			}
			rels, _ := st.ListReleases(context.Background())
			if len(rels) != 1 || !rels[0].Paused || rels[0].Cohort != 25 {
				t.Errorf("stored release %+v", rels)
			}
			// Resume for the next language's run (it publishes again).
			do("resume", chromedp.Click(`#release-1\.2\.0 button.resume`), chromedp.WaitVisible(`#release-1\.2\.0 button.pause`))
			// Alerts.
			do("alerts", chromedp.Navigate(hs.URL+"/alerts"), chromedp.WaitVisible("#alerts"), shot("alerts"))
			if al := text("#alerts"); !strings.Contains(al, w("copy")) {
				t.Errorf("alerts page lacks the copied installation: %q", al)
			}
			// Monitoring charts (server-side SVG).
			do("monitoring", chromedp.Navigate(hs.URL+"/monitoring"), chromedp.WaitVisible("#charts svg"), shot("monitoring"))
			if bars, svg := count("#charts svg rect.bar"), text("#charts"); bars != 48 || !strings.Contains(svg, w("takings")) {
				t.Errorf("charts: %d bars, text %q", bars, svg)
			}
		})
	}
	// The publish/pause clicks were audited.
	a, _ := st.ListAudit(context.Background(), 100)
	var acts []string
	for _, x := range a {
		acts = append(acts, x.Action)
	}
	for _, want := range []string{"login", "logs_request", "release_publish", "release_rollout"} {
		if !strings.Contains(strings.Join(acts, " "), want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}
