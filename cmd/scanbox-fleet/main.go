// Command scanbox-fleet is the bank's terminal management service: the
// server (serve), staff accounts (user, token), enrollment codes, the
// offline release tools (keygen, release sign) and publishing, and a load
// generator. It never imports the plug-in; it shares only fleet/proto.
package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // only served with --pprof, on its own listener
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/scanbox/scanbox/fleet"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/store"
)

const usage = `usage:
  scanbox-fleet serve [--addr HOST:PORT] [--db DSN] [--data-dir DIR] [--release-pub FILE] [--secure-cookies]
  scanbox-fleet user add --name NAME --role admin|operator|viewer   (password from stdin)
  scanbox-fleet token --user NAME
  scanbox-fleet enrollment-code [--count N]
  scanbox-fleet keygen --out DIR
  scanbox-fleet release sign --key FILE --msi FILE --version V [--min-version V] [--expires 720h] --out MANIFEST
  scanbox-fleet release publish --manifest FILE --msi FILE --cohort PERCENT
  scanbox-fleet loadgen --url URL --terminals N --interval D --duration D
The commands that use the database take --db DSN and --data-dir DIR too.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// exit codes
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(args[1:], stdout, stderr)
	case "user":
		if len(args) < 2 || args[1] != "add" {
			fmt.Fprint(stderr, usage)
			return exitUsage
		}
		err = cmdUserAdd(args[2:], stdin, stdout)
	case "token":
		err = cmdToken(args[1:], stdout)
	case "enrollment-code":
		err = cmdEnrollmentCode(args[1:], stdout)
	case "keygen":
		err = cmdKeygen(args[1:], stdout)
	case "release":
		if len(args) < 2 {
			fmt.Fprint(stderr, usage)
			return exitUsage
		}
		switch args[1] {
		case "sign":
			err = cmdReleaseSign(args[2:], stdout)
		case "publish":
			err = cmdReleasePublish(args[2:], stdout)
		default:
			fmt.Fprint(stderr, usage)
			return exitUsage
		}
	case "loadgen":
		err = cmdLoadgen(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "scanbox-fleet:", ue.msg)
			return exitUsage
		}
		fmt.Fprintln(stderr, "scanbox-fleet:", err)
		return exitFail
	}
	return exitOK
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected argument " + fs.Arg(0)}
	}
	return nil
}

// dbFlags are shared by every command that opens the database.
type dbFlags struct{ dsn, dataDir string }

func (d *dbFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&d.dsn, "db", os.Getenv("SCANBOX_FLEET_DB"), "database: empty for SQLite in the data dir, or postgres://...")
	fs.StringVar(&d.dataDir, "data-dir", defaultDataDir(), "data directory (SQLite database)")
}

func defaultDataDir() string {
	if d := os.Getenv("SCANBOX_FLEET_DATA"); d != "" {
		return d
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "scanbox-fleet")
	}
	return "scanbox-fleet-data"
}

func (d *dbFlags) open(ctx context.Context) (*store.Store, error) {
	return store.Open(ctx, d.dsn, d.dataDir)
}

func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve")
	addr := fs.String("addr", "127.0.0.1:8440", "listen address")
	pubFile := fs.String("release-pub", "", "release officer's public key file: refuse to publish manifests it did not sign")
	secure := fs.Bool("secure-cookies", false, "mark cookies Secure (TLS terminates in a proxy in front)")
	pprofAddr := fs.String("pprof", "", "serve Go profiles on this separate address (loopback only; for load measurements)")
	var db dbFlags
	db.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	opt := fleet.Options{SecureCookies: *secure, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if *pubFile != "" {
		pub, err := readPublicKey(*pubFile)
		if err != nil {
			return err
		}
		opt.ReleaseKeys = []ed25519.PublicKey{pub}
	}
	srv := fleet.New(st, opt)
	defer srv.Close()
	if *pprofAddr != "" {
		if h, _, err := net.SplitHostPort(*pprofAddr); err != nil || (h != "127.0.0.1" && h != "localhost" && h != "::1") {
			return usageError{"--pprof must be a loopback address"}
		}
		go http.ListenAndServe(*pprofAddr, http.DefaultServeMux) // net/http/pprof registers there
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	if u, err := st.UserByName(ctx, "admin"); errors.Is(err, store.ErrNotFound) || (err == nil && u.Name == "") {
		fmt.Fprintln(stdout, "no account named admin yet: scanbox-fleet user add --name admin --role admin")
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	case err := <-errc:
		return err
	}
}

func cmdUserAdd(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("user add")
	name := fs.String("name", "", "user name")
	role := fs.String("role", "", "admin, operator or viewer")
	var db dbFlags
	db.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return usageError{"--name is required"}
	}
	r, err := store.ParseRole(*role)
	if err != nil {
		return usageError{"--role must be admin, operator or viewer"}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	h, err := fleet.HashPassword(pw)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.AddUser(ctx, *name, r, h); err != nil {
		return err
	}
	st.Audit(ctx, "cli", "user_add", *name, r.String())
	fmt.Fprintf(stdout, "user %s added (%s)\n", *name, r)
	return nil
}

func cmdToken(args []string, stdout io.Writer) error {
	fs := newFlags("token")
	name := fs.String("user", "", "user name")
	var db dbFlags
	db.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return usageError{"--user is required"}
	}
	ctx := context.Background()
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByName(ctx, *name)
	if err != nil {
		return fmt.Errorf("no user %q", *name)
	}
	tok, err := st.CreateToken(ctx, u.ID)
	if err != nil {
		return err
	}
	st.Audit(ctx, "cli", "token_create", *name, "")
	fmt.Fprintln(stdout, tok)
	return nil
}

func cmdEnrollmentCode(args []string, stdout io.Writer) error {
	fs := newFlags("enrollment-code")
	n := fs.Int("count", 1, "how many codes")
	var db dbFlags
	db.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 1 || *n > 100000 {
		return usageError{"--count must be 1 to 100000"}
	}
	ctx := context.Background()
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	codes, err := st.CreateEnrollmentCodes(ctx, *n, "cli")
	if err != nil {
		return err
	}
	st.Audit(ctx, "cli", "enrollment_codes", "", fmt.Sprintf("%d codes", *n))
	for _, c := range codes {
		fmt.Fprintln(stdout, c)
	}
	return nil
}

// Key files: one line of base64, the ed25519 seed (private, mode 0600) or
// the public key.
const (
	keyFileName = "release.key"
	pubFileName = "release.pub"
)

func cmdKeygen(args []string, stdout io.Writer) error {
	fs := newFlags("keygen")
	out := fs.String("out", "", "directory for release.key and release.pub")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out is required"}
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	kp := filepath.Join(*out, keyFileName)
	if _, err := os.Stat(kp); err == nil {
		return fmt.Errorf("%s exists; refusing to overwrite a release key", kp)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if err := os.WriteFile(kp, []byte(base64.StdEncoding.EncodeToString(priv.Seed())+"\n"), 0o600); err != nil {
		return err
	}
	pp := filepath.Join(*out, pubFileName)
	if err := os.WriteFile(pp, []byte(base64.StdEncoding.EncodeToString(pub)+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "private key: %s (keep offline)\npublic key:  %s (built into the plug-in)\nkey id:      %s\n", kp, pp, proto.KeyID(pub))
	return nil
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s is not a release key", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func readPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%s is not a release public key", path)
	}
	return pub, nil
}

func cmdReleaseSign(args []string, stdout io.Writer) error {
	fs := newFlags("release sign")
	keyPath := fs.String("key", "", "release.key")
	msiPath := fs.String("msi", "", "the MSI")
	version := fs.String("version", "", "release version")
	minVersion := fs.String("min-version", "", "oldest version that may update to it")
	expires := fs.Duration("expires", 30*24*time.Hour, "manifest lifetime")
	out := fs.String("out", "", "manifest file to write")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *keyPath == "" || *msiPath == "" || *version == "" || *out == "" {
		return usageError{"--key, --msi, --version and --out are required"}
	}
	priv, err := readPrivateKey(*keyPath)
	if err != nil {
		return err
	}
	f, err := os.Open(*msiPath)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	now := time.Now()
	sm, err := proto.SignManifest(proto.Manifest{
		Version: *version, MinVersion: *minVersion, Expires: now.Add(*expires),
		MSIName: filepath.Base(*msiPath), MSISize: n, MSISHA256: hex.EncodeToString(h.Sum(nil)), SignedAt: now,
	}, priv)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(sm, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(js, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed %s %s sha256 %s, expires %s\n", *version, sm.Manifest.MSIName, sm.Manifest.MSISHA256, sm.Manifest.Expires.Format(time.RFC3339))
	return nil
}

func cmdReleasePublish(args []string, stdout io.Writer) error {
	fs := newFlags("release publish")
	manPath := fs.String("manifest", "", "signed manifest")
	msiPath := fs.String("msi", "", "the MSI")
	cohort := fs.Int("cohort", -1, "percent of terminals (0-100)")
	pubFile := fs.String("release-pub", "", "release public key: check the signature before publishing")
	var db dbFlags
	db.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *manPath == "" || *msiPath == "" || *cohort < 0 || *cohort > 100 {
		return usageError{"--manifest, --msi and --cohort 0..100 are required"}
	}
	man, err := os.ReadFile(*manPath)
	if err != nil {
		return err
	}
	msi, err := os.ReadFile(*msiPath)
	if err != nil {
		return err
	}
	var trusted []ed25519.PublicKey
	if *pubFile != "" {
		pub, err := readPublicKey(*pubFile)
		if err != nil {
			return err
		}
		trusted = append(trusted, pub)
	}
	sm, err := fleet.CheckRelease(man, msi, trusted, time.Now())
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.PublishRelease(ctx, sm, msi, *cohort, "cli"); err != nil {
		return err
	}
	st.Audit(ctx, "cli", "release_publish", sm.Manifest.Version, fmt.Sprintf("cohort %d%%", *cohort))
	fmt.Fprintf(stdout, "published %s to %d%% of terminals\n", sm.Manifest.Version, *cohort)
	return nil
}
