package agent

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
)

var (
	errForbidden = errors.New("agent: forbidden")
	errNotFound  = errors.New("agent: not found")
)

// maxAnswer bounds what the agent reads from the fleet for a JSON answer.
const maxAnswer = 1 << 20

// stampMs returns the next request time (Unix ms): our clock corrected by the
// server's, and strictly after the previous one so that a burst of queued
// reports is not refused as a replay (proto: timestamps strictly increase
// per key).
func (a *Agent) stampMs() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.now().Add(a.skew).UnixMilli()
	if t <= a.tsMs {
		t = a.tsMs + 1
	}
	a.tsMs = t
	return t
}

// accepted records the timestamp of a request the fleet took: the floor
// below which no later request may go.
func (a *Agent) accepted(ts int64) {
	a.mu.Lock()
	if ts > a.tsOK {
		a.tsOK = ts
	}
	a.mu.Unlock()
}

// rewind lets the next request use the corrected clock after a refusal:
// a clock that was fast must not keep every later timestamp in the future
// (strictly increasing only matters above what the fleet accepted).
func (a *Agent) rewind() {
	a.mu.Lock()
	a.tsMs = a.tsOK
	a.mu.Unlock()
}

func (a *Agent) learnServerTime(h http.Header) {
	ms, err := strconv.ParseInt(h.Get(proto.HeaderServerTime), 10, 64)
	if err != nil || ms <= 0 {
		return
	}
	a.mu.Lock()
	a.skew = time.UnixMilli(ms).Sub(a.now())
	a.mu.Unlock()
}

// send performs one authenticated request and returns the answer's body.
// Requests under the terminal's current key go in the agent session
// (agentSession below: a MAC instead of a signature) when the fleet offers one;
// everything else, and everything when it does not, is signed. A 401 is
// retried after learning the server's clock (an agent with a wrong clock
// corrects itself instead of being locked out); a 401 in a session first
// renews the session, and a session refused right after it was opened
// gives way to a signature. The number of round trips stays bounded (at
// most six, each under the HTTP client's timeout).
func (a *Agent) send(ctx context.Context, base, method, path string, body []byte, key ed25519.PrivateKey, max int64) ([]byte, error) {
	useSession := a.sessionEligible(base, path, key)
	signed401, session401 := 0, 0
	for {
		var s *agentSession
		fresh := false
		if useSession {
			var err error
			if s, fresh, err = a.session(ctx, base, key); err != nil {
				return nil, err
			}
		}
		status, data, rerr, err := a.exchange(ctx, base, method, path, body, key, s, max)
		if err != nil {
			return nil, err
		}
		if status == http.StatusUnauthorized {
			a.rewind()
			if s != nil {
				a.dropSession(s)
				if session401++; fresh || session401 >= 2 {
					// The server does not know a key it just agreed: an
					// altered answer or a broken server. Sign for a while.
					// (The count bounds the loop whatever other requests
					// do with the session meanwhile.)
					a.avoidSessions(sessionRefusedPause, "fleet refused a new session; signing requests")
					useSession = false
				}
				continue
			}
			if signed401++; signed401 < 2 {
				continue
			}
		}
		return answer(status, data, rerr, max)
	}
}

// exchange is one HTTP round trip: MACed in s when s is not nil, signed
// with key otherwise. err is set only when no answer came.
func (a *Agent) exchange(ctx context.Context, base, method, path string, body []byte, key ed25519.PrivateKey, s *agentSession, max int64) (status int, data []byte, rerr, err error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("agent: %w", err)
	}
	switch {
	case strings.HasPrefix(path, proto.PathLogUpload+"/"):
		req.Header.Set("Content-Type", "application/zip")
	case body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "scanbox-agent/"+a.ver)
	ts := a.stampMs()
	if s != nil {
		proto.MACRequest(req, body, s.id, a.sessionKey(s), time.UnixMilli(ts))
	} else {
		proto.SignRequest(req, body, key, time.UnixMilli(ts))
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	a.learnServerTime(resp.Header)
	data, rerr = io.ReadAll(io.LimitReader(resp.Body, max+1))
	resp.Body.Close()
	if resp.StatusCode < 300 {
		a.accepted(ts)
	}
	return resp.StatusCode, data, rerr, nil
}

// answer maps an HTTP answer to the agent's errors.
func answer(status int, data []byte, rerr error, max int64) ([]byte, error) {
	switch {
	case status == http.StatusUnauthorized:
		return nil, ErrAuthRefused
	case status == http.StatusForbidden:
		return nil, fmt.Errorf("%w: %s", errForbidden, answerText(data))
	case status == http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s", errNotFound, answerText(data))
	case status >= 500 || status == http.StatusTooManyRequests:
		return nil, fmt.Errorf("%w: HTTP %d", ErrUnreachable, status)
	case status >= 300:
		return nil, fmt.Errorf("%w: HTTP %d: %s", ErrServer, status, answerText(data))
	}
	if rerr != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, rerr)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: answer too large", ErrServer)
	}
	return data, nil
}

func answerText(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// do sends v as JSON and decodes the answer into out (if not nil).
func (a *Agent) do(ctx context.Context, base, method, path string, v any, key ed25519.PrivateKey, out any) error {
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return fmt.Errorf("agent: %w", err)
		}
	}
	data, err := a.send(ctx, base, method, path, body, key, maxAnswer)
	if err != nil {
		return err
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%w: malformed answer: %v", ErrServer, err)
		}
	}
	return nil
}

// agentSession is an open fleet session (fleet/proto/session.go). It lives
// in this process's memory only: the MAC key is never written to disk,
// never logged and never put in a support bundle; a restarted agent opens
// another session. Its fields never change once made, except key, which
// is guarded by a.mu and zeroed when the session is dropped.
type agentSession struct {
	id      string
	key     []byte
	keyID   string    // the terminal key that opened it (sessions are bound to it)
	base    string    // the fleet that issued it
	renewAt time.Time // our clock: a new session is opened from then on
}

// How long the agent signs instead of trying sessions again after the
// fleet did not open one: an older server (404) is asked again after an
// hour, in case it was upgraded; a refusal or a malformed answer after a
// quarter of an hour; a server error after a minute. Reports go out signed
// meanwhile: a session is a saving for the server, never a condition.
const (
	noSessionPause      = time.Hour
	sessionRefusedPause = 15 * time.Minute
	sessionErrorPause   = time.Minute
	maxSessionAnswer    = 4 << 10
)

// sessionEligible reports whether a request may go in a session: only
// requests under the terminal's current key to its own fleet (an
// enrollment proves possession of a new key, and a session is opened with
// a signature).
func (a *Agent) sessionEligible(base, path string, key ed25519.PrivateKey) bool {
	if path == proto.PathEnroll || path == proto.PathSession || key == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.key != nil && a.key.Equal(key) && base == a.st.URL
}

// currentSession is the open session for base and key, if one is still
// before its renewal time.
func (a *Agent) currentSession(base string, key ed25519.PrivateKey) *agentSession {
	kid := proto.KeyID(key.Public().(ed25519.PublicKey))
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sess
	if s == nil || s.base != base || s.keyID != kid {
		return nil
	}
	if !a.now().Before(s.renewAt) {
		clear(s.key)
		a.sess = nil
		return nil
	}
	return s
}

// sessionKey copies s's MAC key (a dropped session's is zeros: the server
// refuses it and the request is retried).
func (a *Agent) sessionKey(s *agentSession) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]byte(nil), s.key...)
}

// dropSession forgets s (the server refused it: unknown, expired, ended).
func (a *Agent) dropSession(s *agentSession) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sess == s {
		clear(s.key)
		a.sess = nil
	}
}

// forgetSessionLocked drops any session and pause (a.mu held): Join
// replaces the key the session was bound to.
func (a *Agent) forgetSessionLocked() {
	if a.sess != nil {
		clear(a.sess.key)
		a.sess = nil
	}
	a.noSessUntil = time.Time{}
}

// avoidSessions makes requests signed for d.
func (a *Agent) avoidSessions(d time.Duration, msg string) {
	a.mu.Lock()
	a.noSessUntil = a.now().Add(d)
	a.mu.Unlock()
	a.log.Info(msg, "retry_in", d.String())
}

func (a *Agent) sessionsAvoided() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now().Before(a.noSessUntil)
}

// session returns the session to MAC a request in: the open one, or a new
// one; nil when the request is to be signed (the fleet offers no session,
// or refused or botched one). fresh is true for a session opened just now.
// err is set only when the request need not be tried: the fleet gave no
// answer at all, or refused the terminal's key.
func (a *Agent) session(ctx context.Context, base string, key ed25519.PrivateKey) (s *agentSession, fresh bool, err error) {
	if s := a.currentSession(base, key); s != nil {
		return s, false, nil
	}
	// One opening at a time: concurrent requests (a heartbeat and an
	// update check) share the session the first one opens.
	a.openMu.Lock()
	defer a.openMu.Unlock()
	if s := a.currentSession(base, key); s != nil {
		return s, false, nil
	}
	if a.sessionsAvoided() {
		return nil, false, nil
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, nil
	}
	body, err := json.Marshal(proto.SessionRequest{X25519: eph.PublicKey().Bytes()})
	if err != nil {
		return nil, false, nil
	}
	var status int
	var data []byte
	var rerr error
	for attempt := 0; attempt < 2; attempt++ {
		status, data, rerr, err = a.exchange(ctx, base, http.MethodPost, proto.PathSession, body, key, nil, maxSessionAnswer)
		if err != nil {
			return nil, false, err // no answer: the request would get none either
		}
		if status != http.StatusUnauthorized {
			break
		}
		a.rewind() // perhaps our clock: learnt from the refusal, try once more
	}
	data, err = answer(status, data, rerr, maxSessionAnswer)
	switch {
	case errors.Is(err, ErrAuthRefused):
		return nil, false, err // the key itself is refused: signing cannot help
	case errors.Is(err, errNotFound):
		a.avoidSessions(noSessionPause, "fleet server offers no sessions; signing requests")
		return nil, false, nil
	case status >= 500 || status == http.StatusTooManyRequests:
		a.avoidSessions(sessionErrorPause, "fleet server could not open a session; signing requests")
		return nil, false, nil
	case err != nil:
		a.avoidSessions(sessionRefusedPause, "fleet server did not open a session; signing requests")
		return nil, false, nil
	}
	s, ok := a.takeSession(eph, data, base, key)
	if !ok {
		a.avoidSessions(sessionRefusedPause, "fleet session answer unusable; signing requests")
		return nil, false, nil
	}
	return s, true, nil
}

// takeSession checks the fleet's answer, derives the key and keeps the
// session.
func (a *Agent) takeSession(eph *ecdh.PrivateKey, data []byte, base string, key ed25519.PrivateKey) (*agentSession, bool) {
	var r proto.SessionResponse
	if json.Unmarshal(data, &r) != nil || !headerToken(r.SessionID) {
		return nil, false
	}
	kid := proto.KeyID(key.Public().(ed25519.PublicKey))
	mk, err := proto.AgentSessionKey(eph, r, kid)
	if err != nil {
		return nil, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	// The expiry is the server's clock; the session is renewed a tenth of
	// its life (at most 10 minutes) early so that no request meets the
	// server's end of it. A server cannot keep one session for longer than
	// the protocol's TTL.
	ttl := min(r.ExpiresAt.Sub(now.Add(a.skew)), proto.SessionTTL)
	if ttl < time.Minute {
		return nil, false
	}
	s := &agentSession{id: r.SessionID, key: mk, keyID: kid, base: base, renewAt: now.Add(ttl - min(ttl/10, 10*time.Minute))}
	if a.key == nil || !a.key.Equal(key) {
		clear(mk) // joined again meanwhile: this one is bound to the old key
		return nil, false
	}
	if a.sess != nil {
		clear(a.sess.key)
	}
	a.sess = s
	a.log.Info("fleet session opened", "valid_for", ttl.Round(time.Second).String())
	return s, true
}

// headerToken reports whether id can be sent as the session header as is
// (the server's limit is 64 characters).
func headerToken(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// creds returns the fleet URL and key, or ErrNotJoined.
func (a *Agent) creds() (string, ed25519.PrivateKey, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st.TerminalUID == "" || a.key == nil {
		return "", nil, ErrNotJoined
	}
	return a.st.URL, a.key, nil
}

// writeAtomic replaces path with data (temp file, fsync, rename).
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil && !isWindows {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}
