package agent

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/logging"
)

const (
	testCode   = "134567890123456789"  // a WeChat-shaped payment code
	testCode2  = "2876543210987654321" // Alipay-shaped
	testKeyHex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// supportZip builds the support bundle the way the tray's ExportSupport
// does (app/controller.go: logs/*, orders.json, config.json, about.txt),
// from a data directory whose logs were written by the real logging
// package. orders.json here deliberately holds a full code, as a bug in
// another part would: the agent must catch it.
func supportZip(dir string) BundleFunc {
	return func(ctx context.Context, w io.Writer) error {
		z := zip.NewWriter(w)
		add := func(name string, data []byte) error {
			f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
			if err != nil {
				return err
			}
			_, err = f.Write(data)
			return err
		}
		logs, _ := filepath.Glob(filepath.Join(logging.LogDir(dir), "*"))
		sort.Strings(logs)
		for _, p := range logs {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if err := add("logs/"+filepath.Base(p), b); err != nil {
				return err
			}
		}
		orders, _ := json.MarshalIndent([]map[string]any{{"order_no": "SB20261201000001", "amount_fen": 1250, "auth_code": testCode2}}, "", "  ")
		if err := add("orders.json", orders); err != nil {
			return err
		}
		if err := add("config.json", []byte(`{"bank_url":"https://bank.example","mch_id":"M100200300","debug_key":"`+testKeyHex+`"}`)); err != nil {
			return err
		}
		if err := add("about.txt", []byte("ScanBox 1.1.0\n")); err != nil {
			return err
		}
		return z.Close()
	}
}

func zipText(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	var all strings.Builder
	for _, f := range zr.File {
		rc, _ := f.Open()
		d, _ := io.ReadAll(rc)
		rc.Close()
		all.WriteString("== " + f.Name + "\n")
		all.Write(d)
		all.WriteString("\n")
	}
	return all.String()
}

// Staff request logs; at its next heartbeat the agent uploads the support
// bundle, and what arrives at the fleet holds no key and no full code.
func TestLogBundleRequestedArrivesRedacted(t *testing.T) {
	f := startFleet(t)
	dir := t.TempDir()
	signingKey, _ := hex.DecodeString(testKeyHex)
	if err := config.SaveKey(dir, signingKey); err != nil {
		t.Fatal(err)
	}
	codeKey, err := config.CodeKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	log, _, closer, err := logging.New(dir, logging.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("payment started", "order_no", "SB20261201000001", "code", testCode, "amount_fen", 1250)
	log.Info("bank request signed", "signing_key", testKeyHex)
	// A careless message: the code in the text, where attribute redaction
	// does not reach.
	log.Warn("scanner sent " + testCode + " twice")
	closer.Close()

	a := joined(t, f, Options{DataDir: dir, Bundle: supportZip(dir)})
	uid := a.State().TerminalUID
	fleetKey, _ := config.LoadFleetKey(dir)
	ctx := context.Background()
	id, err := f.st.RequestLogs(ctx, uid, "zhang.wei")
	if err != nil {
		t.Fatal(err)
	}
	mustBeat(t, a)

	_, data, err := f.st.LogBundle(ctx, id)
	if err != nil {
		t.Fatalf("bundle did not arrive: %v", err)
	}
	text := zipText(t, data)
	for _, name := range []string{"logs/", "orders.json", "config.json", "about.txt"} {
		if !strings.Contains(text, "== "+name) {
			t.Fatalf("bundle lacks %s:\n%s", name, text)
		}
	}
	secrets := map[string]string{
		"payment code":           testCode,
		"payment code (orders)":  testCode2,
		"signing key (hex)":      testKeyHex,
		"signing key (base64)":   base64.StdEncoding.EncodeToString(signingKey),
		"code key (hex)":         hex.EncodeToString(codeKey),
		"fleet key (base64)":     base64.StdEncoding.EncodeToString(fleetKey),
		"fleet key seed (hex)":   hex.EncodeToString(fleetKey[:32]),
		"code digits (unmasked)": testCode[4:14],
	}
	for what, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("the uploaded bundle contains the %s", what)
		}
	}
	if !strings.Contains(text, "1345**********6789") || !strings.Contains(text, "SB20261201000001") {
		t.Errorf("masked code or order number missing (bundle over-redacted?):\n%s", text)
	}
	if strings.Count(text, redactedMark) < 2 {
		t.Errorf("redaction marks missing:\n%s", text)
	}
	reqs, _ := f.st.ListLogRequests(ctx, uid)
	if len(reqs) != 1 || reqs[0].UploadedAt == nil || reqs[0].RequestedBy != "zhang.wei" {
		t.Fatalf("log requests %+v", reqs)
	}
	// The request is answered once: the next heartbeat uploads nothing.
	mustBeat(t, a)
	if hb := f.terminal(uid).Heartbeat(); hb.Errors["bundle_redacted"] != 1 {
		t.Fatalf("the leak is not counted at the bank: %v", hb.Errors)
	}
}

func TestSanitizeBundle(t *testing.T) {
	secret := []byte("0123456789abcdef-secret")
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, _ := z.Create("a.txt")
	io.WriteString(w, "raw="+string(secret)+" hex="+hex.EncodeToString(secret)+" HEX="+strings.ToUpper(hex.EncodeToString(secret))+
		" b64="+base64.StdEncoding.EncodeToString(secret)+" url="+base64.RawURLEncoding.EncodeToString(secret)+
		" code="+testCode+" unionpay=6212345678901234567 barcode=6901234567892 order=SB20261201000001 amount=1250")
	z.Close()
	out, red, err := SanitizeBundle(buf.Bytes(), [][]byte{secret})
	if err != nil {
		t.Fatal(err)
	}
	text := zipText(t, out)
	if red.Secrets != 5 || red.Codes != 2 {
		t.Fatalf("redactions %+v:\n%s", red, text)
	}
	for _, bad := range []string{string(secret), hex.EncodeToString(secret), testCode, "6212345678901234567"} {
		if strings.Contains(text, bad) {
			t.Fatalf("left %q:\n%s", bad, text)
		}
	}
	for _, keep := range []string{"6901234567892", "SB20261201000001", "amount=1250", "6212***********4567"} {
		if !strings.Contains(text, keep) {
			t.Fatalf("lost %q:\n%s", keep, text)
		}
	}
	if _, _, err := SanitizeBundle([]byte("not a zip"), nil); err == nil {
		t.Fatal("garbage accepted as a zip")
	}
}
