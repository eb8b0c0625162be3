package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Secret files in the data directory. Their content is protect()ed: a DPAPI
// blob (machine scope) on Windows, the raw bytes in a 0600 file elsewhere.
const (
	keyFile     = "signing.key"
	pendingFile = "activation.pending"
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
	purposeKey     = "ScanBox signing key v1"
	purposePending = "ScanBox pending activation code v1"
)

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
