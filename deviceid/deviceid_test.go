package deviceid

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestDeriveVector(t *testing.T) {
	// Computed independently: printf '%s' '3d1219c7-c4c5-404a-aa1f-6d2a48adfda4|100000001|T0001' | sha256sum
	const want = "6d6337f0f0f9e114eb9005df20c95f376e5729723d440f1090d9ac8e69e99695"
	for _, m := range []string{"3d1219c7-c4c5-404a-aa1f-6d2a48adfda4", "3D1219C7-C4C5-404A-AA1F-6D2A48ADFDA4", " 3d1219c7-c4c5-404a-aa1f-6d2a48adfda4\n"} {
		got, err := Derive(m, "100000001", "T0001")
		if err != nil || got != want {
			t.Errorf("Derive(%q) = %s, %v; want %s", m, got, err, want)
		}
		if !Valid(got) {
			t.Errorf("%s not Valid", got)
		}
	}
}

func TestDeriveSeparates(t *testing.T) {
	a, _ := Derive("pc-a", "100000001", "T0001")
	seen := map[string]string{a: "pc-a/T0001"}
	for _, c := range [][3]string{{"pc-b", "100000001", "T0001"}, {"pc-a", "100000001", "T0002"}, {"pc-a", "100000002", "T0001"}, {"pc-a|1", "00000001", "T0001"}} {
		d, err := Derive(c[0], c[1], c[2])
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := seen[d]; dup {
			t.Errorf("%v gives the same device_id as %s", c, prev)
		}
		seen[d] = strings.Join(c[:], "/")
	}
	for _, c := range [][3]string{{"", "1", "T"}, {"pc", "", "T"}, {"pc", "1", ""}, {"  ", "1", "T"}} {
		if _, err := Derive(c[0], c[1], c[2]); err == nil {
			t.Errorf("Derive%q accepted", c)
		}
	}
}

func TestValid(t *testing.T) {
	ok := strings.Repeat("0a", 32)
	for s, want := range map[string]bool{ok: true, strings.ToUpper(ok): false, ok[:63]: false, ok + "0": false, strings.Repeat("g", 64): false, "": false} {
		if Valid(s) != want {
			t.Errorf("Valid(%q) != %v", s, want)
		}
	}
}

func TestForSource(t *testing.T) {
	a, err := For(func() (string, error) { return "pc-a", nil }, "100000001", "T0001")
	want, _ := Derive("pc-a", "100000001", "T0001")
	if err != nil || a != want {
		t.Fatalf("For: %s %v", a, err)
	}
	boom := errors.New("no registry")
	if _, err := For(func() (string, error) { return "", boom }, "1", "T"); !errors.Is(err, boom) {
		t.Errorf("source error lost: %v", err)
	}
}

// TestMachineIsThisPC reads the real identity: stable between calls and,
// on Linux, the machine-id file's content.
func TestMachineIsThisPC(t *testing.T) {
	m1, err := Machine()
	if err != nil {
		t.Skipf("no machine identity on this host: %v", err) // containers without /etc/machine-id
	}
	m2, _ := Machine()
	if m1 == "" || m1 != m2 {
		t.Fatalf("Machine() = %q then %q", m1, m2)
	}
	if runtime.GOOS == "linux" && os.Getenv(TestHookEnv) == "" {
		b, err := os.ReadFile("/etc/machine-id")
		if err == nil && strings.TrimSpace(string(b)) != m1 {
			t.Errorf("Machine() = %q, /etc/machine-id holds %q", m1, b)
		}
	}
}
