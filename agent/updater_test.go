package agent

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/version"
)

// releaseKey is the test's release officer key, built into the agent for
// the test through ReleasePublicKey (as -ldflags -X does for a release).
func releaseKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	old := ReleasePublicKey
	ReleasePublicKey = base64.StdEncoding.EncodeToString(pub)
	t.Cleanup(func() { ReleasePublicKey = old })
	return priv
}

func fakeMSI(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	copy(b, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}) // OLE header, as an MSI starts
	return b
}

type rel struct {
	version, min string
	expires      time.Time
	msi          []byte // what the manifest describes
	served       []byte // what the server holds (nil: msi)
	key          ed25519.PrivateKey
}

// publish signs r and publishes it on the real fleet server to 100 %.
func publish(t *testing.T, f *testFleet, r rel) proto.SignedManifest {
	t.Helper()
	sum := sha256.Sum256(r.msi)
	if r.expires.IsZero() {
		r.expires = time.Now().Add(30 * 24 * time.Hour)
	}
	sm, err := proto.SignManifest(proto.Manifest{Version: r.version, MinVersion: r.min, Expires: r.expires,
		MSIName: "ScanBox-" + r.version + ".msi", MSISize: int64(len(r.msi)), MSISHA256: hex.EncodeToString(sum[:]), SignedAt: time.Now()}, r.key)
	if err != nil {
		t.Fatal(err)
	}
	served := r.served
	if served == nil {
		served = r.msi
	}
	if err := f.st.PublishRelease(context.Background(), sm, served, 100, "officer"); err != nil {
		t.Fatal(err)
	}
	return sm
}

type fakeInstaller struct{ got []Staged }

func (fi *fakeInstaller) Handover(ctx context.Context, s Staged) error {
	fi.got = append(fi.got, s)
	return nil
}

func TestUpdateSignedNewerStagedVerifiedAndInstalled(t *testing.T) {
	key := releaseKey(t)
	f := startFleet(t)
	dir := t.TempDir()
	inst := &fakeInstaller{}
	a := joined(t, f, Options{DataDir: dir, Installer: inst})
	msi := fakeMSI(t, 200_000)
	publish(t, f, rel{version: "1.2.0", min: "1.0.0", msi: msi, key: key})

	got := a.CheckUpdate(context.Background())
	want := UpdateCheck{Current: "1.1.0", Offered: "1.2.0", Verified: true, Staged: true}
	if got != want {
		t.Fatalf("CheckUpdate = %+v, want %+v", got, want)
	}
	js, _ := json.Marshal(got)
	for _, k := range []string{`"current":"1.1.0"`, `"offered":"1.2.0"`, `"verified":true`, `"staged":true`, `"error":""`} {
		if !bytes.Contains(js, []byte(k)) {
			t.Fatalf("JSON %s lacks %s", js, k)
		}
	}
	staged, err := os.ReadFile(filepath.Join(dir, "updates", "1.2.0", "scanbox-1.2.0.msi"))
	if err != nil || !bytes.Equal(staged, msi) {
		t.Fatalf("staged MSI: %v", err)
	}
	mustBeat(t, a)
	if up := f.terminal(a.State().TerminalUID).Heartbeat().Update; !up.Verified || !up.Staged || up.Offered != "1.2.0" {
		t.Fatalf("fleet sees update %+v", up)
	}

	// Handover re-verifies, then starts the privileged installer.
	if err := a.Install(context.Background()); err != nil || len(inst.got) != 1 || inst.got[0].Version != "1.2.0" {
		t.Fatalf("Install: %v %+v", err, inst.got)
	}

	// The SYSTEM side verifies again and runs msiexec /i FILE /qn, only
	// when asked (the default installer's request file).
	oldV := version.Version
	version.Version = "1.1.0"
	defer func() { version.Version = oldV }()
	var ran []string
	runner := func(ctx context.Context, name string, args ...string) error {
		ran = append([]string{name}, args...)
		return nil
	}
	if _, err := InstallRequested(context.Background(), dir, runner); !errors.Is(err, ErrNoInstallRequest) || ran != nil {
		t.Fatalf("installed without a request: %v %q", err, ran)
	}
	if err := writeInstallRequest(dir, inst.got[0]); err != nil {
		t.Fatal(err)
	}
	res, err := InstallRequested(context.Background(), dir, runner)
	if err != nil || !res.OK || res.Version != "1.2.0" {
		t.Fatalf("InstallStaged: %+v %v", res, err)
	}
	if _, err := InstallRequested(context.Background(), dir, runner); !errors.Is(err, ErrNoInstallRequest) {
		t.Fatalf("request not consumed: %v", err)
	}
	if len(ran) < 4 || ran[0] != "msiexec" || ran[1] != "/i" || ran[2] != filepath.Join(dir, "updates", "1.2.0", "scanbox-1.2.0.msi") || ran[3] != "/qn" {
		t.Fatalf("ran %q", ran)
	}
	mustBeat(t, a)
	if li := f.terminal(a.State().TerminalUID).Heartbeat().Update.LastInstall; li == nil || !li.OK || li.Version != "1.2.0" {
		t.Fatalf("install result not reported: %+v", li)
	}

	// A staged file changed after staging (the data dir is writable by the
	// cashier's account) is never handed on, nor installed.
	p := filepath.Join(dir, "updates", "1.2.0", "scanbox-1.2.0.msi")
	staged[1000] ^= 1
	os.WriteFile(p, staged, 0o644)
	err = a.Install(context.Background())
	if !errors.Is(err, proto.ErrMSIHash) || len(inst.got) != 1 {
		t.Fatalf("tampered staged file handed over: %v", err)
	}
	ran = nil
	res, err = InstallStaged(context.Background(), dir, func(ctx context.Context, name string, args ...string) error {
		ran = append([]string{name}, args...)
		return nil
	})
	if !errors.Is(err, proto.ErrMSIHash) || ran != nil || res.OK || !strings.Contains(res.Error, "does not match the signed manifest") {
		t.Fatalf("tampered staged file installed: %+v %v ran %q", res, err, ran)
	}
	// A failing msiexec is reported as a failure.
	staged[1000] ^= 1
	os.WriteFile(p, staged, 0o644)
	res, _ = InstallStaged(context.Background(), dir, func(ctx context.Context, name string, args ...string) error {
		return errors.New("exit status 1603")
	})
	if res.OK || !strings.Contains(res.Error, "1603") {
		t.Fatalf("failed msiexec: %+v", res)
	}
	// msiexec's own exit codes: 3010 and 1641 (installed, a restart
	// finishes replacing files that were in use) are success; 1603 as an
	// exit code is a failure.
	for code, ok := range map[int]bool{msiSuccessRebootRequired: true, msiSuccessRebootInitiated: true, 1603: false, 1618: false} {
		res, err = InstallStaged(context.Background(), dir, func(ctx context.Context, name string, args ...string) error {
			return fmt.Errorf("%w: msiexec said so", exitCode(code))
		})
		if res.OK != ok || (err == nil) != ok {
			t.Errorf("msiexec exit %d: result %+v, %v; want ok=%v", code, res, err, ok)
		}
	}
}

// exitCode is an *exec.ExitError as far as msiSucceeded can tell.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
func (e exitCode) ExitCode() int { return int(e) }

// Each bad release is refused with its own clear reason, nothing is
// staged, and the refusal is reported to the fleet.
func TestUpdateRefusals(t *testing.T) {
	key := releaseKey(t)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	msi := fakeMSI(t, 50_000)
	tampered := append([]byte(nil), msi...)
	tampered[40_000] ^= 0x80

	cases := []struct {
		name   string
		rel    rel
		offer  string // hostile server: offer this version whatever the rules
		want   error
		reason string
	}{
		{"tampered MSI", rel{version: "1.2.0", msi: msi, served: tampered, key: key}, "", proto.ErrMSIHash,
			"the downloaded installer does not match the signed manifest (SHA-256 or size differs)"},
		{"other key", rel{version: "1.2.0", msi: msi, key: other}, "", proto.ErrManifestSignature,
			"the release manifest is not signed by the bank's release key (signed by key " + proto.KeyID(other.Public().(ed25519.PublicKey)) + ")"},
		{"expired", rel{version: "1.2.0", msi: msi, key: key, expires: time.Now().Add(-time.Hour)}, "", proto.ErrManifestExpired,
			"the release manifest has expired (expired "},
		{"older version", rel{version: "1.0.9", msi: msi, key: key}, "1.0.9", proto.ErrUpdateOlder,
			"the offered release is not newer than the installed version (offered 1.0.9, installed 1.1.0)"},
		{"same version", rel{version: "1.1.0", msi: msi, key: key}, "1.1.0", proto.ErrUpdateOlder,
			"the offered release is not newer than the installed version (offered 1.1.0, installed 1.1.0)"},
		{"below minimum", rel{version: "1.3.0", min: "1.2.0", msi: msi, key: key}, "", proto.ErrUpdateTooOld,
			"the installed version is below the release's minimum version (installed 1.1.0, minimum 1.2.0)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := startFleet(t)
			if c.offer != "" {
				// The real server never offers an older release; a
				// compromised one might, so this one is made to.
				f.stop()
				f.wrap = offerAnyway(c.offer)
				f.start()
			}
			dir := t.TempDir()
			a := joined(t, f, Options{DataDir: dir})
			publish(t, f, c.rel)
			got := a.CheckUpdate(context.Background())
			if got.Verified || got.Staged || got.Offered != c.rel.version || !strings.HasPrefix(got.Error, c.reason) {
				t.Fatalf("CheckUpdate = %+v\nwant error %q", got, c.reason)
			}
			_, err := a.stageOffer(context.Background())
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if Sentence(err) != got.Error {
				t.Fatalf("sentence %q vs %q", Sentence(err), got.Error)
			}
			if _, err := os.Stat(filepath.Join(dir, "updates", stagedPointer)); err == nil {
				t.Fatal("something was staged")
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "updates", "*", "*.msi")); len(m) != 0 {
				t.Fatalf("installer left on disk: %v", m)
			}
			if err := a.Install(context.Background()); err == nil {
				t.Fatal("Install with nothing staged")
			}
			mustBeat(t, a)
			if up := f.terminal(a.State().TerminalUID).Heartbeat().Update; !strings.HasPrefix(up.Error, c.reason) || up.Staged {
				t.Fatalf("fleet sees %+v", up)
			}
		})
	}
}

// offerAnyway makes the fleet's heartbeat answers offer version v.
func offerAnyway(v string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != proto.PathHeartbeat {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var resp proto.HeartbeatResponse
			if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &resp) == nil {
				resp.Update = &proto.UpdateOffer{Version: v, ManifestPath: proto.PathRelease + "/" + v + "/manifest", MSIPath: proto.PathRelease + "/" + v + "/msi"}
				for k, vs := range rec.Header() {
					w.Header()[k] = vs
				}
				w.WriteHeader(http.StatusOK)
				json.NewEncoder(w).Encode(resp)
				return
			}
			for k, vs := range rec.Header() {
				w.Header()[k] = vs
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
		})
	}
}

func TestUpdateWithoutBuiltInKeyRefused(t *testing.T) {
	key := releaseKey(t)
	f := startFleet(t)
	a := joined(t, f, Options{})
	publish(t, f, rel{version: "1.2.0", msi: fakeMSI(t, 1000), key: key})
	ReleasePublicKey = ""
	got := a.CheckUpdate(context.Background())
	if got.Staged || got.Error != ErrNoReleaseKey.Error() {
		t.Fatalf("%+v", got)
	}
}

func TestCheckUpdateNotJoined(t *testing.T) {
	a, _ := New(Options{DataDir: t.TempDir(), Version: "1.1.0"})
	got := a.CheckUpdate(context.Background())
	if got.Current != "1.1.0" || got.Error != Sentence(ErrNotJoined) || got.Staged {
		t.Fatalf("%+v", got)
	}
}
