package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/fleet"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/store"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// The offline release path: keygen, sign, publish; then what the agent
// does with the published manifest.
func TestReleaseTools(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if c, out, e := runCmd(t, "", "keygen", "--out", filepath.Join(dir, "keys")); c != 0 || !strings.Contains(out, "release.key") {
		t.Fatalf("keygen: %d %q %q", c, out, e)
	}
	if c, _, e := runCmd(t, "", "keygen", "--out", filepath.Join(dir, "keys")); c == 0 || !strings.Contains(e, "refusing to overwrite") {
		t.Fatalf("keygen over an existing key: %d %q", c, e)
	}
	if st, _ := os.Stat(filepath.Join(dir, "keys", "release.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", st.Mode().Perm())
	}
	msi := filepath.Join(dir, "scanbox-1.2.0.msi")
	os.WriteFile(msi, []byte("MSI 1.2.0"), 0o644)
	man := filepath.Join(dir, "m.json")
	if c, _, e := runCmd(t, "", "release", "sign", "--key", filepath.Join(dir, "keys", "release.key"), "--msi", msi, "--version", "1.2.0", "--min-version", "1.0.0", "--out", man); c != 0 {
		t.Fatalf("sign: %d %q", c, e)
	}
	pub, err := readPublicKey(filepath.Join(dir, "keys", "release.pub"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(man)
	sm, err := proto.ParseSignedManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := proto.VerifyManifest(sm, []ed25519.PublicKey{pub}, time.Now())
	if err != nil || m.Version != "1.2.0" || m.MinVersion != "1.0.0" || !m.Expires.After(time.Now().Add(29*24*time.Hour)) {
		t.Fatalf("signed manifest %+v %v", m, err)
	}
	// Publishing with the public key; a tampered MSI is refused.
	bad := filepath.Join(dir, "bad.msi")
	os.WriteFile(bad, []byte("MSI 1.2.1"), 0o644)
	if c, _, e := runCmd(t, "", "release", "publish", "--manifest", man, "--msi", bad, "--cohort", "10", "--data-dir", data); c == 0 || !strings.Contains(e, "does not match") {
		t.Fatalf("tampered publish: %d %q", c, e)
	}
	if c, out, e := runCmd(t, "", "release", "publish", "--manifest", man, "--msi", msi, "--cohort", "10", "--release-pub", filepath.Join(dir, "keys", "release.pub"), "--data-dir", data); c != 0 || !strings.Contains(out, "10%") {
		t.Fatalf("publish: %d %q %q", c, out, e)
	}
	// Another key's public half refuses it.
	runCmd(t, "", "keygen", "--out", filepath.Join(dir, "other"))
	if c, _, e := runCmd(t, "", "release", "publish", "--manifest", man, "--msi", msi, "--cohort", "10", "--release-pub", filepath.Join(dir, "other", "release.pub"), "--data-dir", data); c == 0 || !strings.Contains(e, "not signed by the bank") {
		t.Fatalf("publish checked against another key: %d %q", c, e)
	}
	st, err := store.Open(context.Background(), "", data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rels, _ := st.ListReleases(context.Background())
	if len(rels) != 1 || rels[0].Cohort != 10 {
		t.Fatalf("releases %+v", rels)
	}
	js, _ := json.Marshal(rels[0].Manifest)
	if _, err := proto.VerifyManifest(rels[0].Manifest, []ed25519.PublicKey{pub}, time.Now()); err != nil {
		t.Fatalf("stored manifest no longer verifies: %v %s", err, js)
	}
}

func TestStaffCommands(t *testing.T) {
	data := t.TempDir()
	c, out, _ := runCmd(t, "", "enrollment-code", "--count", "3", "--data-dir", data)
	lines := strings.Fields(out)
	if c != 0 || len(lines) != 3 || lines[0] == lines[1] {
		t.Fatalf("codes: %d %q", c, out)
	}
	if c, _, _ := runCmd(t, "long password\n", "user", "add", "--name", "ann", "--role", "boss", "--data-dir", data); c != exitUsage {
		t.Errorf("bad role exit %d", c)
	}
	if c, _, e := runCmd(t, "short\n", "user", "add", "--name", "ann", "--role", "viewer", "--data-dir", data); c == 0 || !strings.Contains(e, "at least 8") {
		t.Errorf("short password: %d %q", c, e)
	}
	if c, _, e := runCmd(t, "long password\n", "user", "add", "--name", "ann", "--role", "viewer", "--data-dir", data); c != 0 {
		t.Fatalf("user add: %q", e)
	}
	c, out, _ = runCmd(t, "", "token", "--user", "ann", "--data-dir", data)
	if c != 0 || !strings.HasPrefix(out, "sbf_") {
		t.Fatalf("token %q", out)
	}
	if c, _, _ := runCmd(t, "", "bogus"); c != exitUsage {
		t.Errorf("unknown command exit %d", c)
	}
}

// loadgen against a real server: every report it counts as acked is
// stored exactly once, in sessions and signed, prepared before the run
// and at send time, and later runs reusing the enrolled terminals and
// their sessions (--state) are accepted (their sequence numbers and
// timestamps continue upwards).
func TestLoadgen(t *testing.T) {
	data := t.TempDir()
	st, err := store.Open(context.Background(), "", data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := fleet.New(st, fleet.Options{})
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	state := filepath.Join(t.TempDir(), "terms.json")
	var total int64
	for i, opt := range [][2]string{{"--presign=true", "--auth=session"}, {"--presign=false", "--auth=session"}, {"--presign=true", "--auth=signature"}, {"--presign=false", "--auth=signature"}} {
		c, out, e := runCmd(t, "", "loadgen", "--url", hs.URL, "--terminals", "20", "--interval", "500ms", "--duration", "1s",
			"--state", state, "--data-dir", data, opt[0], opt[1])
		if c != 0 {
			t.Fatalf("run %d: exit %d %q %q", i, c, out, e)
		}
		var sent, acked, lost int64
		line := out[strings.Index(out, "sent="):]
		if _, err := fmt.Sscanf(line, "sent=%d acked=%d lost=%d", &sent, &acked, &lost); err != nil {
			t.Fatalf("run %d: output %q: %v", i, out, err)
		}
		if sent == 0 || acked != sent || lost != 0 || strings.Contains(out, "first failure") {
			t.Fatalf("run %d: %q", i, out)
		}
		if opened := strings.Contains(out, "opened 20 sessions"); opened != (i == 0) {
			t.Errorf("run %d (%v): sessions opened %v, want only in the first run: %q", i, opt, opened, out)
		}
		total += acked
		hours, err := st.Hourly(context.Background(), "", time.Now().Add(-2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var stored int64
		for _, h := range hours {
			stored += h.Reports
		}
		if stored != total {
			t.Fatalf("run %d: %d reports acked in all, %d stored", i, total, stored)
		}
	}
}
