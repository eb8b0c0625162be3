package agent

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/fleet"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/store"
)

// testFleet is the real fleet server (fleet.Server on fleet/store's
// SQLite) on a loopback port that survives stop/start, so an agent's
// queued reports can be delivered to "the same server, back again".
type testFleet struct {
	t    testing.TB
	st   *store.Store
	addr string
	db   string // the SQLite file
	url  string

	mu   sync.Mutex
	srv  *fleet.Server
	hs   *http.Server
	wrap func(http.Handler) http.Handler // optional: a hostile server
	now  func() time.Time                // optional: the server's clock
}

func startFleet(t *testing.T) *testFleet { return startFleetB(t) }

func startFleetB(t testing.TB) *testFleet {
	t.Helper()
	db := filepath.Join(t.TempDir(), "fleet.db")
	st, err := store.Open(context.Background(), "sqlite:"+db, "")
	if err != nil {
		t.Fatal(err)
	}
	f := &testFleet{t: t, st: st, db: db}
	f.start()
	t.Cleanup(func() {
		f.stop()
		st.Close()
	})
	return f
}

func (f *testFleet) start() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hs != nil {
		return
	}
	addr := f.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		f.t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.url = "http://" + f.addr
	f.srv = fleet.New(f.st, fleet.Options{CacheTTL: -1, Now: f.now})
	var h http.Handler = f.srv.Handler()
	if f.wrap != nil {
		h = f.wrap(h)
	}
	f.hs = &http.Server{Handler: h}
	go f.hs.Serve(ln)
}

// stop stops the server: connections refused until start.
func (f *testFleet) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hs == nil {
		return
	}
	f.hs.Close()
	f.srv.Close()
	f.hs, f.srv = nil, nil
}

func (f *testFleet) code() string {
	f.t.Helper()
	c, err := f.st.CreateEnrollmentCodes(context.Background(), 1, "test")
	if err != nil {
		f.t.Fatal(err)
	}
	return c[0]
}

func (f *testFleet) terminal(uid string) store.Terminal {
	f.t.Helper()
	tm, err := f.st.GetTerminal(context.Background(), uid, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return tm
}

var testIdentity = proto.Identity{MchID: "M100200300", TerminalID: "T0001", TerminalSN: "SN-8842", DeviceID: "dev-abc"}

// joined returns an agent that joined f.
func joined(t *testing.T, f *testFleet, opt Options) *Agent {
	t.Helper()
	if opt.DataDir == "" {
		opt.DataDir = t.TempDir()
	}
	if opt.Version == "" {
		opt.Version = "1.1.0"
	}
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Join(context.Background(), f.url, f.code(), testIdentity); err != nil {
		t.Fatal(err)
	}
	return a
}

func mustBeat(t *testing.T, a *Agent) {
	t.Helper()
	if err := a.Beat(context.Background()); err != nil {
		t.Fatalf("Beat: %v", err)
	}
}

func isUnreachable(err error) bool { return errors.Is(err, ErrUnreachable) }
