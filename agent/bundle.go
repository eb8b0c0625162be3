package agent

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/scan"
)

// BundleSource writes the plug-in's support bundle (the zip the tray's
// "Export support file" writes: logs, recent orders, configuration,
// about). It must not contain a key, a full payment code or a PIN; the
// agent checks that again (SanitizeBundle) before anything leaves the PC.
type BundleSource interface {
	WriteBundle(ctx context.Context, w io.Writer) error
}

// BundleFunc adapts a function (e.g. the tray controller's ExportSupport)
// to BundleSource.
type BundleFunc func(ctx context.Context, w io.Writer) error

// WriteBundle calls f.
func (f BundleFunc) WriteBundle(ctx context.Context, w io.Writer) error { return f(ctx, w) }

// redactedMark replaces a secret found in a bundle.
const redactedMark = "[redacted]"

// Redactions counts what SanitizeBundle replaced.
type Redactions struct {
	Secrets int // key material (raw, hex or base64)
	Codes   int // digit runs shaped like a payment code, masked
}

// SanitizeBundle rewrites a support zip so that none of secrets (in raw,
// hex or base64 form) and no digit run that scan.Recognize takes for a
// payment code remains in any entry; codes are masked the way the logs
// mask them (scan.Mask). It is the last line of defence: the logging
// layer already redacts, but a bundle also carries files written by other
// code (orders.json, config.json), and a bug there must not ship a code to
// the bank's server. Entries of other than regular files are dropped.
func SanitizeBundle(in []byte, secrets [][]byte) ([]byte, Redactions, error) {
	var red Redactions
	zr, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		return nil, red, fmt.Errorf("agent: support bundle is not a zip: %w", err)
	}
	var pats [][]byte
	for _, s := range secrets {
		if len(s) < 8 { // too short to tell from ordinary text
			continue
		}
		pats = append(pats, s,
			[]byte(hex.EncodeToString(s)), []byte(strings.ToUpper(hex.EncodeToString(s))),
			[]byte(base64.StdEncoding.EncodeToString(s)), []byte(base64.RawStdEncoding.EncodeToString(s)),
			[]byte(base64.URLEncoding.EncodeToString(s)), []byte(base64.RawURLEncoding.EncodeToString(s)))
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		if !f.Mode().IsRegular() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, red, fmt.Errorf("agent: support bundle entry %s: %w", f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, proto.MaxLogBundleBytes+1))
		rc.Close()
		if err != nil {
			return nil, red, fmt.Errorf("agent: support bundle entry %s: %w", f.Name, err)
		}
		for _, p := range pats {
			if n := bytes.Count(data, p); n > 0 {
				red.Secrets += n
				data = bytes.ReplaceAll(data, p, []byte(redactedMark))
			}
		}
		var n int
		data, n = maskCodes(data)
		red.Codes += n
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: f.Modified})
		if err != nil {
			return nil, red, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, red, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, red, err
	}
	return out.Bytes(), red, nil
}

// maskCodes masks every maximal run of 16 to 24 ASCII digits that
// scan.Recognize accepts as a payment code.
func maskCodes(data []byte) ([]byte, int) {
	var out []byte
	n, last := 0, 0
	for i := 0; i < len(data); {
		if !isDigit(data[i]) {
			i++
			continue
		}
		j := i
		for j < len(data) && isDigit(data[j]) {
			j++
		}
		if run := string(data[i:j]); j-i >= 16 && j-i <= 24 {
			if _, err := scan.Recognize(run); err == nil {
				out = append(out, data[last:i]...)
				out = append(out, scan.Mask(run)...)
				last = j
				n++
			}
		}
		i = j
	}
	if n == 0 {
		return data, 0
	}
	return append(out, data[last:]...), n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// secrets are the byte strings that must never leave in a bundle: the
// agent's key, the bank signing key, the payment-code key, and those the
// caller named.
func (a *Agent) secrets() [][]byte {
	out := append([][]byte(nil), a.opt.Secrets...)
	a.mu.Lock()
	if a.key != nil {
		out = append(out, a.key, a.key.Seed())
	}
	a.mu.Unlock()
	if k, err := config.LoadKey(a.opt.DataDir); err == nil {
		out = append(out, k)
	}
	// config.CodeKey would create the key if missing; read it only if it
	// exists.
	if _, err := os.Stat(filepath.Join(a.opt.DataDir, "code.key")); err == nil {
		if k, err := config.CodeKey(a.opt.DataDir); err == nil {
			out = append(out, k)
		}
	}
	return out
}

// uploadLogs builds, sanitizes and uploads the support bundle for one
// log request.
func (a *Agent) uploadLogs(ctx context.Context, id string) error {
	if a.opt.Bundle == nil {
		return errors.New("agent: no support bundle in this program")
	}
	base, key, err := a.creds()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var buf bytes.Buffer
	if err := a.opt.Bundle.WriteBundle(ctx, &limitedWriter{w: &buf, n: proto.MaxLogBundleBytes}); err != nil {
		return fmt.Errorf("agent: support bundle: %w", err)
	}
	clean, red, err := SanitizeBundle(buf.Bytes(), a.secrets())
	if err != nil {
		return err
	}
	if red.Secrets > 0 || red.Codes > 0 {
		// The bundle source leaked: worth an error count at the bank.
		a.log.Error("support bundle held secrets; redacted before upload", "secrets", red.Secrets, "codes", red.Codes)
		a.CountError("bundle_redacted")
	}
	if len(clean) > proto.MaxLogBundleBytes {
		return errors.New("agent: the support bundle is too large to upload")
	}
	if _, err := a.send(ctx, base, "POST", proto.PathLogUpload+"/"+id, clean, key, maxAnswer); err != nil {
		return err
	}
	a.log.Info("support bundle uploaded", "log_request", id, "bytes", len(clean))
	return nil
}

// limitedWriter fails once more than n bytes were written.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, errors.New("agent: support bundle larger than the upload limit")
	}
	l.n -= len(p)
	return l.w.Write(p)
}
