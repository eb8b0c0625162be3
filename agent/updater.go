package agent

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/version"
)

// ReleasePublicKey is the bank release officer's ed25519 public key
// (base64, 32 bytes; several separated by commas during a key rotation),
// set at build time:
//
//	go build -ldflags "-X github.com/scanbox/scanbox/agent.ReleasePublicKey=BASE64"
//
// It is a build-time constant on purpose: neither the fleet server nor a
// configuration file can add a key. Empty means no update is ever
// accepted.
var ReleasePublicKey = ""

// trustedKeys parses ReleasePublicKey.
func trustedKeys() []ed25519.PublicKey {
	var out []ed25519.PublicKey
	for _, s := range strings.Split(ReleasePublicKey, ",") {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err == nil && len(b) == ed25519.PublicKeySize {
			out = append(out, ed25519.PublicKey(b))
		}
	}
	return out
}

// UpdateError is an update refused or failed, with one sentence for the
// support staff (Reason); Err is the proto sentinel (proto.ErrManifest*,
// proto.ErrUpdate*, proto.ErrMSIHash) or ErrAuthenticode where one applies.
type UpdateError struct {
	Reason string
	Err    error
}

func (e *UpdateError) Error() string { return "agent: update refused: " + e.Reason }
func (e *UpdateError) Unwrap() error { return e.Err }

// ErrAuthenticode: on Windows the installer's Authenticode signature does
// not verify (WinVerifyTrust).
var ErrAuthenticode = errors.New("the installer's Windows (Authenticode) signature does not verify")

// ErrNoReleaseKey: the program was built without a release key.
var ErrNoReleaseKey = errors.New("this program was built without the bank's release key, so it accepts no update")

func refusal(err error, detail string) *UpdateError {
	r := err.Error()
	if detail != "" {
		r += " (" + detail + ")"
	}
	return &UpdateError{Reason: r, Err: err}
}

// Staged is a verified release in DATA_DIR/updates/VERSION.
type Staged struct {
	Version      string `json:"version"`
	MSIPath      string `json:"msi_path"`
	ManifestPath string `json:"manifest_path"`
	SHA256       string `json:"sha256"`
}

const (
	updatesDir      = "updates"
	stagedPointer   = "staged.json"       // the newest staged release
	lastInstallFile = "last-install.json" // written by the installing side
)

func (a *Agent) updatesPath(p ...string) string {
	return filepath.Join(append([]string{a.opt.DataDir, updatesDir}, p...)...)
}

// updateStatus is the updater's part of a report.
func (a *Agent) updateStatus() proto.UpdateStatus {
	a.mu.Lock()
	st := a.up
	offer := a.st.Offer
	a.mu.Unlock()
	st.Current = a.ver
	if offer != nil {
		st.Offered = offer.Version
	} else {
		st.Offered, st.Verified, st.Staged, st.Error = "", false, false, ""
	}
	if b, err := os.ReadFile(a.updatesPath(lastInstallFile)); err == nil {
		var r proto.InstallResult
		if json.Unmarshal(b, &r) == nil {
			st.LastInstall = &r
		}
	}
	return st
}

// UpdateCheck is the answer of `scanbox update --check --json`.
type UpdateCheck struct {
	Current  string `json:"current"`
	Offered  string `json:"offered"`
	Verified bool   `json:"verified"`
	Staged   bool   `json:"staged"`
	Error    string `json:"error"`
}

// CheckUpdate is `scanbox update --check`: it asks the fleet for its
// offer (one heartbeat; when the fleet is unreachable, the last offer
// known), and if there is one, downloads, verifies and stages it. Error is
// one sentence ("" when all is well).
func (a *Agent) CheckUpdate(ctx context.Context) UpdateCheck {
	if !a.Joined() {
		return UpdateCheck{Current: a.ver, Error: Sentence(ErrNotJoined)}
	}
	if err := a.Beat(ctx); err != nil {
		a.log.Info("update check: heartbeat failed; using the last offer", "reason", Sentence(err))
		// Beat stages a new offer itself; when it could not reach the
		// fleet, try the offer it knew.
		if _, serr := a.stageOffer(ctx); serr == nil || errors.Is(serr, errNoOffer) {
			err = nil
		}
		if err != nil {
			st := a.updateStatus()
			c := UpdateCheck{Current: st.Current, Offered: st.Offered, Verified: st.Verified, Staged: st.Staged, Error: st.Error}
			if c.Error == "" {
				c.Error = Sentence(err)
			}
			return c
		}
	}
	st := a.updateStatus()
	return UpdateCheck{Current: st.Current, Offered: st.Offered, Verified: st.Verified, Staged: st.Staged, Error: st.Error}
}

var errNoOffer = errors.New("agent: no update offered")

// stageOffer downloads and verifies the offered release and stages it.
// The result (and any refusal) is kept for the next report.
func (a *Agent) stageOffer(ctx context.Context) (Staged, error) {
	a.upMu.Lock()
	defer a.upMu.Unlock()
	a.mu.Lock()
	offer := a.st.Offer
	a.mu.Unlock()
	if offer == nil {
		a.setUp(proto.UpdateStatus{})
		return Staged{}, errNoOffer
	}
	s, err := a.fetchAndVerify(ctx, *offer)
	st := proto.UpdateStatus{Offered: offer.Version}
	if err != nil {
		var ue *UpdateError
		if errors.As(err, &ue) {
			st.Error = ue.Reason
			a.log.Warn("update refused", "version", offer.Version, "reason", ue.Reason)
		} else {
			st.Error = "the update could not be downloaded: " + Sentence(err)
		}
		a.setUp(st)
		return Staged{}, err
	}
	st.Verified, st.Staged = true, true
	a.setUp(st)
	return s, nil
}

func (a *Agent) setUp(st proto.UpdateStatus) {
	a.mu.Lock()
	a.up = st
	a.mu.Unlock()
}

// fetchAndVerify is the whole check chain, in the order of WireGuard for
// Windows' updater: signed manifest first (nothing else is trusted before
// it verifies), version rules, then the installer by its signed hash,
// then (Windows) its Authenticode signature; only then is it staged.
func (a *Agent) fetchAndVerify(ctx context.Context, offer proto.UpdateOffer) (Staged, error) {
	keys := trustedKeys()
	if len(keys) == 0 {
		return Staged{}, &UpdateError{Reason: ErrNoReleaseKey.Error(), Err: ErrNoReleaseKey}
	}
	base, key, err := a.creds()
	if err != nil {
		return Staged{}, err
	}
	if !strings.HasPrefix(offer.ManifestPath, proto.PathRelease+"/") || !strings.HasPrefix(offer.MSIPath, proto.PathRelease+"/") {
		return Staged{}, refusal(proto.ErrManifestMalformed, "the offer points outside the release API")
	}
	raw, err := a.send(ctx, base, http.MethodGet, offer.ManifestPath, nil, key, 64<<10)
	if err != nil {
		return Staged{}, err
	}
	m, err := verifyManifestBytes(raw, keys, a.now(), a.ver)
	if err != nil {
		return Staged{}, err
	}
	if m.Version != offer.Version {
		return Staged{}, refusal(proto.ErrManifestMalformed, "the manifest is for version "+m.Version+", the offer for "+offer.Version)
	}
	dir := a.updatesPath(safeName(m.Version))
	msiPath := filepath.Join(dir, "scanbox-"+safeName(m.Version)+".msi")
	manPath := filepath.Join(dir, "manifest.json")
	// Already staged and intact: nothing to download.
	if verifyFile(m, msiPath) == nil {
		if b, err := os.ReadFile(manPath); err == nil && string(b) == string(raw) {
			return a.recordStaged(m, msiPath, manPath)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Staged{}, fmt.Errorf("agent: %w", err)
	}
	tmp, err := a.download(ctx, base, offer.MSIPath, key, dir, m.MSISize)
	if err != nil {
		return Staged{}, err
	}
	defer os.Remove(tmp)
	if err := verifyFile(m, tmp); err != nil {
		return Staged{}, err
	}
	if err := verifyAuthenticode(tmp); err != nil {
		return Staged{}, refusal(ErrAuthenticode, err.Error())
	}
	if err := os.Rename(tmp, msiPath); err != nil {
		return Staged{}, fmt.Errorf("agent: stage installer: %w", err)
	}
	if err := writeAtomic(manPath, raw, 0o644); err != nil {
		return Staged{}, fmt.Errorf("agent: stage manifest: %w", err)
	}
	return a.recordStaged(m, msiPath, manPath)
}

func (a *Agent) recordStaged(m proto.Manifest, msiPath, manPath string) (Staged, error) {
	s := Staged{Version: m.Version, MSIPath: msiPath, ManifestPath: manPath, SHA256: strings.ToLower(m.MSISHA256)}
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := writeAtomic(a.updatesPath(stagedPointer), b, 0o644); err != nil {
		return Staged{}, fmt.Errorf("agent: stage: %w", err)
	}
	a.log.Info("update staged", "version", m.Version)
	return s, nil
}

// verifyManifestBytes parses and verifies a manifest for the running
// version: signature by a trusted key, not expired, newer than current,
// current not below its minimum version.
func verifyManifestBytes(raw []byte, keys []ed25519.PublicKey, now time.Time, current string) (proto.Manifest, error) {
	sm, err := proto.ParseSignedManifest(raw)
	if err != nil {
		return proto.Manifest{}, refusal(proto.ErrManifestMalformed, "")
	}
	m, err := proto.VerifyManifest(sm, keys, now)
	switch {
	case errors.Is(err, proto.ErrManifestExpired):
		return m, refusal(proto.ErrManifestExpired, "expired "+sm.Manifest.Expires.UTC().Format(time.RFC3339))
	case errors.Is(err, proto.ErrManifestSignature):
		return m, refusal(proto.ErrManifestSignature, "signed by key "+sm.KeyID)
	case err != nil:
		return m, refusal(proto.ErrManifestMalformed, "")
	}
	if err := proto.CheckUpdate(m, current); err != nil {
		switch {
		case errors.Is(err, proto.ErrUpdateOlder):
			return m, refusal(proto.ErrUpdateOlder, "offered "+m.Version+", installed "+current)
		case errors.Is(err, proto.ErrUpdateTooOld):
			return m, refusal(proto.ErrUpdateTooOld, "installed "+current+", minimum "+m.MinVersion)
		default:
			return m, refusal(proto.ErrManifestMalformed, "")
		}
	}
	return m, nil
}

func verifyFile(m proto.Manifest, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return refusal(proto.ErrMSIHash, "missing")
	}
	defer f.Close()
	if err := proto.VerifyMSI(m, f); err != nil {
		if errors.Is(err, proto.ErrMSIHash) {
			return refusal(proto.ErrMSIHash, "SHA-256 or size differs")
		}
		return refusal(proto.ErrMSIHash, err.Error())
	}
	return nil
}

// download streams the installer into a temp file in dir, reading at most
// size+1 bytes (a server cannot fill the disk).
func (a *Agent) download(ctx context.Context, base, path string, key ed25519.PrivateKey, dir string, size int64) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return "", fmt.Errorf("agent: %w", err)
	}
	ts := a.stampMs()
	proto.SignRequest(req, nil, key, time.UnixMilli(ts))
	resp, err := a.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	a.learnServerTime(resp.Header)
	if resp.StatusCode == http.StatusOK {
		a.accepted(ts)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: installer download: HTTP %d", ErrServer, resp.StatusCode)
	}
	f, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", fmt.Errorf("agent: %w", err)
	}
	_, err = io.Copy(f, io.LimitReader(resp.Body, size+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("%w: installer download: %v", ErrUnreachable, err)
	}
	return f.Name(), nil
}

// safeName keeps a version usable as a file name (it is already checked
// by ParseVersion; this is belt and braces against path tricks).
func safeName(v string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '.' || r == 'v' {
			return r
		}
		return '_'
	}, v)
}

// Installer hands a staged, verified release to whatever has the rights
// to install it. The platform's default (installer_windows.go) starts the
// SYSTEM scheduled task the MSI registers; that task runs
// `scanbox update --install-staged`, i.e. InstallStaged, which verifies
// everything again before msiexec runs.
type Installer interface {
	Handover(ctx context.Context, s Staged) error
}

// ErrInstallUnsupported: this OS has no privileged installer.
var ErrInstallUnsupported = errors.New("agent: installing updates is only possible on Windows")

// Install hands the staged release over for installation. Call it when no
// payment is in flight (the install restarts ScanBox). It re-verifies the
// staged files first, so a file changed after staging is never handed on.
func (a *Agent) Install(ctx context.Context) error {
	s, _, err := verifyStaged(a.opt.DataDir, a.now(), a.ver)
	if err != nil {
		return err
	}
	inst := a.opt.Installer
	if inst == nil {
		inst = platformInstaller{dataDir: a.opt.DataDir}
	}
	if err := inst.Handover(ctx, s); err != nil {
		return err
	}
	a.log.Info("update handed to the installer", "version", s.Version)
	return nil
}

// verifyStaged reads the staged pointer and checks the staged manifest
// and installer again from scratch.
func verifyStaged(dataDir string, now time.Time, current string) (Staged, proto.Manifest, error) {
	var s Staged
	b, err := os.ReadFile(filepath.Join(dataDir, updatesDir, stagedPointer))
	if err != nil {
		return s, proto.Manifest{}, &UpdateError{Reason: "no update is staged", Err: errNoOffer}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, proto.Manifest{}, refusal(proto.ErrManifestMalformed, "staged.json")
	}
	// Paths are rebuilt from the version, never taken from the file (it
	// lives in a directory the cashier's account can write).
	dir := filepath.Join(dataDir, updatesDir, safeName(s.Version))
	s.MSIPath = filepath.Join(dir, "scanbox-"+safeName(s.Version)+".msi")
	s.ManifestPath = filepath.Join(dir, "manifest.json")
	raw, err := os.ReadFile(s.ManifestPath)
	if err != nil {
		return s, proto.Manifest{}, refusal(proto.ErrManifestMalformed, "staged manifest missing")
	}
	keys := trustedKeys()
	if len(keys) == 0 {
		return s, proto.Manifest{}, &UpdateError{Reason: ErrNoReleaseKey.Error(), Err: ErrNoReleaseKey}
	}
	m, err := verifyManifestBytes(raw, keys, now, current)
	if err != nil {
		return s, m, err
	}
	if m.Version != s.Version {
		return s, m, refusal(proto.ErrManifestMalformed, "staged version differs from its manifest")
	}
	if err := verifyFile(m, s.MSIPath); err != nil {
		return s, m, err
	}
	if err := verifyAuthenticode(s.MSIPath); err != nil {
		return s, m, refusal(ErrAuthenticode, err.Error())
	}
	s.SHA256 = strings.ToLower(m.MSISHA256)
	return s, m, nil
}

// Runner runs a program and waits for it (os/exec in production).
type Runner func(ctx context.Context, name string, args ...string) error

// ErrNoInstallRequest: InstallRequested found no request (nothing to do).
var ErrNoInstallRequest = errors.New("agent: no update installation was requested")

// InstallRequested is what the SYSTEM task runs every few minutes
// (`scanbox update --install-staged --if-requested`): if the agent asked
// for an install (Install with the default Installer), the request is
// consumed and InstallStaged runs; otherwise ErrNoInstallRequest and
// nothing else happens.
func InstallRequested(ctx context.Context, dataDir string, run Runner) (proto.InstallResult, error) {
	p := filepath.Join(dataDir, updatesDir, installRequestFile)
	if _, err := os.Stat(p); err != nil {
		return proto.InstallResult{}, ErrNoInstallRequest
	}
	// Consumed before the attempt: a release that fails to install is not
	// retried every 5 minutes; the agent asks again (and the failure is
	// reported meanwhile).
	if err := os.Remove(p); err != nil {
		return proto.InstallResult{}, fmt.Errorf("agent: install request: %w", err)
	}
	return InstallStaged(ctx, dataDir, run)
}

// InstallStaged is the privileged side (`scanbox update --install-staged`,
// run by the SYSTEM task): it verifies the staged release again with the
// key built into this binary and against this binary's version, runs
// `msiexec /i FILE /qn /norestart /l*v LOG`, and writes the result to
// DATA_DIR/updates/last-install.json, which the agent reports. run nil
// uses os/exec.
func InstallStaged(ctx context.Context, dataDir string, run Runner) (proto.InstallResult, error) {
	if run == nil {
		run = execRunner
	}
	now := time.Now()
	s, _, err := verifyStaged(dataDir, now, version.Version)
	res := proto.InstallResult{Version: s.Version, At: now.UTC()}
	if err == nil {
		logPath := filepath.Join(dataDir, updatesDir, "msiexec-"+safeName(s.Version)+".log")
		if rerr := run(ctx, systemTool("msiexec"), "/i", s.MSIPath, "/qn", "/norestart", "/l*v", logPath); rerr != nil && !msiSucceeded(rerr) {
			err = fmt.Errorf("agent: msiexec: %w", rerr)
		}
	}
	return recordInstall(dataDir, res, err)
}

// recordInstall writes the result of an install attempt (err nil: it
// succeeded) to DATA_DIR/updates/last-install.json, which the agent reports.
func recordInstall(dataDir string, res proto.InstallResult, err error) (proto.InstallResult, error) {
	res.OK = err == nil
	if err != nil {
		res.Error = Sentence(err)
		var ue *UpdateError
		if !errors.As(err, &ue) {
			res.Error = "the installer failed: " + err.Error()
		}
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	if werr := writeAtomic(filepath.Join(dataDir, updatesDir, lastInstallFile), b, 0o644); werr != nil && err == nil {
		err = fmt.Errorf("agent: record install result: %w", werr)
	}
	return res, err
}
