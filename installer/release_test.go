package installer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scanbox/scanbox/agent"
)

// The linker symbols must name real variables: -X on a name that does not
// exist is silently ignored, which for the release key would ship a
// program that accepts no update.
var _, _ = &agent.ReleasePublicKey, ReleaseKeyVar

func TestExeBuildLinksReleaseKey(t *testing.T) {
	if ReleaseKeyVar != "github.com/scanbox/scanbox/agent.ReleasePublicKey" {
		t.Errorf("ReleaseKeyVar = %s", ReleaseKeyVar)
	}
	ldflags := func(r *Release) string {
		args := r.ExeBuild(context.Background()).Args
		for i, a := range args {
			if a == "-ldflags" && i+1 < len(args) {
				return args[i+1]
			}
		}
		t.Fatalf("no -ldflags in %q", args)
		return ""
	}
	r := &Release{Root: t.TempDir(), Out: "dist", Version: "1.2.3"}
	if l := ldflags(r); strings.Contains(l, ReleaseKeyVar) || !strings.Contains(l, "-X "+VersionVar+"=1.2.3") {
		t.Errorf("without a key: -ldflags %q", l)
	}
	r.ReleaseKey = "AAAA,BBBB"
	if l := ldflags(r); !strings.Contains(l, "-X "+ReleaseKeyVar+"=AAAA,BBBB") || !strings.Contains(l, "-X "+VersionVar+"=1.2.3") {
		t.Errorf("with a key: -ldflags %q", l)
	}
}

func TestReadReleaseKey(t *testing.T) {
	dir := t.TempDir()
	k1, _, _ := ed25519.GenerateKey(rand.Reader)
	k2, _, _ := ed25519.GenerateKey(rand.Reader)
	b1, b2 := base64.StdEncoding.EncodeToString(k1), base64.StdEncoding.EncodeToString(k2)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	if got, err := ReadReleaseKey(write("one.pub", b1+"\n")); err != nil || got != b1 {
		t.Errorf("one key: %q %v", got, err)
	}
	if got, err := ReadReleaseKey(write("two.pub", b1+"\r\n"+b2+"\n")); err != nil || got != b1+","+b2 {
		t.Errorf("rotation: %q %v", got, err)
	}
	// The private release.key has the same shape (a 32-byte seed): it is
	// refused by name, so that it can never be linked into a shipped exe.
	if got, err := ReadReleaseKey(write("release.key", b1+"\n")); !errors.Is(err, ErrBadReleaseKey) {
		t.Errorf("release.key accepted: %q %v", got, err)
	}
	for name, content := range map[string]string{
		"empty": "\n", "not base64": "not a key!\n", "one good, one bad": b1 + " x\n",
		"64-byte private key": base64.StdEncoding.EncodeToString(make([]byte, 64)) + "\n",
	} {
		if got, err := ReadReleaseKey(write("bad.pub", content)); !errors.Is(err, ErrBadReleaseKey) {
			t.Errorf("%s: %q %v, want ErrBadReleaseKey", name, got, err)
		}
	}
}
