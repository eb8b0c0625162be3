package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// The fleet agent's key is stored like the signing key, in its own file:
// saving one never touches the other.
func TestFleetKeyRoundTrip(t *testing.T) {
	dir := testDir(t)
	if _, err := LoadFleetKey(dir); !errors.Is(err, ErrNoFleetKey) {
		t.Fatalf("before join: %v", err)
	}
	if err := SaveFleetKey(dir, nil); err == nil {
		t.Fatal("empty fleet key saved")
	}
	signing := []byte("signing key of thirty-two bytes!")
	if err := SaveKey(dir, signing); err != nil {
		t.Fatal(err)
	}
	fleet := bytes.Repeat([]byte{0xA5}, 64)
	if err := SaveFleetKey(dir, fleet); err != nil {
		t.Fatal(err)
	}
	got, err := LoadFleetKey(dir)
	if err != nil || !bytes.Equal(got, fleet) {
		t.Fatalf("LoadFleetKey = %x, %v", got, err)
	}
	if k, _ := LoadKey(dir); !bytes.Equal(k, signing) {
		t.Fatal("saving the fleet key changed the signing key")
	}
	st, err := os.Stat(filepath.Join(dir, fleetKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("fleet key mode %v, want 0600", st.Mode().Perm())
	}
}
