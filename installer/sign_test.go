package installer

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testCert runs sign/test-cert.sh (the script CI uses) and returns its
// SCANBOX_* settings.
func testCert(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("bash", "sign/test-cert.sh", dir).Output()
	if err != nil {
		t.Fatalf("test-cert.sh: %v", err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, _ := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		env[k] = v
	}
	pw, err := os.ReadFile(filepath.Join(dir, "password"))
	if err != nil {
		t.Fatal(err)
	}
	env[EnvPassword] = strings.TrimSpace(string(pw))
	env["dir"] = dir
	return env
}

func TestSignAndVerify(t *testing.T) {
	needTools(t, "osslsigncode", "openssl")
	ctx := context.Background()
	work := t.TempDir()
	exe := filepath.Join(work, "hello.exe")
	build := exec.Command("go", "build", "-o", exe, "./testdata/hello")
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("cross-build test exe: %v\n%s", err, out)
	}
	files := []string{exe}
	if _, err := exec.LookPath("wixl"); err == nil {
		payload, _ := placeholderPayload(t)
		msi := filepath.Join(work, "test.msi")
		if err := BuildMSI(ctx, WXS{Toolset: Wixl, Version: "1.0.0", Payload: payload, SourceDir: work}, msi); err != nil {
			t.Fatal(err)
		}
		files = append(files, msi)
	}

	a, b := testCert(t), testCert(t)
	for _, mode := range []string{"pkcs12", "pem"} {
		env := map[string]string{EnvPKCS12: a[EnvPKCS12], EnvPassword: a[EnvPassword]}
		if mode == "pem" {
			env = map[string]string{EnvCert: filepath.Join(a["dir"], "signer.pem"), EnvKey: filepath.Join(a["dir"], "signer.key")}
		}
		s, err := SignerFromEnv(func(k string) string { return env[k] })
		if err != nil || s == nil {
			t.Fatalf("%s: SignerFromEnv = %v, %v", mode, s, err)
		}
		for _, f := range files {
			signed := filepath.Join(work, mode+"-"+filepath.Base(f))
			copyFile(t, f, signed)
			if err := VerifySignature(ctx, signed, a["SCANBOX_VERIFY_CA"]); err == nil {
				t.Errorf("%s: unsigned %s verifies", mode, filepath.Base(f))
			}
			if err := s.Sign(ctx, signed, "ScanBox test"); err != nil {
				t.Fatalf("%s: sign %s: %v", mode, filepath.Base(f), err)
			}
			if err := VerifySignature(ctx, signed, a["SCANBOX_VERIFY_CA"]); err != nil {
				t.Errorf("%s: %v", mode, err)
			}
			if err := VerifySignature(ctx, signed, b["SCANBOX_VERIFY_CA"]); err == nil {
				t.Errorf("%s: %s verifies against a CA that did not issue its certificate", mode, filepath.Base(f))
			}
			if _, err := os.Stat(signed + ".signed"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: temporary signed file left behind", mode)
			}
		}
	}

	// A byte changed after signing breaks the signature.
	tampered := filepath.Join(work, "tampered.exe")
	copyFile(t, filepath.Join(work, "pkcs12-hello.exe"), tampered)
	data, _ := os.ReadFile(tampered)
	data[len(data)/3] ^= 0xff
	if err := os.WriteFile(tampered, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := VerifySignature(ctx, tampered, a["SCANBOX_VERIFY_CA"]); err == nil {
		t.Error("a tampered exe verifies")
	}

	// A wrong password fails and does not leave the password in the error.
	s, _ := SignerFromEnv(func(k string) string {
		return map[string]string{EnvPKCS12: a[EnvPKCS12], EnvPassword: "wrong-password-xyz"}[k]
	})
	err := s.Sign(ctx, tampered, "ScanBox test")
	if err == nil {
		t.Error("signing with a wrong password succeeded")
	} else if strings.Contains(err.Error(), "wrong-password-xyz") {
		t.Errorf("error reveals the password: %v", err)
	}
}

func TestSignerFromEnv(t *testing.T) {
	for name, tc := range map[string]struct {
		env    map[string]string
		signer bool
		err    bool
	}{
		"nothing set":      {map[string]string{}, false, false},
		"pkcs12":           {map[string]string{EnvPKCS12: "a.p12"}, true, false},
		"pem pair":         {map[string]string{EnvCert: "c.pem", EnvKey: "k.pem"}, true, false},
		"cert without key": {map[string]string{EnvCert: "c.pem"}, false, true},
		"key without cert": {map[string]string{EnvKey: "k.pem"}, false, true},
		"two methods":      {map[string]string{EnvPKCS12: "a.p12", EnvCert: "c.pem", EnvKey: "k.pem"}, false, true},
		"password only":    {map[string]string{EnvPassword: "x"}, false, false},
	} {
		s, err := SignerFromEnv(func(k string) string { return tc.env[k] })
		if (err != nil) != tc.err || (s != nil) != tc.signer {
			t.Errorf("%s: SignerFromEnv = %v, %v; want signer=%v err=%v", name, s, err, tc.signer, tc.err)
		}
		if err != nil && !errors.Is(err, ErrSignConfig) {
			t.Errorf("%s: %v is not ErrSignConfig", name, err)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
