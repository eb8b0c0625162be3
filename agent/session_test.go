package agent

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
)

// authLog is a counting wrapper around the real fleet server: it records
// how every agent request was authenticated and what the server answered,
// and the sequence numbers of the reports the server accepted.
type authLog struct {
	mu          sync.Mutex
	opened      int      // PathSession answered 200
	openTried   int      // PathSession requests
	macOK       int      // heartbeats accepted with a session MAC
	signedOK    int      // heartbeats accepted with a signature
	macRefused  int      // MAC requests answered 401
	seqs        []uint64 // accepted reports
	sessionIDs  []string // sessions seen in accepted requests
	lastMAC     *http.Request
	lastMACBody []byte
	// session, when set, answers PathSession instead of the server (an
	// older or broken server); alter rewrites the server's session answer.
	session func(w http.ResponseWriter)
	alter   func(body []byte) []byte
}

type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(c int) {
	if r.code == 0 {
		r.code = c
	}
	r.ResponseWriter.WriteHeader(c)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (l *authLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if r.URL.Path == proto.PathSession {
			l.mu.Lock()
			l.openTried++
			fake, alter := l.session, l.alter
			l.mu.Unlock()
			if fake != nil {
				fake(w)
				return
			}
			if alter != nil {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				for k, vs := range rec.Header() {
					w.Header()[k] = vs
				}
				w.WriteHeader(rec.Code)
				w.Write(alter(rec.Body.Bytes()))
				return
			}
		}
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		isMAC := r.Header.Get(proto.HeaderMAC) != ""
		l.mu.Lock()
		defer l.mu.Unlock()
		switch {
		case rec.code == http.StatusUnauthorized && isMAC:
			l.macRefused++
		case rec.code != http.StatusOK:
		case r.URL.Path == proto.PathSession:
			l.opened++
		case r.URL.Path == proto.PathHeartbeat:
			var hb proto.Heartbeat
			json.Unmarshal(body, &hb)
			l.seqs = append(l.seqs, hb.Seq)
			if isMAC {
				l.macOK++
				l.sessionIDs = append(l.sessionIDs, r.Header.Get(proto.HeaderSession))
				l.lastMAC, l.lastMACBody = r.Clone(context.Background()), body
			} else if r.Header.Get(proto.HeaderSignature) != "" {
				l.signedOK++
			}
		}
	})
}

type authCounts struct{ opened, openTried, macOK, signedOK, macRefused int }

func (l *authLog) counts() authCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return authCounts{l.opened, l.openTried, l.macOK, l.signedOK, l.macRefused}
}

// delivered checks that the server accepted reports 1..n, each at least
// once (delivery is at least once) and none other.
func (l *authLog) delivered(t *testing.T, n int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[uint64]bool{}
	for _, s := range l.seqs {
		seen[s] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[uint64(i)] {
			t.Errorf("report %d never accepted by the server (accepted: %v)", i, l.seqs)
		}
	}
	if len(seen) != n {
		t.Errorf("server accepted %d distinct reports, want %d: %v", len(seen), n, l.seqs)
	}
}

func sessionFleet(t *testing.T) (*testFleet, *authLog) {
	l := &authLog{}
	f := startFleet(t)
	f.stop()
	f.wrap = l.wrap
	f.start()
	return f, l
}

// clock is an adjustable clock for the agent or the server.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// Reports go in one session: one opening, then only MACs; the session the
// server keeps is the terminal's, and its key is nowhere on disk.
func TestSessionReports(t *testing.T) {
	f, l := sessionFleet(t)
	a := joined(t, f, Options{})
	for i := 0; i < 4; i++ {
		mustBeat(t, a)
	}
	c := l.counts()
	if c.opened != 1 || c.macOK != 4 || c.signedOK != 0 || c.macRefused != 0 {
		t.Fatalf("auth counts %+v, want 1 session and 4 MAC heartbeats", c)
	}
	l.delivered(t, 4)
	l.mu.Lock()
	id := l.sessionIDs[0]
	for _, other := range l.sessionIDs {
		if other != id {
			t.Errorf("sessions %s and %s used, want one", id, other)
		}
	}
	l.mu.Unlock()
	sess, err := f.st.AgentSessionByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if sess.UID != a.State().TerminalUID || sess.KeyID != a.State().KeyID {
		t.Fatalf("session belongs to %s/%s, want the agent's terminal and key", sess.UID, sess.KeyID)
	}
	// Memory only: no file the agent wrote holds the key in any encoding.
	forms := [][]byte{sess.Key, []byte(hex.EncodeToString(sess.Key)), []byte(base64.StdEncoding.EncodeToString(sess.Key))}
	filepath.WalkDir(a.opt.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, k := range forms {
			if bytes.Contains(b, k) {
				t.Errorf("%s holds the session key", p)
			}
		}
		return nil
	})
}

// wipeSessions empties the server's session table (a restored database or
// a cleanup): the server no longer knows the agent's session.
func wipeSessions(t *testing.T, f *testFleet) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+f.db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM agent_sessions`); err != nil {
		t.Fatal(err)
	}
}

// A server restarted with its session table wiped refuses the agent's
// session; the agent opens a new one and delivers every report queued
// while the server was down.
func TestSessionRenewedAfterServerDropsIt(t *testing.T) {
	f, l := sessionFleet(t)
	a := joined(t, f, Options{})
	mustBeat(t, a)
	f.stop()
	wipeSessions(t, f)
	for i := 0; i < 3; i++ {
		if err := a.Beat(context.Background()); !isUnreachable(err) {
			t.Fatalf("Beat with the fleet down: %v, want unreachable", err)
		}
	}
	if a.QueueLen() != 3 {
		t.Fatalf("queued %d, want 3", a.QueueLen())
	}
	f.start() // a new process: no session cache either
	mustBeat(t, a)
	if a.QueueLen() != 0 {
		t.Fatalf("still queued: %d", a.QueueLen())
	}
	c := l.counts()
	if c.opened != 2 || c.macRefused != 1 || c.signedOK != 0 || c.macOK != 5 {
		t.Fatalf("auth counts %+v, want the dropped session refused once, a second one opened, 5 MAC heartbeats", c)
	}
	l.delivered(t, 5)
}

// A session the server has ended (its clock past the expiry) is renewed
// on the refusal; one the agent sees near its end is renewed before use.
func TestSessionExpiry(t *testing.T) {
	var server, agentClock clock
	f, l := sessionFleet(t)
	f.stop()
	f.now = server.now
	f.start()
	a := joined(t, f, Options{Now: agentClock.now})
	mustBeat(t, a)

	server.advance(proto.SessionTTL + time.Hour) // the agent's clock lags
	mustBeat(t, a)
	if c := l.counts(); c.opened != 2 || c.macRefused != 1 || c.macOK != 2 || c.signedOK != 0 {
		t.Fatalf("after the server's expiry: %+v", c)
	}

	agentClock.advance(proto.SessionTTL) // now the agent sees it ending
	mustBeat(t, a)
	if c := l.counts(); c.opened != 3 || c.macRefused != 1 || c.macOK != 3 || c.signedOK != 0 {
		t.Fatalf("after the agent's renewal time: %+v (want a new session without a refusal)", c)
	}
	l.delivered(t, 3)
}

// Against a server without sessions (older: 404), or one failing to open
// them, reports go signed and none is lost; the agent asks an older server
// again only after noSessionPause.
func TestSessionFallbackToSignatures(t *testing.T) {
	cases := []struct {
		name  string
		code  int
		pause time.Duration
	}{
		{"older server", http.StatusNotFound, noSessionPause},
		{"server error", http.StatusInternalServerError, sessionErrorPause},
		{"disabled or refused", http.StatusForbidden, sessionRefusedPause},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ac clock
			f, l := sessionFleet(t)
			l.session = func(w http.ResponseWriter) {
				w.WriteHeader(tc.code)
				io.WriteString(w, "404 page not found\n")
			}
			a := joined(t, f, Options{Now: ac.now})
			for i := 0; i < 3; i++ {
				mustBeat(t, a)
			}
			if c := l.counts(); c.openTried != 1 || c.signedOK != 3 || c.macOK != 0 {
				t.Fatalf("counts %+v, want one session attempt and 3 signed heartbeats", c)
			}
			ac.advance(tc.pause + time.Second)
			l.mu.Lock()
			l.session = nil // upgraded meanwhile
			l.mu.Unlock()
			mustBeat(t, a)
			// (The agent's clock jumped past the replay window: its first
			// attempt may be refused as stale and retried on the server's
			// time, so openTried is not counted here.)
			if c := l.counts(); c.opened != 1 || c.macOK != 1 || c.signedOK != 3 {
				t.Fatalf("after the pause: %+v, want a session opened and used", c)
			}
			l.delivered(t, 4)
		})
	}
}

// An answer altered on the way gives the agent a key the server does not
// know: its MAC is refused, the report goes signed, and the agent signs
// for a while instead of opening sessions in a loop.
func TestSessionAlteredAnswerFallsBack(t *testing.T) {
	f, l := sessionFleet(t)
	l.alter = func(b []byte) []byte {
		var r proto.SessionResponse
		if json.Unmarshal(b, &r) != nil {
			return b
		}
		r.X25519[0] ^= 0x55
		out, _ := json.Marshal(r)
		return out
	}
	a := joined(t, f, Options{})
	mustBeat(t, a)
	mustBeat(t, a)
	if c := l.counts(); c.openTried != 1 || c.macRefused != 1 || c.signedOK != 2 || c.macOK != 0 {
		t.Fatalf("counts %+v", c)
	}
	if a.QueueLen() != 0 {
		t.Fatalf("queued %d", a.QueueLen())
	}
	l.delivered(t, 2)
}

// A captured MAC request replayed, as is or with another body, is
// refused, and the agent goes on in its session.
func TestSessionReplayRefused(t *testing.T) {
	f, l := sessionFleet(t)
	a := joined(t, f, Options{})
	mustBeat(t, a)
	l.mu.Lock()
	req, body := l.lastMAC, l.lastMACBody
	l.mu.Unlock()
	if req == nil {
		t.Fatal("no MAC request captured")
	}
	replay := func(b []byte) int {
		r, _ := http.NewRequest(req.Method, f.url+req.URL.RequestURI(), bytes.NewReader(b))
		for _, h := range []string{proto.HeaderSession, proto.HeaderTimestamp, proto.HeaderMAC, "Content-Type"} {
			r.Header.Set(h, req.Header.Get(h))
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := replay(body); c != http.StatusUnauthorized {
		t.Fatalf("replayed MAC request: HTTP %d, want 401", c)
	}
	var hb proto.Heartbeat
	json.Unmarshal(body, &hb)
	hb.Seq += 100
	hb.UnresolvedOrders = 9
	forged, _ := json.Marshal(hb)
	if c := replay(forged); c != http.StatusUnauthorized {
		t.Fatalf("MAC headers on another body: HTTP %d, want 401", c)
	}
	if got := f.terminal(a.State().TerminalUID).Heartbeat(); got.Seq != 1 || got.UnresolvedOrders != 0 {
		t.Fatalf("server state changed by a replay: seq %d unresolved %d", got.Seq, got.UnresolvedOrders)
	}
	mustBeat(t, a)
	if c := l.counts(); c.opened != 1 || c.macOK != 2 {
		t.Fatalf("agent after the replays: %+v", c)
	}
}

// Joining again (a new key) ends the old session on both sides: the agent
// opens one under its new key and the old one is refused.
func TestSessionAfterRejoin(t *testing.T) {
	f, l := sessionFleet(t)
	a := joined(t, f, Options{})
	mustBeat(t, a)
	l.mu.Lock()
	oldID := l.sessionIDs[0]
	l.mu.Unlock()
	old, err := f.st.AgentSessionByID(context.Background(), oldID)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Join(context.Background(), f.url, f.code(), testIdentity); err != nil {
		t.Fatal(err)
	}
	mustBeat(t, a)
	if c := l.counts(); c.opened != 2 || c.macRefused != 0 || c.macOK != 2 {
		t.Fatalf("counts after rejoin %+v", c)
	}
	l.mu.Lock()
	newID := l.sessionIDs[1]
	l.mu.Unlock()
	if newID == oldID {
		t.Fatal("old session used after rejoin")
	}
	hb := proto.Heartbeat{Seq: 99, At: time.Now().UTC(), Identity: testIdentity}
	b, _ := json.Marshal(hb)
	r, _ := http.NewRequest(http.MethodPost, f.url+proto.PathHeartbeat, bytes.NewReader(b))
	proto.MACRequest(r, b, old.ID, old.Key, time.Now().Add(time.Second))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old session after rejoin: HTTP %d, want 401", resp.StatusCode)
	}
}
