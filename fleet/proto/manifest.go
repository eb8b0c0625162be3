package proto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Release manifests.
//
// The bank's release officer signs a manifest offline
// (`scanbox-fleet release sign`); the fleet server stores and serves it but
// holds no signing key, so a compromised server cannot make an agent
// install anything the officer did not sign. The agent verifies with the
// public key built into the plug-in. The signature covers
// Manifest.CanonicalBytes: a fixed line format, not JSON, so that the
// signed bytes never depend on a JSON encoder's choices.

// Manifest describes one signed release.
type Manifest struct {
	Version    string    `json:"version"`     // e.g. "1.2.0"
	MinVersion string    `json:"min_version"` // oldest version that may update to it directly
	Expires    time.Time `json:"expires"`     // refused after this instant
	MSIName    string    `json:"msi_name"`
	MSISize    int64     `json:"msi_size"`
	MSISHA256  string    `json:"msi_sha256"` // lowercase hex
	SignedAt   time.Time `json:"signed_at"`
}

// SignedManifest is the file format of a manifest (JSON).
type SignedManifest struct {
	Manifest  Manifest `json:"manifest"`
	KeyID     string   `json:"key_id"`    // KeyID of the signing key, informative
	Signature []byte   `json:"signature"` // ed25519 over Manifest.CanonicalBytes()
}

// Update refusal reasons (each one sentence for the support staff).
var (
	ErrManifestMalformed = errors.New("the release manifest is malformed")
	ErrManifestSignature = errors.New("the release manifest is not signed by the bank's release key")
	ErrManifestExpired   = errors.New("the release manifest has expired")
	ErrUpdateOlder       = errors.New("the offered release is not newer than the installed version")
	ErrUpdateTooOld      = errors.New("the installed version is below the release's minimum version")
	ErrMSIHash           = errors.New("the downloaded installer does not match the signed manifest")
)

const manifestPrefix = "scanbox-release-manifest-v1"

// CanonicalBytes is the exact byte string that is signed.
func (m Manifest) CanonicalBytes() []byte {
	var b bytes.Buffer
	b.WriteString(manifestPrefix + "\n")
	fmt.Fprintf(&b, "version=%s\n", m.Version)
	fmt.Fprintf(&b, "min_version=%s\n", m.MinVersion)
	fmt.Fprintf(&b, "expires=%s\n", m.Expires.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "msi_name=%s\n", m.MSIName)
	fmt.Fprintf(&b, "msi_size=%d\n", m.MSISize)
	fmt.Fprintf(&b, "msi_sha256=%s\n", strings.ToLower(m.MSISHA256))
	fmt.Fprintf(&b, "signed_at=%s\n", m.SignedAt.UTC().Format(time.RFC3339))
	return b.Bytes()
}

func (m Manifest) validate() error {
	if _, err := ParseVersion(m.Version); err != nil {
		return fmt.Errorf("%w: version: %v", ErrManifestMalformed, err)
	}
	if m.MinVersion != "" {
		if _, err := ParseVersion(m.MinVersion); err != nil {
			return fmt.Errorf("%w: min_version: %v", ErrManifestMalformed, err)
		}
	}
	if h, err := hex.DecodeString(m.MSISHA256); err != nil || len(h) != sha256.Size {
		return fmt.Errorf("%w: msi_sha256", ErrManifestMalformed)
	}
	for _, s := range []string{m.Version, m.MinVersion, m.MSIName} {
		if strings.ContainsAny(s, "\n\r") {
			return fmt.Errorf("%w: newline in a field", ErrManifestMalformed)
		}
	}
	if m.Expires.IsZero() || m.MSISize <= 0 {
		return fmt.Errorf("%w: expiry or size missing", ErrManifestMalformed)
	}
	return nil
}

// SignManifest signs m (second precision: times are truncated so the
// canonical form round-trips).
func SignManifest(m Manifest, priv ed25519.PrivateKey) (SignedManifest, error) {
	m.Expires = m.Expires.UTC().Truncate(time.Second)
	m.SignedAt = m.SignedAt.UTC().Truncate(time.Second)
	m.MSISHA256 = strings.ToLower(m.MSISHA256)
	if err := m.validate(); err != nil {
		return SignedManifest{}, err
	}
	return SignedManifest{
		Manifest:  m,
		KeyID:     KeyID(priv.Public().(ed25519.PublicKey)),
		Signature: ed25519.Sign(priv, m.CanonicalBytes()),
	}, nil
}

// ParseSignedManifest reads the JSON file format.
func ParseSignedManifest(data []byte) (SignedManifest, error) {
	var sm SignedManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sm); err != nil {
		return SignedManifest{}, fmt.Errorf("%w: %v", ErrManifestMalformed, err)
	}
	return sm, nil
}

// VerifyManifest checks the signature with any of the trusted public keys
// and the expiry against now; it returns the manifest only if both hold.
func VerifyManifest(sm SignedManifest, trusted []ed25519.PublicKey, now time.Time) (Manifest, error) {
	if err := sm.Manifest.validate(); err != nil {
		return Manifest{}, err
	}
	ok := false
	for _, pub := range trusted {
		if len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, sm.Manifest.CanonicalBytes(), sm.Signature) {
			ok = true
			break
		}
	}
	if !ok {
		return Manifest{}, ErrManifestSignature
	}
	if !now.Before(sm.Manifest.Expires) {
		return Manifest{}, ErrManifestExpired
	}
	return sm.Manifest, nil
}

// CheckUpdate says whether a verified manifest may replace the running
// version: strictly newer, and current not below MinVersion.
func CheckUpdate(m Manifest, current string) error {
	c, err := ParseVersion(current)
	if err != nil {
		return fmt.Errorf("%w: installed version %q", ErrManifestMalformed, current)
	}
	v, err := ParseVersion(m.Version)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrManifestMalformed, err)
	}
	if CompareVersions(v, c) <= 0 {
		return ErrUpdateOlder
	}
	if m.MinVersion != "" {
		mv, _ := ParseVersion(m.MinVersion)
		if CompareVersions(c, mv) < 0 {
			return ErrUpdateTooOld
		}
	}
	return nil
}

// VerifyMSI reads the installer and checks its size and SHA-256 against
// the (already verified) manifest.
func VerifyMSI(m Manifest, r io.Reader) error {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(r, m.MSISize+1))
	if err != nil {
		return fmt.Errorf("proto: reading installer: %w", err)
	}
	if n != m.MSISize || hex.EncodeToString(h.Sum(nil)) != strings.ToLower(m.MSISHA256) {
		return ErrMSIHash
	}
	return nil
}

// Version is a parsed dotted numeric version ("1.2.3").
type Version []int

// ParseVersion parses "1.2.3" (a leading "v" allowed; 1 to 4 parts).
func ParseVersion(s string) (Version, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.Split(s, ".")
	if s == "" || len(parts) > 4 {
		return nil, fmt.Errorf("proto: bad version %q", s)
	}
	v := make(Version, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("proto: bad version %q", s)
		}
		v[i] = n
	}
	return v, nil
}

// CompareVersions returns -1, 0 or 1; missing parts count as 0.
func CompareVersions(a, b Version) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
