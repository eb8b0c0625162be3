package proto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func TestRequestSignature(t *testing.T) {
	pub, priv := newKey(t)
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"seq":1}`)
	req, _ := http.NewRequest("POST", "http://fleet.example"+PathHeartbeat+"?x=1", bytes.NewReader(body))
	SignRequest(req, body, priv, now)
	a, err := ParseAuth(req.Header)
	if err != nil {
		t.Fatal(err)
	}
	uri := req.URL.RequestURI()
	if err := a.Verify(pub, "POST", uri, body, now, 0); err != nil {
		t.Fatalf("good request refused: %v", err)
	}
	// Another body, path or method: refused.
	if err := a.Verify(pub, "POST", uri, []byte(`{"seq":2}`), now, 0); !errors.Is(err, ErrAuthSignature) {
		t.Errorf("changed body: %v", err)
	}
	if err := a.Verify(pub, "POST", PathEnroll, body, now, 0); !errors.Is(err, ErrAuthSignature) {
		t.Errorf("changed path: %v", err)
	}
	if err := a.Verify(pub, "PUT", uri, body, now, 0); !errors.Is(err, ErrAuthSignature) {
		t.Errorf("changed method: %v", err)
	}
	// Another key.
	pub2, _ := newKey(t)
	if err := a.Verify(pub2, "POST", uri, body, now, 0); !errors.Is(err, ErrAuthSignature) {
		t.Errorf("other key: %v", err)
	}
	// Stale and future.
	if err := a.Verify(pub, "POST", uri, body, now.Add(ReplayWindow+time.Second), 0); !errors.Is(err, ErrAuthStale) {
		t.Errorf("stale: %v", err)
	}
	if err := a.Verify(pub, "POST", uri, body, now.Add(-ReplayWindow-time.Second), 0); !errors.Is(err, ErrAuthStale) {
		t.Errorf("future: %v", err)
	}
	// Replay: same timestamp as the last accepted one.
	if err := a.Verify(pub, "POST", uri, body, now, now.UnixMilli()); !errors.Is(err, ErrAuthReplay) {
		t.Errorf("replay: %v", err)
	}
	// Missing / malformed headers.
	if _, err := ParseAuth(http.Header{}); !errors.Is(err, ErrAuthMissing) {
		t.Errorf("missing: %v", err)
	}
	h := req.Header.Clone()
	h.Set(HeaderSignature, "!!")
	if _, err := ParseAuth(h); !errors.Is(err, ErrAuthMalformed) {
		t.Errorf("malformed: %v", err)
	}
}

func testManifest(msi []byte) Manifest {
	sum := sha256.Sum256(msi)
	return Manifest{
		Version: "1.2.0", MinVersion: "1.0.0",
		Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		MSIName: "scanbox-1.2.0.msi", MSISize: int64(len(msi)), MSISHA256: hex.EncodeToString(sum[:]),
		SignedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
	}
}

func TestManifestSignVerify(t *testing.T) {
	pub, priv := newKey(t)
	msi := []byte("pretend MSI bytes")
	sm, err := SignManifest(testManifest(msi), priv)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	// Round trip through the file format.
	data, err := jsonMarshal(sm)
	if err != nil {
		t.Fatal(err)
	}
	sm2, err := ParseSignedManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := VerifyManifest(sm2, []ed25519.PublicKey{pub}, now)
	if err != nil {
		t.Fatalf("good manifest refused: %v", err)
	}
	if err := CheckUpdate(m, "1.1.0"); err != nil {
		t.Errorf("newer refused: %v", err)
	}
	if err := VerifyMSI(m, bytes.NewReader(msi)); err != nil {
		t.Errorf("good MSI refused: %v", err)
	}

	// Tampered MSI.
	bad := append([]byte(nil), msi...)
	bad[0] ^= 1
	if err := VerifyMSI(m, bytes.NewReader(bad)); !errors.Is(err, ErrMSIHash) {
		t.Errorf("tampered MSI: %v", err)
	}
	if err := VerifyMSI(m, bytes.NewReader(append(msi, 'x'))); !errors.Is(err, ErrMSIHash) {
		t.Errorf("longer MSI: %v", err)
	}
	// Another key.
	pub2, _ := newKey(t)
	if _, err := VerifyManifest(sm2, []ed25519.PublicKey{pub2}, now); !errors.Is(err, ErrManifestSignature) {
		t.Errorf("other key: %v", err)
	}
	// A field changed after signing (server raises the version).
	sm3 := sm2
	sm3.Manifest.Version = "9.0.0"
	if _, err := VerifyManifest(sm3, []ed25519.PublicKey{pub}, now); !errors.Is(err, ErrManifestSignature) {
		t.Errorf("altered manifest: %v", err)
	}
	// Expired.
	if _, err := VerifyManifest(sm2, []ed25519.PublicKey{pub}, m.Expires); !errors.Is(err, ErrManifestExpired) {
		t.Errorf("expired: %v", err)
	}
	// Older or same version, below minimum.
	if err := CheckUpdate(m, "1.2.0"); !errors.Is(err, ErrUpdateOlder) {
		t.Errorf("same version: %v", err)
	}
	if err := CheckUpdate(m, "1.10.0"); !errors.Is(err, ErrUpdateOlder) {
		t.Errorf("older offer: %v", err)
	}
	if err := CheckUpdate(m, "0.9.9"); !errors.Is(err, ErrUpdateTooOld) {
		t.Errorf("below minimum: %v", err)
	}
}

func TestVersions(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{{"1.2.3", "1.2.3", 0}, {"1.2", "1.2.0", 0}, {"1.10.0", "1.9.9", 1}, {"v0.1", "0.2", -1}}
	for _, c := range cases {
		a, err := ParseVersion(c.a)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := ParseVersion(c.b)
		if got := CompareVersions(a, b); got != c.want {
			t.Errorf("%s vs %s = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	for _, s := range []string{"", "1.x", "1.2.3.4.5", "-1"} {
		if _, err := ParseVersion(s); err == nil {
			t.Errorf("ParseVersion(%q) accepted", s)
		}
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
