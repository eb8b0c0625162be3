// Package fleet is the bank's terminal management server behind
// `scanbox-fleet serve`: the API agents report to (enrollment, heartbeats,
// log bundles, release downloads), the staff API for scripts, and the
// console (server-rendered pages). Storage is in fleet/store; the wire types
// shared with the plug-in are in fleet/proto.
//
// The server keeps no state of its own between requests: sessions, CSRF
// tokens, login rate limits, replay protection and rollout decisions are
// all in the database or derived from it, so any number of instances can
// share one PostgreSQL database. It never imports the plug-in, and it never
// holds a release signing key: it stores and serves what the release
// officer signed offline.
package fleet

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/store"
)

// Options configure a Server.
type Options struct {
	// SecureCookies marks session cookies Secure even on plain HTTP (set
	// when TLS terminates in a proxy in front); cookies are always Secure
	// when the request came over TLS or X-Forwarded-Proto says https.
	SecureCookies bool
	// Logger receives request errors; nil discards.
	Logger *slog.Logger
	// ReleaseKeys, when set, are the release officer's public keys: a
	// published manifest must be signed by one (agents check regardless).
	ReleaseKeys []ed25519.PublicKey
	// CacheTTL is how long releases and configuration scopes are reused
	// between heartbeats (default 2 s; negative: read them every time).
	CacheTTL time.Duration
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Server serves the fleet.
type Server struct {
	st   *store.Store
	opt  Options
	log  *slog.Logger
	now  func() time.Time
	mux  *http.ServeMux
	tmpl *templates

	hbq  chan hbReq
	stop chan struct{}

	// Short-lived read caches of data every heartbeat needs. They are
	// derived from the database (a change made through another instance is
	// seen within CacheTTL), never a source of truth.
	cmu      sync.Mutex
	cacheAt  time.Time
	releases []store.Release
	configs  []store.ConfigEntry
	keys     map[string]store.AgentKey // key id -> uid and public key (immutable per key id)
	sessions map[string]store.AgentSession
}

const defaultCacheTTL = 2 * time.Second

// hbReq is one authenticated heartbeat waiting for the group commit.
type hbReq struct {
	item store.HeartbeatItem
	done chan store.HeartbeatOutcome
}

// maxBatch bounds one group commit.
const maxBatch = 256

// A batch of fewer than lingerBelow reports waits up to batchLinger for
// more before it commits: a little latency for fewer commits.
const (
	lingerBelow = 16
	batchLinger = 2 * time.Millisecond
)

// New builds a server on st.
func New(st *store.Store, opt Options) *Server {
	s := &Server{st: st, opt: opt, log: opt.Logger, now: opt.Now}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.tmpl = loadTemplates()
	s.mux = http.NewServeMux()
	s.hbq = make(chan hbReq, 4*maxBatch)
	s.stop = make(chan struct{})
	s.keys = map[string]store.AgentKey{}
	s.sessions = map[string]store.AgentSession{}
	s.routes()
	go s.commitLoop()
	go s.warmKeys()
	go s.maintain()
	return s
}

// maintain refreshes the database's planner statistics every hour, so
// that the console's queries stay planned for the fleet's current size.
func (s *Server) maintain() {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := s.st.Optimize(ctx); err != nil {
				s.log.Warn("refreshing planner statistics", "err", err)
			}
			cancel()
		case <-s.stop:
			return
		}
	}
}

// warmKeys fills the key cache from the database, so that the first
// report of each terminal after a restart does not cost a lookup of its
// own. A failure only leaves the cache cold.
func (s *Server) warmKeys() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := map[string]store.AgentKey{}
	err := s.st.AgentKeys(ctx, func(id string, k store.AgentKey) {
		if len(m) < maxCachedKeys {
			m[id] = k
		}
	})
	if err != nil {
		s.log.Warn("warming the key cache", "err", err)
		return
	}
	s.cmu.Lock()
	for id, k := range m {
		if _, ok := s.keys[id]; !ok && len(s.keys) < maxCachedKeys {
			s.keys[id] = k
		}
	}
	s.cmu.Unlock()
}

// maxCachedKeys bounds the key cache (about 100 bytes a key).
const maxCachedKeys = 500_000

// cacheKey remembers a key id's terminal and public key.
func (s *Server) cacheKey(id string, k store.AgentKey) {
	s.cmu.Lock()
	if len(s.keys) >= maxCachedKeys {
		s.keys = map[string]store.AgentKey{}
	}
	s.keys[id] = store.AgentKey{UID: k.UID, PublicKey: k.PublicKey}
	s.cmu.Unlock()
}

// Close stops the group-commit goroutine (after the HTTP server stopped).
func (s *Server) Close() { close(s.stop) }

// commitLoop writes heartbeats in batches: whatever arrived while the
// previous batch was committing goes into the next one. A heartbeat is
// answered only after its batch committed.
func (s *Server) commitLoop() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var first hbReq
		select {
		case first = <-s.hbq:
		case <-s.stop:
			return
		}
		batch := []hbReq{first}
		// Gather what is queued; a small batch waits up to batchLinger for
		// more, since each commit costs about as much as ten reports.
		linger := (<-chan time.Time)(nil)
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-s.hbq:
				batch = append(batch, r)
				continue
			default:
			}
			if linger == nil && len(batch) < lingerBelow && batchLinger > 0 {
				timer.Reset(batchLinger)
				linger = timer.C
			}
			if linger == nil {
				break
			}
			select {
			case r := <-s.hbq:
				batch = append(batch, r)
			case <-linger:
				linger = nil
				break fill
			}
		}
		if linger != nil {
			timer.Stop() // Go 1.23 timers: no stale tick after Stop
		}
		items := make([]store.HeartbeatItem, len(batch))
		for i, r := range batch {
			items[i] = r.item
		}
		out := s.st.HeartbeatBatch(context.Background(), items)
		for i, r := range batch {
			r.done <- out[i]
		}
	}
}

// cached returns the releases and configuration scopes, at most CacheTTL old.
func (s *Server) cached(ctx context.Context) ([]store.Release, []store.ConfigEntry, error) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	ttl := s.opt.CacheTTL
	if ttl == 0 {
		ttl = defaultCacheTTL
	}
	if time.Since(s.cacheAt) < ttl && s.releases != nil {
		return s.releases, s.configs, nil
	}
	rel, err := s.st.ListReleases(ctx)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := s.st.ListConfigs(ctx)
	if err != nil {
		return nil, nil, err
	}
	if rel == nil {
		rel = []store.Release{}
	}
	s.releases, s.configs, s.cacheAt = rel, cfg, time.Now()
	return rel, cfg, nil
}

// invalidate drops the caches after a change made through this instance.
func (s *Server) invalidate() {
	s.cmu.Lock()
	s.cacheAt = time.Time{}
	s.cmu.Unlock()
}

// agentKey looks a key id up, from the cache when possible. A key id names
// one public key forever; whether it still speaks for its terminal (not
// replaced by a re-enrollment) is checked inside the heartbeat transaction.
func (s *Server) agentKey(ctx context.Context, keyID string) (store.AgentKey, error) {
	s.cmu.Lock()
	k, ok := s.keys[keyID]
	s.cmu.Unlock()
	if ok {
		return k, nil
	}
	k, err := s.st.AgentKeyByID(ctx, keyID)
	if err != nil {
		return k, err
	}
	s.cacheKey(keyID, k)
	return k, nil
}

// Handler is the HTTP handler of the whole server.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("POST "+proto.PathEnroll, s.handleEnroll)
	m.HandleFunc("POST "+proto.PathHeartbeat, s.handleHeartbeat)
	m.HandleFunc("POST "+proto.PathSession, s.handleSession)
	m.HandleFunc("POST "+proto.PathLogUpload+"/{id}", s.handleLogUpload)
	m.HandleFunc("GET "+proto.PathRelease+"/{version}/{file}", s.handleReleaseFile)
	m.HandleFunc("GET /api/v1/terminals", s.handleAPITerminals)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	s.consoleRoutes()
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

type apiError struct {
	Error string `json:"error"`
}

func (s *Server) agentError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{msg})
}

func (s *Server) setServerTime(w http.ResponseWriter) {
	w.Header().Set(proto.HeaderServerTime, strconv.FormatInt(s.now().UnixMilli(), 10))
}

func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, max))
}

const maxAgentBody = 256 << 10

// agentCaller is what an authenticated agent request speaks for.
type agentCaller struct {
	UID, KeyID string // the terminal and the key that signed or opened the session
	TsMillis   int64
}

// verifyAgent authenticates an agent request, signed with the terminal's
// key or MACed in a session it opened (proto/session.go). It does not
// advance the terminal's last timestamp and does not know whether the key
// is still the terminal's: callers check both in the database (inside
// the heartbeat transaction, or authAgentOnce).
func (s *Server) verifyAgent(r *http.Request, body []byte) (agentCaller, error) {
	ctx := r.Context()
	sa, isSession, err := proto.ParseSessionAuth(r.Header)
	if isSession {
		if err != nil {
			return agentCaller{}, err
		}
		sess, err := s.agentSession(ctx, sa.SessionID)
		if errors.Is(err, store.ErrNotFound) {
			return agentCaller{}, fmt.Errorf("%w: unknown session", proto.ErrAuthSignature)
		}
		if err != nil {
			return agentCaller{}, err
		}
		if !s.now().Before(sess.ExpiresAt) {
			return agentCaller{}, fmt.Errorf("%w: session expired", proto.ErrAuthStale)
		}
		if err := sa.Verify(sess.Key, r.Method, r.URL.RequestURI(), body, s.now()); err != nil {
			return agentCaller{}, err
		}
		return agentCaller{UID: sess.UID, KeyID: sess.KeyID, TsMillis: sa.TsMillis}, nil
	}
	a, err := proto.ParseAuth(r.Header)
	if err != nil {
		return agentCaller{}, err
	}
	k, err := s.agentKey(ctx, a.KeyID)
	if errors.Is(err, store.ErrNotFound) {
		return agentCaller{}, proto.ErrAuthSignature
	}
	if err != nil {
		return agentCaller{}, err
	}
	// The replay check against the last timestamp is the caller's
	// compare-and-set in the database, so 0 here.
	if err := a.Verify(k.PublicKey, r.Method, r.URL.RequestURI(), body, s.now(), 0); err != nil {
		return agentCaller{}, err
	}
	return agentCaller{UID: k.UID, KeyID: a.KeyID, TsMillis: a.TsMillis}, nil
}

// agentSession looks a session up, from the cache when possible (a
// session's key and terminal never change; its expiry is checked on use).
func (s *Server) agentSession(ctx context.Context, id string) (store.AgentSession, error) {
	s.cmu.Lock()
	sess, ok := s.sessions[id]
	s.cmu.Unlock()
	if ok {
		return sess, nil
	}
	sess, err := s.st.AgentSessionByID(ctx, id)
	if err != nil {
		return sess, err
	}
	s.cacheSession(sess)
	return sess, nil
}

func (s *Server) cacheSession(sess store.AgentSession) {
	s.cmu.Lock()
	if len(s.sessions) >= maxCachedKeys {
		s.sessions = map[string]store.AgentSession{}
	}
	s.sessions[sess.ID] = sess
	s.cmu.Unlock()
}

func (s *Server) refuseAuth(w http.ResponseWriter, r *http.Request, err error) {
	if isAuthErr(err) {
		s.log.Info("agent request refused", "path", r.URL.Path, "reason", err.Error())
		s.agentError(w, http.StatusUnauthorized, "request not authenticated")
		return
	}
	s.log.Error("agent request", "path", r.URL.Path, "err", err)
	s.agentError(w, http.StatusInternalServerError, "server error")
}

func isAuthErr(err error) bool {
	for _, e := range []error{proto.ErrAuthMissing, proto.ErrAuthMalformed, proto.ErrAuthSignature, proto.ErrAuthStale, proto.ErrAuthReplay, store.ErrReplay} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	s.setServerTime(w)
	body, err := readBody(w, r, maxAgentBody)
	if err != nil {
		s.agentError(w, http.StatusBadRequest, "body too large")
		return
	}
	var req proto.EnrollRequest
	if err := json.Unmarshal(body, &req); err != nil || len(req.PublicKey) != 32 || req.Identity.MchID == "" || req.Identity.TerminalID == "" {
		s.agentError(w, http.StatusBadRequest, "malformed enrollment request")
		return
	}
	a, err := proto.ParseAuth(r.Header)
	if err == nil {
		// Proof of possession of the key being enrolled.
		err = a.Verify(req.PublicKey, r.Method, r.URL.RequestURI(), body, s.now(), 0)
	}
	if err != nil {
		s.refuseAuth(w, r, err)
		return
	}
	uid, err := s.st.Enroll(r.Context(), req, s.now())
	if errors.Is(err, store.ErrCodeInvalid) {
		s.agentError(w, http.StatusForbidden, "enrollment code unknown or already used")
		return
	}
	if err != nil {
		s.refuseAuth(w, r, err)
		return
	}
	if err := s.st.TouchAuth(r.Context(), uid, a.TsMillis); err != nil {
		s.refuseAuth(w, r, err)
		return
	}
	s.cacheKey(proto.KeyID(req.PublicKey), store.AgentKey{UID: uid, PublicKey: req.PublicKey})
	s.log.Info("terminal enrolled", "terminal_uid", uid, "mch_id", req.Identity.MchID, "terminal_id", req.Identity.TerminalID)
	writeJSON(w, http.StatusOK, proto.EnrollResponse{
		TerminalUID: uid, KeyID: proto.KeyID(req.PublicKey),
		HeartbeatIntervalSec: int(proto.DefaultHeartbeatInterval / time.Second), ServerTime: s.now().UTC(),
	})
}

func (s *Server) handleHeartbeat(w http.ResponseWriter, r *http.Request) {
	s.setServerTime(w)
	body, err := readBody(w, r, maxAgentBody)
	if err != nil {
		s.agentError(w, http.StatusBadRequest, "body too large")
		return
	}
	ctx := r.Context()
	c, err := s.verifyAgent(r, body)
	if err != nil {
		s.refuseAuth(w, r, err)
		return
	}
	var hb proto.Heartbeat
	if err := json.Unmarshal(body, &hb); err != nil {
		s.agentError(w, http.StatusBadRequest, "malformed heartbeat")
		return
	}
	releases, configs, err := s.cached(ctx)
	if err != nil {
		s.refuseAuth(w, r, err)
		return
	}
	// The latest state is stored as JSON; it is encoded here, in the
	// request's goroutine, not in the one group-commit goroutine.
	state, err := json.Marshal(hb)
	if err != nil {
		s.agentError(w, http.StatusBadRequest, "malformed heartbeat")
		return
	}
	now := s.now()
	req := hbReq{item: store.HeartbeatItem{UID: c.UID, KeyID: c.KeyID, TsMs: c.TsMillis, HB: hb, Now: now, NewestFull: store.NewestFull(releases), State: state},
		done: make(chan store.HeartbeatOutcome, 1)}
	select {
	case s.hbq <- req:
	case <-ctx.Done():
		return
	}
	out := <-req.done
	if errors.Is(out.Err, store.ErrNotFound) {
		out.Err = proto.ErrAuthSignature // key replaced by a re-enrollment
	}
	if out.Err != nil {
		s.refuseAuth(w, r, out.Err)
		return
	}
	res := out.Res
	resp := proto.HeartbeatResponse{ServerTime: now.UTC(), NextIntervalSec: res.IntervalSec, Disabled: res.Disabled}
	if res.Disabled {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	cfg := store.MergeConfig(configs, c.UID, res.Group)
	if cfg.Version > hb.ConfigVersion {
		resp.Config = &cfg
	}
	if cfg.Settings.HeartbeatIntervalSec != nil && *cfg.Settings.HeartbeatIntervalSec >= 10 {
		resp.NextIntervalSec = *cfg.Settings.HeartbeatIntervalSec
	}
	if res.PendingLog != "" {
		resp.LogRequest = &proto.LogRequest{ID: res.PendingLog}
	}
	if rel, ok := store.OfferFor(c.UID, res.AppVersion, res.Pin, releases); ok {
		resp.Update = &proto.UpdateOffer{
			Version:      rel.Version,
			ManifestPath: proto.PathRelease + "/" + rel.Version + "/manifest",
			MSIPath:      proto.PathRelease + "/" + rel.Version + "/msi",
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// authAgentOnce authenticates a non-heartbeat request, checks that its
// key is still the terminal's and the terminal not disabled, and advances
// the terminal's timestamp.
func (s *Server) authAgentOnce(w http.ResponseWriter, r *http.Request, body []byte) (agentCaller, bool) {
	c, err := s.verifyAgent(r, body)
	var k store.AgentKey
	if err == nil {
		// Current keys only: re-enrolling replaces the key id.
		if k, err = s.st.AgentKeyByID(r.Context(), c.KeyID); errors.Is(err, store.ErrNotFound) {
			err = proto.ErrAuthSignature
		}
	}
	if err == nil {
		err = s.st.TouchAuth(r.Context(), k.UID, c.TsMillis)
	}
	if err != nil {
		s.refuseAuth(w, r, err)
		return c, false
	}
	if k.Disabled {
		s.agentError(w, http.StatusForbidden, "terminal disabled")
		return c, false
	}
	return c, true
}

// handleSession opens an agent session (proto/session.go). Only a request
// signed with the terminal's key may open one.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	s.setServerTime(w)
	body, err := readBody(w, r, maxAgentBody)
	if err != nil {
		s.agentError(w, http.StatusBadRequest, "body too large")
		return
	}
	if r.Header.Get(proto.HeaderSession) != "" {
		s.refuseAuth(w, r, fmt.Errorf("%w: a session is opened with the terminal key", proto.ErrAuthSignature))
		return
	}
	c, ok := s.authAgentOnce(w, r, body)
	if !ok {
		return
	}
	var req proto.SessionRequest
	var pub *ecdh.PublicKey
	if err = json.Unmarshal(body, &req); err == nil {
		pub, err = ecdh.X25519().NewPublicKey(req.X25519)
	}
	if err != nil {
		s.agentError(w, http.StatusBadRequest, "malformed session request")
		return
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		s.refuseAuth(w, r, err)
		return
	}
	shared, err := priv.ECDH(pub)
	if err != nil { // a low-order point
		s.agentError(w, http.StatusBadRequest, "malformed session request")
		return
	}
	idb := make([]byte, 16)
	rand.Read(idb)
	sess := store.AgentSession{ID: "as" + hex.EncodeToString(idb), UID: c.UID, KeyID: c.KeyID, ExpiresAt: s.now().Add(proto.SessionTTL)}
	if sess.Key, err = proto.SessionKey(shared, sess.ID, c.KeyID); err == nil {
		err = s.st.CreateAgentSession(r.Context(), sess, s.now())
	}
	if err != nil {
		s.refuseAuth(w, r, err)
		return
	}
	s.cacheSession(sess)
	writeJSON(w, http.StatusOK, proto.SessionResponse{SessionID: sess.ID, X25519: priv.PublicKey().Bytes(), ExpiresAt: sess.ExpiresAt.UTC()})
}

func (s *Server) handleLogUpload(w http.ResponseWriter, r *http.Request) {
	s.setServerTime(w)
	body, err := readBody(w, r, proto.MaxLogBundleBytes)
	if err != nil {
		s.agentError(w, http.StatusRequestEntityTooLarge, "bundle too large")
		return
	}
	k, ok := s.authAgentOnce(w, r, body)
	if !ok {
		return
	}
	if err := s.st.StoreLogBundle(r.Context(), k.UID, r.PathValue("id"), body); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.agentError(w, http.StatusNotFound, "no such log request")
			return
		}
		s.refuseAuth(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleReleaseFile(w http.ResponseWriter, r *http.Request) {
	s.setServerTime(w)
	if _, ok := s.authAgentOnce(w, r, nil); !ok {
		return
	}
	manifest, msi, err := s.st.ReleaseFile(r.Context(), r.PathValue("version"))
	if errors.Is(err, store.ErrNotFound) {
		s.agentError(w, http.StatusNotFound, "no such release")
		return
	}
	if err != nil {
		s.refuseAuth(w, r, err)
		return
	}
	switch r.PathValue("file") {
	case "manifest":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, manifest)
	case "msi":
		w.Header().Set("Content-Type", "application/x-msi")
		w.Header().Set("Content-Length", strconv.Itoa(len(msi)))
		w.Write(msi)
	default:
		s.agentError(w, http.StatusNotFound, "no such file")
	}
}

// bearerUser resolves "Authorization: Bearer TOKEN".
func (s *Server) bearerUser(r *http.Request) (store.User, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return store.User{}, false
	}
	u, err := s.st.UserByToken(r.Context(), strings.TrimSpace(tok))
	return u, err == nil
}

// apiTerminal is the documented JSON shape of GET /api/v1/terminals.
type apiTerminal struct {
	MchID            string   `json:"mch_id"`
	TerminalID       string   `json:"terminal_id"`
	TerminalSN       string   `json:"terminal_sn"`
	DeviceID         string   `json:"device_id"`
	AppVersion       string   `json:"app_version"`
	LastSeen         string   `json:"last_seen"`
	Online           bool     `json:"online"`
	UnresolvedOrders int      `json:"unresolved_orders"`
	Alerts           []string `json:"alerts"`
	Disabled         bool     `json:"disabled"`
	UID              string   `json:"terminal_uid"`
}

func (s *Server) handleAPITerminals(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.bearerUser(r); !ok {
		writeJSON(w, http.StatusUnauthorized, apiError{"a valid API token is required (Authorization: Bearer TOKEN)"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// Streamed: 50,000 terminals are not held in memory twice.
	io.WriteString(w, "[")
	first := true
	enc := json.NewEncoder(w)
	err := s.st.EachTerminal(r.Context(), s.now(), false, func(t store.Terminal) error {
		if !first {
			io.WriteString(w, ",")
		}
		first = false
		ls := ""
		if !t.LastSeen.IsZero() {
			ls = t.LastSeen.Format(time.RFC3339)
		}
		return enc.Encode(apiTerminal{t.MchID, t.TerminalID, t.TerminalSN, t.DeviceID, t.AppVersion, ls, t.Online, t.UnresolvedOrders, t.Alerts, t.Disabled, t.UID})
	})
	if err != nil {
		s.log.Error("api terminals", "err", err)
	}
	io.WriteString(w, "]\n")
}
