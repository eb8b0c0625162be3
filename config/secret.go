package config

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Secret files in the data directory. Their content is protect()ed: a DPAPI
// blob (machine scope) on Windows, the raw bytes in a 0600 file elsewhere.
const (
	keyFile      = "signing.key"
	pendingFile  = "activation.pending"
	codeKeyFile  = "code.key"
	fleetKeyFile = "fleet.key"
)

var (
	// ErrNoKey means the terminal has not been activated (no signing key).
	ErrNoKey = errors.New("config: no signing key: ScanBox is not activated")
	// ErrNoPendingActivation means no installer left an activation code.
	ErrNoPendingActivation = errors.New("config: no pending activation code")
)

// Purposes bind each protected blob to what it holds (DPAPI entropy), so a
// blob copied from one file to the other does not decrypt.
const (
	purposeKey      = "ScanBox signing key v1"
	purposePending  = "ScanBox pending activation code v1"
	purposeCodeKey  = "ScanBox payment-code fingerprint key v1"
	purposeFleetKey = "ScanBox fleet agent key v1"
)

// CodeKeyLen is the size of the payment-code fingerprint key.
const CodeKeyLen = 32

// CodeKey returns this installation's payment-code fingerprint key,
// creating it on first use. The journal keeps a keyed MAC of each scanned
// code (scan.Fingerprint) to refuse a rescan while its order is open; the
// key is what makes that MAC useless for recovering a code from the masked
// digits (about 1e10 candidates), so it is protected like the signing key
// and never leaves the PC (the support bundle does not include it). It is
// independent of activation: re-activating keeps it. Call it while holding
// the data directory (after the journal is open), so that two processes
// never create two keys.
func CodeKey(dir string) ([]byte, error) {
	k, err := loadSecret(dir, codeKeyFile, purposeCodeKey, errNoCodeKey)
	if err == nil && len(k) == CodeKeyLen {
		return k, nil
	}
	if err != nil && !errors.Is(err, errNoCodeKey) {
		return nil, err
	}
	k = make([]byte, CodeKeyLen)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("config: payment-code key: %w", err)
	}
	blob, err := protect(k, purposeCodeKey)
	if err != nil {
		return nil, fmt.Errorf("config: protect payment-code key: %w", err)
	}
	if err := writeFileAtomic(dir, codeKeyFile, blob, 0o600); err != nil {
		return nil, fmt.Errorf("config: save payment-code key: %w", err)
	}
	return k, nil
}

var errNoCodeKey = errors.New("config: no payment-code key")

// ErrNoFleetKey means the terminal has not joined a fleet.
var ErrNoFleetKey = errors.New("config: no fleet key: ScanBox has not joined a fleet")

// SaveFleetKey stores the fleet agent's private key (agent/), protected
// like the signing key.
func SaveFleetKey(dir string, key []byte) error {
	if len(key) == 0 {
		return errors.New("config: refusing to save an empty fleet key")
	}
	blob, err := protect(key, purposeFleetKey)
	if err != nil {
		return fmt.Errorf("config: protect fleet key: %w", err)
	}
	if err := writeFileAtomic(dir, fleetKeyFile, blob, 0o600); err != nil {
		return fmt.Errorf("config: save fleet key: %w", err)
	}
	return nil
}

// LoadFleetKey returns the fleet agent's private key, or ErrNoFleetKey.
func LoadFleetKey(dir string) ([]byte, error) {
	return loadSecret(dir, fleetKeyFile, purposeFleetKey, ErrNoFleetKey)
}

// SaveKey stores the terminal's signing key, protected at rest.
func SaveKey(dir string, key []byte) error {
	if len(key) == 0 {
		return errors.New("config: refusing to save an empty signing key")
	}
	blob, err := protect(key, purposeKey)
	if err != nil {
		return fmt.Errorf("config: protect signing key: %w", err)
	}
	if err := writeFileAtomic(dir, keyFile, blob, 0o600); err != nil {
		return fmt.Errorf("config: save signing key: %w", err)
	}
	return nil
}

// LoadKey returns the signing key, or ErrNoKey before activation.
func LoadKey(dir string) ([]byte, error) {
	return loadSecret(dir, keyFile, purposeKey, ErrNoKey)
}

// DeleteKey removes the signing key (deactivation). No key is not an error.
func DeleteKey(dir string) error {
	return removeSecret(dir, keyFile)
}

// SavePendingActivationCode stores an activation code for the first start
// after a silent install, protected like the key.
func SavePendingActivationCode(dir, code string) error {
	if code == "" {
		return errors.New("config: refusing to save an empty activation code")
	}
	blob, err := protect([]byte(code), purposePending)
	if err != nil {
		return fmt.Errorf("config: protect activation code: %w", err)
	}
	if err := writeFileAtomic(dir, pendingFile, blob, 0o600); err != nil {
		return fmt.Errorf("config: save activation code: %w", err)
	}
	return nil
}

// TakePendingActivationCode returns the stored activation code and deletes
// it (codes may be single-use; a second start must not retry a spent one).
// It returns ErrNoPendingActivation when there is none. If the file cannot be
// deleted, the code is not returned either: the caller would otherwise
// activate again on every start.
func TakePendingActivationCode(dir string) (string, error) {
	b, err := loadSecret(dir, pendingFile, purposePending, ErrNoPendingActivation)
	if err != nil {
		return "", err
	}
	if err := removeSecret(dir, pendingFile); err != nil {
		return "", err
	}
	return string(b), nil
}

func loadSecret(dir, name, purpose string, missing error) ([]byte, error) {
	path := filepath.Join(dir, name)
	blob, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, missing
	}
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(blob) == 0 {
		return nil, fmt.Errorf("config: %s is empty; activate ScanBox again", path)
	}
	b, err := unprotect(blob, purpose)
	if err != nil {
		return nil, fmt.Errorf("config: cannot unprotect %s (was it copied from another PC?): %w", path, err)
	}
	return b, nil
}

func removeSecret(dir, name string) error {
	err := os.Remove(filepath.Join(dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("config: delete %s: %w", name, err)
	}
	if err == nil {
		return syncDir(dir)
	}
	return nil
}

// ErrNoPendingFleetJoin means no installer left a fleet enrollment.
var ErrNoPendingFleetJoin = errors.New("config: no pending fleet enrollment")

const (
	pendingFleetFile    = "fleet-join.pending"
	purposePendingFleet = "ScanBox pending fleet enrollment v1"
)

// SavePendingFleetJoin stores the installer's FLEET_URL and single-use
// FLEET_CODE for the first start (which joins the fleet once the terminal
// is activated), protected like the activation code.
func SavePendingFleetJoin(dir, url, code string) error {
	if url == "" || code == "" || strings.ContainsAny(url, "\n") {
		return errors.New("config: a pending fleet enrollment needs a URL and a code")
	}
	blob, err := protect([]byte(url+"\n"+code), purposePendingFleet)
	if err != nil {
		return fmt.Errorf("config: protect fleet enrollment: %w", err)
	}
	if err := writeFileAtomic(dir, pendingFleetFile, blob, 0o600); err != nil {
		return fmt.Errorf("config: save fleet enrollment: %w", err)
	}
	return nil
}

// TakePendingFleetJoin returns the stored fleet enrollment and deletes it
// (the code is single-use), or ErrNoPendingFleetJoin. The caller stores it
// again when the fleet could not be reached.
func TakePendingFleetJoin(dir string) (url, code string, err error) {
	b, err := loadSecret(dir, pendingFleetFile, purposePendingFleet, ErrNoPendingFleetJoin)
	if err != nil {
		return "", "", err
	}
	if err := removeSecret(dir, pendingFleetFile); err != nil {
		return "", "", err
	}
	url, code, ok := strings.Cut(string(b), "\n")
	if !ok || url == "" || code == "" {
		return "", "", fmt.Errorf("config: %s is damaged; join the fleet with scanbox fleet join", pendingFleetFile)
	}
	return url, code, nil
}
