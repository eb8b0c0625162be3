package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	dir := testDir(t)
	if _, err := LoadKey(dir); !errors.Is(err, ErrNoKey) {
		t.Fatalf("LoadKey before activation = %v, want ErrNoKey", err)
	}
	key := []byte("0123456789abcdef0123456789abcdef\x00\xff")
	if err := SaveKey(dir, key); err != nil {
		t.Fatal(err)
	}
	got, err := LoadKey(dir)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("LoadKey = %q, %v", got, err)
	}
	st, err := os.Stat(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	// Replacing the key keeps 0600 and leaves no temp files.
	key2 := []byte("another key of thirty-two bytes!")
	if err := SaveKey(dir, key2); err != nil {
		t.Fatal(err)
	}
	if got, _ := LoadKey(dir); !bytes.Equal(got, key2) {
		t.Fatalf("second key = %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("dir holds %d entries after two saves", len(entries))
	}
	// The key never appears in config.json.
	c := Default()
	c.MchID = "M1"
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if bytes.Contains(raw, key2) || bytes.Contains(raw, []byte("signing")) {
		t.Fatalf("config.json mentions the key:\n%s", raw)
	}
	if err := DeleteKey(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(dir); !errors.Is(err, ErrNoKey) {
		t.Fatalf("LoadKey after DeleteKey = %v", err)
	}
	if err := DeleteKey(dir); err != nil {
		t.Fatalf("DeleteKey twice: %v", err)
	}
}

func TestKeyRefusals(t *testing.T) {
	dir := testDir(t)
	if err := SaveKey(dir, nil); err == nil {
		t.Error("empty key saved")
	}
	os.WriteFile(filepath.Join(dir, keyFile), nil, 0o600)
	if _, err := LoadKey(dir); err == nil || errors.Is(err, ErrNoKey) {
		t.Errorf("empty key file: %v", err)
	}
}

func TestPendingActivationCode(t *testing.T) {
	dir := testDir(t)
	if _, err := TakePendingActivationCode(dir); !errors.Is(err, ErrNoPendingActivation) {
		t.Fatalf("Take with none = %v", err)
	}
	if err := SavePendingActivationCode(dir, "ACT-1234-5678"); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, pendingFile))
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("pending file mode %v", st.Mode().Perm())
	}
	code, err := TakePendingActivationCode(dir)
	if err != nil || code != "ACT-1234-5678" {
		t.Fatalf("Take = %q, %v", code, err)
	}
	if _, err := TakePendingActivationCode(dir); !errors.Is(err, ErrNoPendingActivation) {
		t.Fatalf("second Take = %v, want ErrNoPendingActivation", err)
	}
	if err := SavePendingActivationCode(dir, ""); err == nil {
		t.Error("empty activation code saved")
	}
}

func TestCodeKeyCreatedOnceProtected(t *testing.T) {
	dir := testDir(t)
	k1, err := CodeKey(dir)
	if err != nil || len(k1) != CodeKeyLen {
		t.Fatalf("CodeKey = %x, %v", k1, err)
	}
	k2, err := CodeKey(dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second CodeKey = %x, %v; want the same key", k2, err)
	}
	st, err := os.Stat(filepath.Join(dir, codeKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("code key file mode %v, want 0600", st.Mode().Perm())
	}
	if k3, _ := CodeKey(testDir(t)); bytes.Equal(k1, k3) {
		t.Fatal("two installations share a code key")
	}
}
