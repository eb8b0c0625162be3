package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Signing is configured only through the environment, never through a file
// in the repository:
//
//	SCANBOX_SIGN_PKCS12     path of a .pfx/.p12 holding the code-signing key and certificate chain
//	SCANBOX_SIGN_PASSWORD   its password (may be empty)
//	SCANBOX_SIGN_CERT       or: PEM certificate chain ...
//	SCANBOX_SIGN_KEY        ... and its unencrypted PEM key (osslsigncode only)
//	SCANBOX_SIGN_THUMBPRINT or (Windows, signtool): SHA-1 thumbprint of a certificate in the store
//	SCANBOX_SIGN_TIMESTAMP  optional RFC 3161 timestamp server URL
const (
	EnvPKCS12     = "SCANBOX_SIGN_PKCS12"
	EnvPassword   = "SCANBOX_SIGN_PASSWORD"
	EnvCert       = "SCANBOX_SIGN_CERT"
	EnvKey        = "SCANBOX_SIGN_KEY"
	EnvThumbprint = "SCANBOX_SIGN_THUMBPRINT"
	EnvTimestamp  = "SCANBOX_SIGN_TIMESTAMP"
)

// ErrSignConfig is an incomplete or contradictory signing configuration.
var ErrSignConfig = errors.New("installer: signing configuration")

// Signer signs a PE file (.exe, .dll) or an MSI in place with Authenticode.
type Signer struct {
	tool                  string // "osslsigncode" or "signtool"
	pkcs12, password      string
	cert, key, thumbprint string
	timestamp             string
}

// SignerFromEnv reads the SCANBOX_SIGN_* variables. It returns nil, nil when
// none is set: an unsigned build is normal for developers.
func SignerFromEnv(getenv func(string) string) (*Signer, error) {
	s := &Signer{
		pkcs12: getenv(EnvPKCS12), password: getenv(EnvPassword),
		cert: getenv(EnvCert), key: getenv(EnvKey), thumbprint: getenv(EnvThumbprint),
		timestamp: getenv(EnvTimestamp),
	}
	set := 0
	for _, v := range []string{s.pkcs12, s.cert + s.key, s.thumbprint} {
		if v != "" {
			set++
		}
	}
	switch {
	case set == 0:
		return nil, nil
	case set > 1:
		return nil, fmt.Errorf("%w: set only one of %s, %s+%s, %s", ErrSignConfig, EnvPKCS12, EnvCert, EnvKey, EnvThumbprint)
	case (s.cert == "") != (s.key == ""):
		return nil, fmt.Errorf("%w: %s and %s go together", ErrSignConfig, EnvCert, EnvKey)
	}
	// signtool where it exists (Windows with the SDK); osslsigncode elsewhere.
	s.tool = "osslsigncode"
	if runtime.GOOS == "windows" {
		if _, err := exec.LookPath("signtool"); err == nil {
			s.tool = "signtool"
		}
	}
	if s.tool == "signtool" && s.cert != "" {
		return nil, fmt.Errorf("%w: signtool takes %s or %s, not PEM files", ErrSignConfig, EnvPKCS12, EnvThumbprint)
	}
	if s.tool == "osslsigncode" && s.thumbprint != "" {
		return nil, fmt.Errorf("%w: %s needs signtool (Windows SDK)", ErrSignConfig, EnvThumbprint)
	}
	return s, nil
}

// Tool names the signing program in use.
func (s *Signer) Tool() string { return s.tool }

// Sign signs path in place. The description is shown by Windows in the UAC
// prompt and SmartScreen.
func (s *Signer) Sign(ctx context.Context, path, description string) error {
	if s.tool == "signtool" {
		args := []string{"sign", "/fd", "sha256", "/d", description}
		if s.thumbprint != "" {
			args = append(args, "/sha1", s.thumbprint)
		} else {
			args = append(args, "/f", s.pkcs12)
			if s.password != "" {
				args = append(args, "/p", s.password)
			}
		}
		if s.timestamp != "" {
			args = append(args, "/tr", s.timestamp, "/td", "sha256")
		}
		return runQuiet(ctx, "signtool", append(args, path)...)
	}

	// osslsigncode writes a new file; sign to a temporary one and rename, so
	// an interrupted run never leaves a truncated release file.
	out := path + ".signed"
	defer os.Remove(out)
	args := []string{"sign", "-h", "sha256", "-n", description}
	if s.pkcs12 != "" {
		args = append(args, "-pkcs12", s.pkcs12)
		if s.password != "" {
			// The password goes through a private file, not argv (which
			// every user of the machine can read in ps).
			f, err := os.CreateTemp("", "scanbox-signpass-*")
			if err != nil {
				return err
			}
			defer os.Remove(f.Name())
			if _, err := f.WriteString(s.password); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			args = append(args, "-readpass", f.Name())
		}
	} else {
		args = append(args, "-certs", s.cert, "-key", s.key)
	}
	if s.timestamp != "" {
		args = append(args, "-ts", s.timestamp)
	}
	if err := runQuiet(ctx, "osslsigncode", append(args, "-in", path, "-out", out)...); err != nil {
		return err
	}
	return os.Rename(out, path)
}

// runQuiet is run, but an error names only the tool and the file, never the
// arguments (they may hold a password).
func runQuiet(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("installer: %s failed on %s: %w\n%s", name, filepath.Base(args[len(args)-1]), err, out)
	}
	return nil
}

// VerifySignature checks path's Authenticode signature against the CA
// certificates in caFile (PEM) with osslsigncode, which also checks that the
// signed digest matches the file.
func VerifySignature(ctx context.Context, path, caFile string) error {
	out, err := exec.CommandContext(ctx, "osslsigncode", "verify", "-CAfile", caFile, "-in", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("installer: signature of %s does not verify: %w\n%s", filepath.Base(path), err, out)
	}
	return nil
}
