package agent

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/store"
	"github.com/scanbox/scanbox/money"
)

func statusWith(unresolved int) StatusSource {
	last := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	return StatusFunc(func(ctx context.Context) Snapshot {
		return Snapshot{
			ClockOffset: 1500 * time.Millisecond, ClockOffsetKnown: true,
			UnresolvedOrders: unresolved, UnresolvedRefunds: 1,
			AmountSources: []proto.AmountSourceState{{Name: "serial", State: proto.StateOK}, {Name: "ocr", State: proto.StateFailing, Detail: "Tesseract is not installed."}},
			Scanner:       proto.ScannerState{State: proto.StateOK, Mode: "serial", Port: "COM3", LastScanAt: &last, USBVIDPID: "1EAB:0D10"},
			OCR:           proto.ComponentState{State: proto.StateFailing, Detail: "Tesseract is not installed."},
			Voice:         proto.VoiceState{State: proto.StateOK, Device: "Speakers"},
		}
	})
}

// Join, then one heartbeat: the fleet knows the terminal with its
// identity, version and state; the staff API lists it; the private key is
// stored protected, never in the state file.
func TestJoinAndHeartbeat(t *testing.T) {
	f := startFleet(t)
	dir := t.TempDir()
	a := joined(t, f, Options{DataDir: dir, Status: statusWith(2)})
	a.CountPayment("wechat", proto.OutcomePaid, money.Fen(1250))
	a.CountPayment("wechat", proto.OutcomePaid, money.Fen(50))
	a.CountPayment("alipay", proto.OutcomeFailed, money.Fen(900))
	a.CountError("bank_timeout")
	mustBeat(t, a)

	uid := a.State().TerminalUID
	tm := f.terminal(uid)
	if tm.MchID != testIdentity.MchID || tm.TerminalID != testIdentity.TerminalID || tm.TerminalSN != testIdentity.TerminalSN || tm.DeviceID != testIdentity.DeviceID {
		t.Fatalf("identity at the fleet: %+v", tm)
	}
	if tm.AppVersion != "1.1.0" || tm.UnresolvedOrders != 3 || !tm.Online { // the fleet counts orders and refunds together
		t.Fatalf("terminal: version %q unresolved %d online %v", tm.AppVersion, tm.UnresolvedOrders, tm.Online)
	}
	hb := tm.Heartbeat()
	if hb.Seq != 1 || hb.ClockOffsetMs != 1500 || !hb.ClockOffsetKnown || hb.Scanner.Port != "COM3" || hb.OCR.State != proto.StateFailing ||
		hb.Voice.Device != "Speakers" || hb.UnresolvedRefunds != 1 || len(hb.AmountSources) != 2 || hb.DiskFreeBytes <= 0 {
		t.Fatalf("latest heartbeat: %+v", hb)
	}
	if hb.Errors["bank_timeout"] != 1 {
		t.Fatalf("errors: %v", hb.Errors)
	}
	hours, err := f.st.Hourly(context.Background(), uid, time.Now().Add(-2*time.Hour))
	if err != nil || len(hours) != 1 || hours[0].PaidCount != 2 || hours[0].PaidFen != 1300 || hours[0].FailedCount != 1 {
		t.Fatalf("hourly: %+v %v", hours, err)
	}

	// Counts are "since the last report": a second report carries none.
	mustBeat(t, a)
	if hb := f.terminal(uid).Heartbeat(); hb.Seq != 2 || len(hb.Payments) != 0 {
		t.Fatalf("second report: seq %d payments %v", hb.Seq, hb.Payments)
	}

	// The staff API shows it as a script sees it.
	ctx := context.Background()
	if err := f.st.AddUser(ctx, "ops", store.RoleViewer, "x"); err != nil {
		t.Fatal(err)
	}
	u, _ := f.st.UserByName(ctx, "ops")
	tok, _ := f.st.CreateToken(ctx, u.ID)
	req, _ := http.NewRequest("GET", f.url+"/api/v1/terminals", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list) != 1 || list[0]["terminal_sn"] != "SN-8842" || list[0]["app_version"] != "1.1.0" || list[0]["unresolved_orders"] != float64(3) {
		t.Fatalf("/api/v1/terminals: %v", list)
	}

	// Key at rest: protected file (0600 off Windows), loadable, and the
	// state file holds only its id.
	k, err := config.LoadFleetKey(dir)
	if err != nil || len(k) != ed25519.PrivateKeySize {
		t.Fatalf("fleet key: %v", err)
	}
	if proto.KeyID(ed25519.PrivateKey(k).Public().(ed25519.PublicKey)) != a.State().KeyID {
		t.Fatal("stored key is not the enrolled one")
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(filepath.Join(dir, "fleet.key")); fi.Mode().Perm() != 0o600 {
			t.Fatalf("fleet.key mode %v", fi.Mode())
		}
	}
	st, _ := os.ReadFile(filepath.Join(dir, stateFile))
	if bytes.Contains(st, k) || strings.Contains(string(st), string(mustJSON(t, k))) {
		t.Fatal("fleet.json holds the private key")
	}

	// A restarted plug-in (New on the same directory) goes on with its
	// identity and sequence.
	b, err := New(Options{DataDir: dir, Version: "1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	mustBeat(t, b)
	if hb := f.terminal(uid).Heartbeat(); hb.Seq != 3 {
		t.Fatalf("after restart seq %d", hb.Seq)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJoinRefusedCode(t *testing.T) {
	f := startFleet(t)
	dir := t.TempDir()
	a, _ := New(Options{DataDir: dir})
	err := a.Join(context.Background(), f.url, "AAAA-BBBB-CCCC-DDDD", testIdentity)
	if !errors.Is(err, ErrJoinRefused) {
		t.Fatalf("unknown code: %v", err)
	}
	if Sentence(err) != "The fleet refused the enrollment code (unknown or already used)." {
		t.Fatalf("sentence %q", Sentence(err))
	}
	if a.Joined() {
		t.Fatal("joined with a refused code")
	}
	if _, err := config.LoadFleetKey(dir); !errors.Is(err, config.ErrNoFleetKey) {
		t.Fatalf("key saved for a refused join: %v", err)
	}
	// A code is single use.
	code := f.code()
	if err := a.Join(context.Background(), f.url, code, testIdentity); err != nil {
		t.Fatal(err)
	}
	b, _ := New(Options{DataDir: t.TempDir()})
	if err := b.Join(context.Background(), f.url, code, testIdentity); !errors.Is(err, ErrJoinRefused) {
		t.Fatalf("spent code: %v", err)
	}
	if err := b.Beat(context.Background()); !errors.Is(err, ErrNotJoined) {
		t.Fatalf("beat before join: %v", err)
	}
}

// recordingApplier records what it was asked to apply; fail makes it
// refuse.
type recordingApplier struct {
	mu      sync.Mutex
	applied []proto.Settings
	fail    error
}

func (r *recordingApplier) ApplyRemote(ctx context.Context, s proto.Settings) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.applied = append(r.applied, s)
	return nil
}

func (r *recordingApplier) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.applied)
}

func ptr[T any](v T) *T { return &v }

func TestRemoteConfigAppliedAndReported(t *testing.T) {
	f := startFleet(t)
	app := &recordingApplier{}
	a := joined(t, f, Options{Config: app})
	uid := a.State().TerminalUID
	ctx := context.Background()

	v1, err := f.st.SetConfig(ctx, store.ScopeTerminal, uid, proto.Settings{
		PollIntervalMs: ptr(800), PollDeadlineSec: ptr(90), VoiceEnabled: ptr(false), POSAPIEnabled: ptr(true),
		HeartbeatIntervalSec: ptr(30), AmountSource: map[string]string{"serial_profile": "wincor"},
	}, "staff")
	if err != nil {
		t.Fatal(err)
	}
	mustBeat(t, a) // answer carries the configuration; applied after it
	if app.count() != 1 {
		t.Fatalf("applied %d times", app.count())
	}
	got := app.applied[0]
	if *got.PollIntervalMs != 800 || *got.PollDeadlineSec != 90 || *got.VoiceEnabled || !*got.POSAPIEnabled || got.AmountSource["serial_profile"] != "wincor" {
		t.Fatalf("applied settings %+v", got)
	}
	if a.interval() != 30*time.Second {
		t.Fatalf("heartbeat interval %v", a.interval())
	}
	mustBeat(t, a) // reports the version applied; not applied again
	if tm := f.terminal(uid); tm.ConfigApplied != v1 {
		t.Fatalf("fleet sees config %d applied, want %d", tm.ConfigApplied, v1)
	}
	if app.count() != 1 {
		t.Fatalf("re-applied: %d", app.count())
	}

	// A configuration that tries to move the terminal to another bank URL
	// or merchant is refused whole and the refusal reported.
	v2, _ := f.st.SetConfig(ctx, store.ScopeTerminal, uid, proto.Settings{
		PollIntervalMs: ptr(500), AmountSource: map[string]string{"bank_url": "https://evil.example/", "mch_id": "M999"},
	}, "staff")
	mustBeat(t, a)
	mustBeat(t, a)
	if app.count() != 1 {
		t.Fatal("an identity change reached the applier")
	}
	hb := f.terminal(uid).Heartbeat()
	if hb.ConfigVersion != v1 || !strings.Contains(hb.ConfigError, "bank identity") || !strings.Contains(hb.ConfigError, "bank_url") {
		t.Fatalf("reported version %d error %q (v2 %d)", hb.ConfigVersion, hb.ConfigError, v2)
	}

	// Out of range: refused with the setting named.
	v3, _ := f.st.SetConfig(ctx, store.ScopeTerminal, uid, proto.Settings{PollIntervalMs: ptr(1)}, "staff")
	mustBeat(t, a)
	mustBeat(t, a)
	hb = f.terminal(uid).Heartbeat()
	if app.count() != 1 || hb.ConfigVersion != v1 || !strings.Contains(hb.ConfigError, "poll_interval_ms=1") {
		t.Fatalf("v3 %d: reported %d %q", v3, hb.ConfigVersion, hb.ConfigError)
	}

	// The plug-in failing to save: not reported as applied.
	app.fail = errors.New("disk full")
	v4, _ := f.st.SetConfig(ctx, store.ScopeTerminal, uid, proto.Settings{PollIntervalMs: ptr(700)}, "staff")
	mustBeat(t, a)
	mustBeat(t, a)
	hb = f.terminal(uid).Heartbeat()
	if hb.ConfigVersion != v1 || !strings.Contains(hb.ConfigError, "could not be applied") {
		t.Fatalf("v4 %d: reported %d %q", v4, hb.ConfigVersion, hb.ConfigError)
	}
	app.fail = nil
	mustBeat(t, a)
	mustBeat(t, a)
	if hb = f.terminal(uid).Heartbeat(); hb.ConfigVersion != v4 || hb.ConfigError != "" || app.count() != 2 {
		t.Fatalf("after recovery: %d %q applied %d", hb.ConfigVersion, hb.ConfigError, app.count())
	}
}

// The server sends an identity field the wire types do not even have
// (a hostile or newer server): refused from the raw JSON.
func TestIdentityFieldInRawConfigRefused(t *testing.T) {
	for _, raw := range []string{
		`{"version":9,"settings":{"bank_url":"https://evil"}}`,
		`{"version":9,"settings":{"poll_interval_ms":800},"terminal_id":"T2"}`,
		`{"version":9,"settings":{"amount_source":{"MchID":"M2"}}}`,
	} {
		var c proto.Config
		json.Unmarshal([]byte(raw), &c)
		a := &Agent{log: discard(), opt: Options{DataDir: t.TempDir(), Config: &recordingApplier{}}}
		a.applyConfig(context.Background(), c, json.RawMessage(raw))
		if a.st.ConfigVersion != 0 || !strings.Contains(a.st.ConfigError, "bank identity") {
			t.Errorf("%s: version %d error %q", raw, a.st.ConfigVersion, a.st.ConfigError)
		}
	}
	// An ordinary amount-source key that merely contains "key" is fine.
	raw := `{"version":3,"settings":{"amount_source":{"hotkey":"F9"}}}`
	var c proto.Config
	json.Unmarshal([]byte(raw), &c)
	a := &Agent{log: discard(), opt: Options{DataDir: t.TempDir(), Config: &recordingApplier{}}}
	a.applyConfig(context.Background(), c, json.RawMessage(raw))
	if a.st.ConfigVersion != 3 {
		t.Fatalf("hotkey refused: %q", a.st.ConfigError)
	}
}

// Fleet down: reports queue on disk (and survive a plug-in restart),
// payments keep being counted, and everything is delivered in order when
// the fleet is back, each report's counts in the roll-up exactly once.
func TestFleetDownReportsQueuedAndDeliveredLater(t *testing.T) {
	f := startFleet(t)
	dir := t.TempDir()
	a := joined(t, f, Options{DataDir: dir, Status: statusWith(0)})
	uid := a.State().TerminalUID
	mustBeat(t, a)

	f.stop()
	for i := 0; i < 4; i++ {
		a.CountPayment("alipay", proto.OutcomePaid, money.Fen(100))
		if err := a.Beat(context.Background()); !isUnreachable(err) {
			t.Fatalf("beat %d with the fleet down: %v", i, err)
		}
	}
	if a.QueueLen() != 4 {
		t.Fatalf("queued %d", a.QueueLen())
	}
	if a.State().LastError == "" {
		t.Fatal("no error recorded for status")
	}
	// The plug-in restarts while the fleet is still down.
	a2, err := New(Options{DataDir: dir, Version: "1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if a2.QueueLen() != 4 {
		t.Fatalf("queue after restart %d", a2.QueueLen())
	}
	a2.CountPayment("alipay", proto.OutcomePaid, money.Fen(100))

	f.start()
	mustBeat(t, a2)
	if a2.QueueLen() != 0 {
		t.Fatalf("still queued %d", a2.QueueLen())
	}
	tm := f.terminal(uid)
	if hb := tm.Heartbeat(); hb.Seq != 6 {
		t.Fatalf("latest seq %d, want 6", hb.Seq)
	}
	hours, _ := f.st.Hourly(context.Background(), uid, time.Now().Add(-2*time.Hour))
	var reports, paid, fen int64
	for _, h := range hours {
		reports += h.Reports
		paid += h.PaidCount
		fen += h.PaidFen
	}
	if reports != 6 || paid != 5 || fen != 500 {
		t.Fatalf("roll-up: reports %d paid %d fen %d", reports, paid, fen)
	}
}

// The queue is bounded: the oldest reports go, counted, and the count is
// reported.
func TestQueueBoundedOldestDropped(t *testing.T) {
	f := startFleet(t)
	a := joined(t, f, Options{QueueMax: 3})
	uid := a.State().TerminalUID
	f.stop()
	for i := 0; i < 5; i++ {
		a.Beat(context.Background())
	}
	if a.QueueLen() != 3 || a.State().Dropped != 2 {
		t.Fatalf("queued %d dropped %d", a.QueueLen(), a.State().Dropped)
	}
	f.start()
	// Back online: report 6 is queued first, which drops 3 (the queue
	// holds 3), then 4, 5, 6 are delivered; each drop rides on a later
	// report, the last one on report 7.
	mustBeat(t, a)
	hb := f.terminal(uid).Heartbeat()
	if hb.Seq != 6 || a.State().Dropped != 3 {
		t.Fatalf("seq %d dropped %d", hb.Seq, a.State().Dropped)
	}
	rollup := func(uid string) store.Hour {
		hours, _ := f.st.Hourly(context.Background(), uid, time.Now().Add(-2*time.Hour))
		var h store.Hour
		for _, x := range hours {
			h.Reports += x.Reports
			h.ErrorCount += x.ErrorCount
		}
		return h
	}
	if h := rollup(uid); h.Reports != 3 || h.ErrorCount != 2 {
		t.Fatalf("roll-up %+v (want 3 reports, 2 drops counted)", h)
	}
	mustBeat(t, a)
	if h := rollup(uid); h.Reports != 4 || h.ErrorCount != 3 {
		t.Fatalf("roll-up %+v (want 4 reports, 3 drops counted)", h)
	}

	// A drop count riding on a report that is itself dropped is carried
	// over, not lost: a queue of one, six reports built offline, all six
	// drops reported in the end.
	f = startFleet(t) // a fresh fleet: same identity, its own roll-up
	b := joined(t, f, Options{QueueMax: 1})
	buid := b.State().TerminalUID
	f.stop()
	for i := 0; i < 6; i++ {
		b.Beat(context.Background())
	}
	f.start()
	mustBeat(t, b)
	mustBeat(t, b)
	if h := rollup(buid); h.Reports != 2 || h.ErrorCount != 6 || b.State().Dropped != 6 {
		t.Fatalf("carried drops: %+v dropped %d", h, b.State().Dropped)
	}

	// Byte bound too.
	q, _ := openQueue(filepath.Join(t.TempDir(), "q"), 1000, 2000)
	for i := 0; i < 50; i++ {
		q.push(proto.Heartbeat{Seq: uint64(i), OS: strings.Repeat("x", 100)})
	}
	if q.size > 2000 || q.len() == 0 {
		t.Fatalf("queue size %d len %d", q.size, q.len())
	}
}

// A status source that hangs or panics costs a report's detail, never
// the loop; Start returns at once and stop ends it.
func TestRunLoopNeverBlocks(t *testing.T) {
	f := startFleet(t)
	hang := make(chan struct{})
	defer close(hang)
	calls := 0
	var mu sync.Mutex
	src := StatusFunc(func(ctx context.Context) Snapshot {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 2 {
			panic("status source bug")
		}
		return Snapshot{UnresolvedOrders: n}
	})
	a := joined(t, f, Options{Status: src, Interval: 20 * time.Millisecond})
	uid := a.State().TerminalUID
	stop := a.Start(context.Background())
	deadline := time.Now().Add(20 * time.Second)
	for f.terminal(uid).Heartbeat().Seq < 4 {
		if time.Now().After(deadline) {
			t.Fatal("the loop delivered fewer than 4 reports")
		}
		a.CountPayment("wechat", proto.OutcomePaid, 1) // never blocks
		time.Sleep(10 * time.Millisecond)
	}
	stop()

	// With the fleet gone the loop keeps queueing, and stop still returns.
	f.stop()
	stop = a.Start(context.Background())
	for a.QueueLen() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the loop does not queue while the fleet is down")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
}

func TestBackoffBounded(t *testing.T) {
	for n := 1; n < 40; n++ {
		d := backoff(n, 60*time.Second)
		if d < 500*time.Millisecond || d > 90*time.Second {
			t.Fatalf("backoff(%d) = %v", n, d)
		}
	}
	if backoff(1, time.Minute) > 1500*time.Millisecond {
		t.Fatal("first backoff too long")
	}
}

// A disabled terminal stops reporting and says so.
func TestDisabledStopsReporting(t *testing.T) {
	f := startFleet(t)
	a := joined(t, f, Options{})
	uid := a.State().TerminalUID
	mustBeat(t, a)
	if err := f.st.SetDisabled(context.Background(), uid, true); err != nil {
		t.Fatal(err)
	}
	err := a.Beat(context.Background())
	if !errors.Is(err, ErrDisabled) && err != nil {
		t.Fatalf("beat: %v", err)
	}
	if err := a.Beat(context.Background()); !errors.Is(err, ErrDisabled) {
		t.Fatalf("after disabling: %v", err)
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A PC whose clock is hours off is not locked out: the agent learns the
// fleet's time from the refusal and signs with it from then on.
func TestWrongClockCorrected(t *testing.T) {
	for _, off := range []time.Duration{2 * time.Hour, -3 * time.Hour} {
		f := startFleet(t)
		a := joined(t, f, Options{Now: func() time.Time { return time.Now().Add(off) }})
		for i := 0; i < 3; i++ {
			mustBeat(t, a)
		}
		if hb := f.terminal(a.State().TerminalUID).Heartbeat(); hb.Seq != 3 {
			t.Fatalf("offset %v: seq %d", off, hb.Seq)
		}
		// A restarted process (no learnt offset, timestamps from zero)
		// corrects itself again.
		b, err := New(Options{DataDir: a.opt.DataDir, Version: "1.1.0", Now: a.now})
		if err != nil {
			t.Fatal(err)
		}
		mustBeat(t, b)
		if st := b.Status(); !st.Joined || st.LastError != "" || st.Queued != 0 || st.LastOKAt == nil {
			t.Fatalf("offset %v: status %+v", off, st)
		}
	}
}
