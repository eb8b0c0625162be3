// Package agent is the plug-in's side of the bank's fleet (scanbox-fleet):
// enrollment with a per-terminal ed25519 key, the inspection heartbeat with
// its bounded on-disk queue, remote configuration, support-bundle upload on
// request, and the signed, staged updater (updater.go).
//
// It speaks only the wire types of fleet/proto and never imports the fleet
// server. It must never affect payments: nothing here is called on a
// payment path except the non-blocking counters (CountPayment,
// CountError); a fleet that is down, slow or hostile disables the fleet
// feature only. It must never send a key, a PIN or a full payment code:
// the support bundle passes SanitizeBundle before it leaves the PC, and the
// bank identity (bank URL, merchant, terminal) is never changed from here —
// only activation changes it.
package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/version"
)

// Errors. What a cashier or support person sees is Sentence(err).
var (
	ErrNotJoined      = errors.New("agent: this terminal has not joined a fleet")
	ErrJoinRefused    = errors.New("agent: the fleet refused the enrollment code")
	ErrUnreachable    = errors.New("agent: the fleet server cannot be reached")
	ErrAuthRefused    = errors.New("agent: the fleet did not accept this terminal's key")
	ErrDisabled       = errors.New("agent: the bank has disabled fleet reporting for this terminal")
	ErrIdentityChange = errors.New("agent: refused a remote change of the bank identity; only activation changes it")
	ErrBadSetting     = errors.New("agent: a remote setting is out of range")
	ErrServer         = errors.New("agent: the fleet server answered with an error")
)

// stateFile holds what is not secret about the enrollment, the report
// sequence and the applied configuration version.
const stateFile = "fleet.json"

// State is the persistent, non-secret agent state (DATA_DIR/fleet.json).
type State struct {
	URL           string         `json:"url"`
	TerminalUID   string         `json:"terminal_uid"`
	KeyID         string         `json:"key_id"`
	Identity      proto.Identity `json:"identity"`
	JoinedAt      time.Time      `json:"joined_at"`
	Seq           uint64         `json:"seq"`
	ConfigVersion int64          `json:"config_version"`
	ConfigError   string         `json:"config_error,omitempty"`
	Disabled      bool           `json:"disabled,omitempty"`
	Dropped       int            `json:"dropped"` // reports dropped from the full queue, ever
	IntervalSec   int            `json:"interval_sec,omitempty"`
	LastOKAt      *time.Time     `json:"last_ok_at,omitempty"`
	LastError     string         `json:"last_error,omitempty"`
	// Offer is the last update offer the fleet made ("" none).
	Offer *proto.UpdateOffer `json:"offer,omitempty"`
}

// Options configure an Agent. Only DataDir is required.
type Options struct {
	DataDir string
	// Status, Config and Bundle are the plug-in's parts; nil ones report
	// "unknown", refuse remote configuration, or refuse log requests.
	Status StatusSource
	Config ConfigApplier
	Bundle BundleSource
	// Secrets are extra byte strings that must never leave the PC in a
	// support bundle (the agent adds its own key and the bank signing key
	// and code key found in DataDir).
	Secrets [][]byte
	// Logger receives the agent's own log; nil discards.
	Logger *slog.Logger
	// HTTPClient; nil uses one with a 30 s timeout.
	HTTPClient *http.Client
	// Interval overrides the heartbeat interval; the server's
	// NextIntervalSec is ignored when it is set (tests, load tools).
	Interval time.Duration
	// QueueMax and QueueMaxBytes bound the on-disk report queue
	// (defaults 1000 reports, 1 MiB).
	QueueMax      int
	QueueMaxBytes int
	// Version is the running version (default version.Version).
	Version string
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// Installer hands a staged update to the privileged installer; nil
	// uses the platform's (the SYSTEM scheduled task on Windows).
	Installer Installer
}

// Agent is one terminal's fleet agent. Its methods are safe for concurrent
// use; Run is the heartbeat loop.
type Agent struct {
	opt Options
	log *slog.Logger
	hc  *http.Client
	now func() time.Time
	ver string

	mu   sync.Mutex // guards st, key, tsMs, tsOK, skew, sess, noSessUntil
	st   State
	key  ed25519.PrivateKey
	skew time.Duration // server clock minus ours, from HeaderServerTime
	tsMs int64         // last request timestamp sent (strictly increasing)
	tsOK int64         // last timestamp the fleet accepted
	// sess is the open fleet session (client.go), in memory only;
	// noSessUntil is when to try opening one again after the fleet did
	// not (a.mu).
	sess        *agentSession
	noSessUntil time.Time
	openMu      sync.Mutex // one session opening at a time
	queue       *queue
	up          proto.UpdateStatus // the updater's last result (a.mu)
	// pendingDropped counts reports dropped since the last report (a.mu).
	pendingDropped int

	beatMu sync.Mutex // one heartbeat exchange at a time
	upMu   sync.Mutex // one update check at a time

	cmu      sync.Mutex
	payments map[[2]string]*proto.PaymentCount
	errs     map[string]int

	kick    chan struct{}
	started time.Time
}

// New opens the agent for a data directory. It does not contact the fleet.
// An agent that has not joined is valid: Run waits for Join.
func New(opt Options) (*Agent, error) {
	if opt.DataDir == "" {
		return nil, errors.New("agent: no data directory")
	}
	a := &Agent{opt: opt, log: opt.Logger, hc: opt.HTTPClient, now: opt.Now, ver: opt.Version,
		payments: map[[2]string]*proto.PaymentCount{}, errs: map[string]int{}, kick: make(chan struct{}, 1)}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if a.hc == nil {
		a.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.ver == "" {
		a.ver = version.Version
	}
	a.started = a.now()
	if err := os.MkdirAll(opt.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(opt.DataDir, stateFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &a.st); err != nil {
			return nil, fmt.Errorf("agent: %s is damaged: %w", stateFile, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("agent: %w", err)
	}
	if a.st.TerminalUID != "" {
		k, err := config.LoadFleetKey(opt.DataDir)
		if err != nil {
			return nil, fmt.Errorf("agent: fleet key: %w", err)
		}
		if len(k) != ed25519.PrivateKeySize {
			return nil, errors.New("agent: the fleet key file is damaged; join the fleet again")
		}
		a.key = ed25519.PrivateKey(k)
	}
	maxN, maxB := opt.QueueMax, opt.QueueMaxBytes
	if maxN <= 0 {
		maxN = 1000
	}
	if maxB <= 0 {
		maxB = 1 << 20
	}
	a.queue, err = openQueue(filepath.Join(opt.DataDir, "fleet-queue.jsonl"), maxN, maxB)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Joined reports whether the terminal has a fleet identity.
func (a *Agent) Joined() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st.TerminalUID != "" && a.key != nil
}

// State returns a copy of the persistent state (for `scanbox fleet status`).
func (a *Agent) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st
}

// Status is `scanbox fleet status --json`.
type Status struct {
	Joined        bool        `json:"joined"`
	URL           string      `json:"url,omitempty"`
	TerminalUID   string      `json:"terminal_uid,omitempty"`
	Disabled      bool        `json:"disabled"`
	LastOKAt      *time.Time  `json:"last_ok_at,omitempty"`
	LastError     string      `json:"last_error,omitempty"`
	Queued        int         `json:"queued"`
	Dropped       int         `json:"dropped"`
	IntervalSec   int         `json:"interval_sec"`
	ConfigVersion int64       `json:"config_version"`
	ConfigError   string      `json:"config_error,omitempty"`
	Update        UpdateCheck `json:"update"`
}

// Status reports the agent's state without contacting the fleet.
func (a *Agent) Status() Status {
	st := a.State()
	up := a.updateStatus()
	return Status{
		Joined: a.Joined(), URL: st.URL, TerminalUID: st.TerminalUID, Disabled: st.Disabled,
		LastOKAt: st.LastOKAt, LastError: st.LastError, Queued: a.QueueLen(), Dropped: st.Dropped,
		IntervalSec: int(a.interval() / time.Second), ConfigVersion: st.ConfigVersion, ConfigError: st.ConfigError,
		Update: UpdateCheck{Current: up.Current, Offered: up.Offered, Verified: up.Verified, Staged: up.Staged, Error: up.Error},
	}
}

// QueueLen is the number of reports waiting to be sent.
func (a *Agent) QueueLen() int { return a.queue.len() }

// saveStateLocked writes fleet.json atomically (a.mu held).
func (a *Agent) saveStateLocked() error {
	b, err := json.MarshalIndent(a.st, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(a.opt.DataDir, stateFile), b, 0o644)
}

// Join enrolls this terminal with the fleet at url using a single-use
// enrollment code. It generates a new ed25519 key pair here, stores the
// private half protected (config.SaveFleetKey: DPAPI on Windows, a 0600
// file elsewhere) and sends the public half with the identity. Joining
// again (a new code) replaces the key.
func (a *Agent) Join(ctx context.Context, url, code string, id proto.Identity) error {
	if url == "" || code == "" {
		return fmt.Errorf("%w: the fleet URL and the enrollment code are both needed", ErrJoinRefused)
	}
	if id.MchID == "" || id.TerminalID == "" {
		return errors.New("agent: activate ScanBox before joining a fleet (no merchant or terminal number)")
	}
	url = trimSlash(url)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("agent: key: %w", err)
	}
	host, _ := os.Hostname()
	req := proto.EnrollRequest{Code: code, PublicKey: pub, Identity: id, AppVersion: a.ver, OS: osName(), Hostname: host}
	var resp proto.EnrollResponse
	if err := a.do(ctx, url, http.MethodPost, proto.PathEnroll, req, priv, &resp); err != nil {
		if errors.Is(err, errForbidden) {
			return ErrJoinRefused
		}
		return err
	}
	if resp.KeyID != proto.KeyID(pub) {
		return fmt.Errorf("%w: enrollment answer names another key", ErrServer)
	}
	// Crash safety: the key is saved before the state that names it, so a
	// state file never points at a key that is not there.
	if err := config.SaveFleetKey(a.opt.DataDir, priv); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.st = State{URL: url, TerminalUID: resp.TerminalUID, KeyID: resp.KeyID, Identity: id, JoinedAt: a.now().UTC(),
		Seq: a.st.Seq, ConfigVersion: a.st.ConfigVersion, Dropped: a.st.Dropped, IntervalSec: resp.HeartbeatIntervalSec}
	a.key = priv
	a.forgetSessionLocked()
	if err := a.saveStateLocked(); err != nil {
		return fmt.Errorf("agent: save state: %w", err)
	}
	a.log.Info("fleet joined", "fleet_url", url, "terminal_uid", resp.TerminalUID)
	a.Kick()
	return nil
}

// Join is the one-call form for `scanbox fleet join`: it opens the agent in
// dataDir and enrolls.
func Join(ctx context.Context, dataDir, url, code string, id proto.Identity) error {
	a, err := New(Options{DataDir: dataDir})
	if err != nil {
		return err
	}
	return a.Join(ctx, url, code, id)
}

func osName() string { return runtime.GOOS + "/" + runtime.GOARCH }

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// Sentence turns an agent error into one sentence for support staff (no
// Go prefixes, no chain).
func Sentence(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotJoined):
		return "This terminal has not joined the bank's fleet."
	case errors.Is(err, ErrJoinRefused):
		return "The fleet refused the enrollment code (unknown or already used)."
	case errors.Is(err, ErrUnreachable):
		return "The fleet server cannot be reached; reports are kept and sent later."
	case errors.Is(err, ErrAuthRefused):
		return "The fleet did not accept this terminal's key; join the fleet again."
	case errors.Is(err, ErrDisabled):
		return "The bank has disabled fleet reporting for this terminal."
	case errors.Is(err, ErrIdentityChange):
		return "A remote change of the bank identity was refused; only activation changes it."
	}
	var ue *UpdateError
	if errors.As(err, &ue) {
		return ue.Reason
	}
	return "The fleet feature failed; payments are not affected."
}
