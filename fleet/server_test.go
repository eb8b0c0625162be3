package fleet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/fleet/internal/fleettest"
	"github.com/scanbox/scanbox/fleet/proto"
	"github.com/scanbox/scanbox/fleet/sim"
	"github.com/scanbox/scanbox/fleet/store"
)

var bg = context.Background()

type env struct {
	t   *testing.T
	st  *store.Store
	srv *httptest.Server
}

func newEnv(t *testing.T, st *store.Store) *env {
	// The tests change releases and configuration in the store behind
	// the server's back, so no read cache.
	s := New(st, Options{CacheTTL: -1})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	return &env{t: t, st: st, srv: hs}
}

func (e *env) code() string {
	c, err := e.st.CreateEnrollmentCodes(bg, 1, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return c[0]
}

func (e *env) terminal(mch, tid, dev string) *sim.Terminal {
	e.t.Helper()
	tm := sim.New(e.srv.URL, nil, proto.Identity{MchID: mch, TerminalID: tid, TerminalSN: "SN" + tid, DeviceID: dev}, "1.1.0")
	if _, err := tm.Enroll(bg, e.code()); err != nil {
		e.t.Fatalf("enroll: %v", err)
	}
	return tm
}

func (e *env) user(name string, role store.Role) {
	e.t.Helper()
	h, err := HashPassword("password-" + name)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.AddUser(bg, name, role, h); err != nil {
		e.t.Fatal(err)
	}
}

func status(err error) int {
	var he *sim.HTTPError
	if errors.As(err, &he) {
		return he.Code
	}
	return 0
}

func TestAgentAPI(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		e := newEnv(t, st)
		tm := e.terminal("M1", "T1", "pc-A")
		hb := tm.Report([]proto.PaymentCount{{Channel: "wechat", Outcome: proto.OutcomePaid, Count: 2, SumFen: 990}})
		hb.UnresolvedOrders = 1
		resp, err := tm.Heartbeat(bg, hb)
		if err != nil {
			t.Fatal(err)
		}
		if resp.NextIntervalSec != 60 || resp.Config != nil || resp.LogRequest != nil || resp.Update != nil || resp.Disabled {
			t.Fatalf("first answer %+v", resp)
		}

		// Staff: configuration, log request, release.
		hbi := 30
		ver, _ := st.SetConfig(bg, store.ScopeAll, "", proto.Settings{HeartbeatIntervalSec: &hbi}, "ann")
		lr, _ := st.RequestLogs(bg, tm.UID, "ann")
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		msi := []byte("MSI bytes of 1.2.0")
		sum := sha256.Sum256(msi)
		sm, err := proto.SignManifest(proto.Manifest{Version: "1.2.0", Expires: time.Now().Add(time.Hour), MSIName: "s.msi", MSISize: int64(len(msi)), MSISHA256: hex.EncodeToString(sum[:]), SignedAt: time.Now()}, priv)
		if err != nil {
			t.Fatal(err)
		}
		st.PublishRelease(bg, sm, msi, 100, "ann")

		resp, err = tm.Heartbeat(bg, tm.Report(nil))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Config == nil || resp.Config.Version != ver || *resp.Config.Settings.HeartbeatIntervalSec != 30 || resp.NextIntervalSec != 30 {
			t.Fatalf("config not offered: %+v", resp)
		}
		if resp.LogRequest == nil || resp.LogRequest.ID != lr {
			t.Fatalf("log request not offered: %+v", resp.LogRequest)
		}
		if resp.Update == nil || resp.Update.Version != "1.2.0" {
			t.Fatalf("update not offered: %+v", resp.Update)
		}
		// Applied config reported: no longer offered.
		hb = tm.Report(nil)
		hb.ConfigVersion = ver
		resp, _ = tm.Heartbeat(bg, hb)
		if resp.Config != nil {
			t.Fatal("applied config offered again")
		}
		// Log upload and release download with the terminal's key.
		if _, err := tm.Do(bg, http.MethodPost, proto.PathLogUpload+"/"+lr, []byte("PK zip"), nil); err != nil {
			t.Fatalf("log upload: %v", err)
		}
		if _, data, err := st.LogBundle(bg, lr); err != nil || string(data) != "PK zip" {
			t.Fatalf("bundle %q %v", data, err)
		}
		got, err := tm.Do(bg, http.MethodGet, resp.Update.MSIPath, nil, nil)
		if err != nil || !bytes.Equal(got, msi) {
			t.Fatalf("msi download %v", err)
		}
		mj, err := tm.Do(bg, http.MethodGet, resp.Update.ManifestPath, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		sm2, err := proto.ParseSignedManifest(mj)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := proto.VerifyManifest(sm2, []ed25519.PublicKey{priv.Public().(ed25519.PublicKey)}, time.Now()); err != nil {
			t.Fatalf("served manifest does not verify: %v", err)
		}
		// Staff API.
		e.user("ann", store.RoleViewer)
		u, _ := st.UserByName(bg, "ann")
		tok, _ := st.CreateToken(bg, u.ID)
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/terminals", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		json.NewDecoder(r.Body).Decode(&list)
		r.Body.Close()
		if len(list) != 1 {
			t.Fatalf("terminals %v", list)
		}
		for _, k := range []string{"mch_id", "terminal_id", "terminal_sn", "device_id", "app_version", "last_seen", "online", "unresolved_orders", "alerts"} {
			if _, ok := list[0][k]; !ok {
				t.Errorf("field %s missing", k)
			}
		}
		if list[0]["online"] != true || list[0]["app_version"] != "1.1.0" {
			t.Errorf("terminal %v", list[0])
		}
		if _, err := time.Parse(time.RFC3339, list[0]["last_seen"].(string)); err != nil {
			t.Errorf("last_seen not RFC 3339: %v", err)
		}
		req.Header.Set("Authorization", "Bearer wrong")
		r, _ = http.DefaultClient.Do(req)
		r.Body.Close()
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("bad token: %d", r.StatusCode)
		}
	})
}

func TestAgentAuthRefused(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		e := newEnv(t, st)
		tm := e.terminal("M1", "T1", "pc-A")
		body, _ := json.Marshal(tm.Report(nil))
		post := func(mutate func(*http.Request)) int {
			req, _ := http.NewRequest("POST", e.srv.URL+proto.PathHeartbeat, bytes.NewReader(body))
			proto.SignRequest(req, body, tm.Priv, time.Now())
			mutate(req)
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.Header.Get(proto.HeaderServerTime) == "" {
				t.Error("no server time on the answer")
			}
			return r.StatusCode
		}
		// Bad signature.
		if c := post(func(r *http.Request) {
			sig := []byte(r.Header.Get(proto.HeaderSignature))
			sig[3] ^= 1
			r.Header.Set(proto.HeaderSignature, string(sig))
		}); c != 401 {
			t.Errorf("bad signature: %d", c)
		}
		// Signed by another key under this key id.
		_, other, _ := ed25519.GenerateKey(rand.Reader)
		if c := post(func(r *http.Request) {
			kid := r.Header.Get(proto.HeaderKeyID)
			proto.SignRequest(r, body, other, time.Now())
			r.Header.Set(proto.HeaderKeyID, kid)
		}); c != 401 {
			t.Errorf("other key: %d", c)
		}
		// Stale timestamp.
		if c := post(func(r *http.Request) { proto.SignRequest(r, body, tm.Priv, time.Now().Add(-10*time.Minute)) }); c != 401 {
			t.Errorf("stale: %d", c)
		}
		// No headers.
		if c := post(func(r *http.Request) { r.Header.Del(proto.HeaderSignature) }); c != 401 {
			t.Errorf("unsigned: %d", c)
		}
		// Replay: the same signed request twice.
		req, _ := http.NewRequest("POST", e.srv.URL+proto.PathHeartbeat, bytes.NewReader(body))
		proto.SignRequest(req, body, tm.Priv, time.Now())
		h := req.Header.Clone()
		r, _ := http.DefaultClient.Do(req)
		r.Body.Close()
		if r.StatusCode != 200 {
			t.Fatalf("original: %d", r.StatusCode)
		}
		req2, _ := http.NewRequest("POST", e.srv.URL+proto.PathHeartbeat, bytes.NewReader(body))
		req2.Header = h
		r, _ = http.DefaultClient.Do(req2)
		r.Body.Close()
		if r.StatusCode != 401 {
			t.Errorf("replayed request: %d", r.StatusCode)
		}
		// Enrollment without proof of possession of the key.
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		eb, _ := json.Marshal(proto.EnrollRequest{Code: e.code(), PublicKey: pub, Identity: proto.Identity{MchID: "M", TerminalID: "T", DeviceID: "d"}})
		ereq, _ := http.NewRequest("POST", e.srv.URL+proto.PathEnroll, bytes.NewReader(eb))
		proto.SignRequest(ereq, eb, other, time.Now())
		r, _ = http.DefaultClient.Do(ereq)
		r.Body.Close()
		if r.StatusCode != 401 {
			t.Errorf("enroll signed by another key: %d", r.StatusCode)
		}
		// A used code over HTTP.
		c := e.code()
		t2 := sim.New(e.srv.URL, nil, proto.Identity{MchID: "M2", TerminalID: "T2", DeviceID: "x"}, "1.1.0")
		if _, err := t2.Enroll(bg, c); err != nil {
			t.Fatal(err)
		}
		t3 := sim.New(e.srv.URL, nil, proto.Identity{MchID: "M3", TerminalID: "T3", DeviceID: "y"}, "1.1.0")
		if _, err := t3.Enroll(bg, c); status(err) != 403 {
			t.Errorf("reused code: %v", err)
		}
	})
}

// browser is a cookie-keeping HTTP client logged into the console.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (e *env) login(name string) *browser {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: e.t, base: e.srv.URL, c: &http.Client{Jar: jar}}
	r, err := b.c.PostForm(b.base+"/login", url.Values{"name": {name}, "password": {"password-" + name}})
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(body), `action="/logout"`) {
		e.t.Fatalf("login as %s: %d", name, r.StatusCode)
	}
	return b
}

func (b *browser) get(path string) (int, string) {
	r, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(body)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) csrf() string {
	_, body := b.get("/terminals")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatal("no CSRF token on the page")
	}
	return m[1]
}

func (b *browser) post(path string, v url.Values) (int, string) {
	r, err := b.c.PostForm(b.base+path, v)
	if err != nil {
		b.t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(body)
}

func lastAudit(t *testing.T, st *store.Store) store.AuditEntry {
	a, err := st.ListAudit(bg, 1)
	if err != nil || len(a) == 0 {
		t.Fatalf("audit %v", err)
	}
	return a[0]
}

func TestConsoleSecurity(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		e := newEnv(t, st)
		tm := e.terminal("M1", "T1", "pc-A")
		e.user("vera", store.RoleViewer)
		e.user("otto", store.RoleOperator)
		e.user("ada", store.RoleAdmin)

		// Not logged in: redirected to the login page.
		anon := &browser{t: t, base: e.srv.URL, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		if c, _ := anon.get("/terminals"); c != http.StatusSeeOther {
			t.Errorf("anonymous terminals page: %d", c)
		}

		op := e.login("otto")
		if a := lastAudit(t, st); a.Action != "login" || a.User != "otto" {
			t.Errorf("login not audited: %+v", a)
		}
		// A form post without the CSRF token is refused, and nothing happens.
		if c, _ := op.post("/terminals/"+tm.UID+"/logs", url.Values{}); c != http.StatusForbidden {
			t.Errorf("post without CSRF token: %d", c)
		}
		if c, _ := op.post("/terminals/"+tm.UID+"/logs", url.Values{"csrf": {"forged"}}); c != http.StatusForbidden {
			t.Errorf("post with a wrong CSRF token: %d", c)
		}
		if ls, _ := st.ListLogRequests(bg, tm.UID); len(ls) != 0 {
			t.Fatal("CSRF-less post had an effect")
		}
		if a := lastAudit(t, st); a.Action != "refused_csrf" {
			t.Errorf("CSRF refusal not audited: %+v", a)
		}
		// With the token it works and is audited with who asked.
		if c, _ := op.post("/terminals/"+tm.UID+"/logs", url.Values{"csrf": {op.csrf()}}); c != 200 {
			t.Errorf("log request: %d", c)
		}
		ls, _ := st.ListLogRequests(bg, tm.UID)
		if len(ls) != 1 || ls[0].RequestedBy != "otto" {
			t.Fatalf("log requests %+v", ls)
		}
		if a := lastAudit(t, st); a.Action != "logs_request" || a.User != "otto" || a.Target != tm.UID {
			t.Errorf("log request audit %+v", a)
		}
		// An operator may not pin a release (admin only).
		if c, _ := op.post("/terminals/"+tm.UID+"/pin", url.Values{"csrf": {op.csrf()}, "version": {"1.2.0"}}); c != http.StatusForbidden {
			t.Errorf("operator pin: %d", c)
		}

		// A viewer's admin and operator actions are refused server-side.
		v := e.login("vera")
		vt := v.csrf()
		for _, p := range []string{"/terminals/" + tm.UID + "/disable", "/terminals/" + tm.UID + "/pin", "/releases/1.2.0/rollout", "/install", "/config"} {
			if c, _ := v.post(p, url.Values{"csrf": {vt}, "disabled": {"1"}, "scope": {"all"}, "op": {"pause"}}); c != http.StatusForbidden {
				t.Errorf("viewer POST %s: %d", p, c)
			}
		}
		if c, _ := v.get("/audit"); c != http.StatusForbidden {
			t.Errorf("viewer audit page: %d", c)
		}
		if tt, _ := st.GetTerminal(bg, tm.UID, time.Now()); tt.Disabled {
			t.Fatal("viewer disabled a terminal")
		}
		if a := lastAudit(t, st); a.Action != "refused_role" || a.User != "vera" {
			t.Errorf("role refusal not audited: %+v", a)
		}
		// A viewer can read.
		for _, p := range []string{"/terminals", "/terminals/" + tm.UID, "/alerts", "/monitoring", "/config", "/devices", "/releases", "/install", "/report.csv"} {
			if c, _ := v.get(p); c != 200 {
				t.Errorf("viewer GET %s: %d", p, c)
			}
		}
		// The admin disables the copy: audited.
		ad := e.login("ada")
		if c, _ := ad.post("/terminals/"+tm.UID+"/disable", url.Values{"csrf": {ad.csrf()}, "disabled": {"1"}}); c != 200 {
			t.Errorf("admin disable: %d", c)
		}
		if tt, _ := st.GetTerminal(bg, tm.UID, time.Now()); !tt.Disabled {
			t.Fatal("admin could not disable")
		}
		if a := lastAudit(t, st); a.Action != "terminal_disable" || a.User != "ada" {
			t.Errorf("disable audit %+v", a)
		}
		if resp, err := tm.Heartbeat(bg, tm.Report(nil)); err != nil || !resp.Disabled {
			t.Errorf("disabled terminal told %+v %v", resp, err)
		}
		// Another session's CSRF token is not valid for this session.
		if c, _ := ad.post("/terminals/"+tm.UID+"/disable", url.Values{"csrf": {vt}, "disabled": {"0"}}); c != http.StatusForbidden {
			t.Errorf("foreign CSRF token: %d", c)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		e := newEnv(t, st)
		e.user("ann", store.RoleAdmin)
		c := &http.Client{}
		try := func(pw string) int {
			r, err := c.PostForm(e.srv.URL+"/login", url.Values{"name": {"ann"}, "password": {pw}})
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			return r.StatusCode
		}
		for i := 0; i < loginMaxPerUser; i++ {
			if code := try("wrong"); code != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d", i, code)
			}
		}
		// Now even the right password is refused for a while; the limit is
		// in the database, so a second server instance on it refuses too.
		if code := try("password-ann"); code != http.StatusTooManyRequests {
			t.Fatalf("after %d failures: %d", loginMaxPerUser, code)
		}
		e2 := newEnv(t, st)
		r, _ := c.PostForm(e2.srv.URL+"/login", url.Values{"name": {"ann"}, "password": {"password-ann"}})
		r.Body.Close()
		if r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("second instance: %d", r.StatusCode)
		}
		a, _ := st.ListAudit(bg, 20)
		n := 0
		for _, x := range a {
			if x.Action == "login_failed" {
				n++
			}
		}
		if n != loginMaxPerUser {
			t.Errorf("%d login_failed audit entries", n)
		}
	})
}

func TestPublishAndRollout(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		e := newEnv(t, st)
		e.user("ada", store.RoleAdmin)
		tm := e.terminal("M1", "T1", "pc-A")
		ad := e.login("ada")
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		msi := []byte("MSI 1.2.0")
		sum := sha256.Sum256(msi)
		sm, _ := proto.SignManifest(proto.Manifest{Version: "1.2.0", Expires: time.Now().Add(time.Hour), MSIName: "s.msi", MSISize: int64(len(msi)), MSISHA256: hex.EncodeToString(sum[:]), SignedAt: time.Now()}, priv)
		mj, _ := json.Marshal(sm)
		upload := func(man, msiBytes []byte, cohort string) int {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			w.WriteField("csrf", ad.csrf())
			w.WriteField("cohort", cohort)
			f, _ := w.CreateFormFile("manifest", "m.json")
			f.Write(man)
			f, _ = w.CreateFormFile("msi", "s.msi")
			f.Write(msiBytes)
			w.Close()
			r, err := ad.c.Post(e.srv.URL+"/releases", w.FormDataContentType(), &buf)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			return r.StatusCode
		}
		// A tampered MSI is refused by the server too.
		if c := upload(mj, []byte("MSI 1.2.1"), "100"); c != http.StatusBadRequest {
			t.Fatalf("tampered MSI published: %d", c)
		}
		if c := upload(mj, msi, "100"); c != 200 {
			t.Fatalf("publish: %d", c)
		}
		if a := lastAudit(t, st); a.Action != "release_publish" || a.Target != "1.2.0" {
			t.Errorf("publish audit %+v", a)
		}
		resp, _ := tm.Heartbeat(bg, tm.Report(nil))
		if resp.Update == nil {
			t.Fatal("not offered at 100%")
		}
		if c, _ := ad.post("/releases/1.2.0/rollout", url.Values{"csrf": {ad.csrf()}, "op": {"pause"}}); c != 200 {
			t.Fatalf("pause: %d", c)
		}
		resp, _ = tm.Heartbeat(bg, tm.Report(nil))
		if resp.Update != nil {
			t.Fatal("offered while paused")
		}
		// Pin overrides the pause for one terminal.
		ad.post("/terminals/"+tm.UID+"/pin", url.Values{"csrf": {ad.csrf()}, "version": {"1.2.0"}})
		resp, _ = tm.Heartbeat(bg, tm.Report(nil))
		if resp.Update == nil || resp.Update.Version != "1.2.0" {
			t.Fatal("pinned terminal not offered")
		}
		rels, _ := st.ListReleases(bg)
		if len(rels) != 1 || !rels[0].Paused {
			t.Fatalf("releases %+v", rels)
		}
		acts := []string{}
		a, _ := st.ListAudit(bg, 10)
		for _, x := range a {
			acts = append(acts, x.Action)
		}
		for _, want := range []string{"release_publish_refused", "release_publish", "release_rollout", "release_pin"} {
			if !slices.Contains(acts, want) {
				t.Errorf("audit lacks %s: %v", want, acts)
			}
		}
	})
}

func TestMessagesComplete(t *testing.T) {
	for k, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks a language", k)
		}
	}
	for _, k := range []string{store.AlertOffline, store.AlertDeviceChanged, store.AlertUnresolvedOld, store.AlertAmountSource, store.AlertScanner,
		store.AlertClockOffset, store.AlertFailureSpike, store.AlertVersionBehind, store.AlertDeviceMoved} {
		if _, ok := messages["alert_"+k]; !ok {
			t.Errorf("alert %s has no message", k)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("hash %q", h)
	}
	if CheckPassword(h, "correct horse") != nil || CheckPassword(h, "correct horsf") == nil {
		t.Fatal("check")
	}
	if _, err := HashPassword("short"); err == nil {
		t.Fatal("short password accepted")
	}
}

func TestHeartbeatGroupCommit(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		e := newEnv(t, st)
		const n, per = 20, 5
		terms := make([]*sim.Terminal, n)
		for i := range terms {
			terms[i] = e.terminal("M1", "T"+string(rune('A'+i)), "pc")
		}
		errc := make(chan error, n*per)
		for _, tm := range terms {
			go func(tm *sim.Terminal) {
				for j := 0; j < per; j++ {
					_, err := tm.Heartbeat(bg, tm.Report([]proto.PaymentCount{{Channel: "wechat", Outcome: proto.OutcomePaid, Count: 1, SumFen: 100}}))
					errc <- err
				}
			}(tm)
		}
		for i := 0; i < n*per; i++ {
			if err := <-errc; err != nil {
				t.Fatalf("concurrent heartbeat: %v", err)
			}
		}
		hs, err := st.Hourly(bg, "", time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var reports, paid int64
		for _, h := range hs {
			reports += h.Reports
			paid += h.PaidCount
		}
		if reports != n*per || paid != n*per {
			t.Fatalf("roll-up counted %d reports, %d payments; want %d each", reports, paid, n*per)
		}
	})
}

func TestReenrolledKeyRefused(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		e := newEnv(t, st)
		old := e.terminal("M1", "T1", "pc-A")
		if _, err := old.Heartbeat(bg, old.Report(nil)); err != nil { // caches the key
			t.Fatal(err)
		}
		// Reinstalled on the same PC: a new key for the same terminal.
		fresh := sim.New(e.srv.URL, nil, old.Identity, "1.1.0")
		if _, err := fresh.Enroll(bg, e.code()); err != nil {
			t.Fatal(err)
		}
		if fresh.UID != old.UID {
			t.Fatalf("re-enrollment got uid %s, want %s", fresh.UID, old.UID)
		}
		if _, err := fresh.Heartbeat(bg, fresh.Report(nil)); err != nil {
			t.Fatalf("new key: %v", err)
		}
		if _, err := old.Heartbeat(bg, old.Report(nil)); status(err) != http.StatusUnauthorized {
			t.Fatalf("replaced key still accepted: %v", err)
		}
	})
}

// Alert details are shown in the console's language (Chinese first,
// English on request), on the alerts page and on the terminal's page;
// the API keeps the stable alert codes.
func TestAlertsInConsoleLanguage(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		e := newEnv(t, st)
		e.user("vic", store.RoleViewer)
		tm := e.terminal("M1", "T1", "pc-A")
		hb := tm.Report(nil)
		hb.ClockOffsetMs = 90_000
		hb.Scanner = proto.ScannerState{State: proto.StateFailing, Mode: "serial", Port: "COM3"}
		hb.AmountSources = []proto.AmountSourceState{{Name: "ocr", State: proto.StateFailing, Detail: "屏幕区域读不到金额"}}
		hb.Payments = []proto.PaymentCount{{Outcome: proto.OutcomePaid, Count: 3}, {Outcome: proto.OutcomeFailed, Count: 2}}
		if _, err := tm.Heartbeat(bg, hb); err != nil {
			t.Fatal(err)
		}
		e.terminal("M1", "T1", "pc-B") // the same terminal from another PC
		b := e.login("vic")
		zh := []string{"与银行时钟相差 90 秒", "扫码盒 (COM3) 故障", "金额来源 ocr 故障", "5 笔交易中 2 笔失败或结果未知", "同一终端从设备 pc-B 再次注册"}
		en := []string{"90 s off the bank&#39;s clock", "scan box (COM3) failing", "amount source ocr failing", "2 of 5 payments failed or unknown", "enrolled again from device pc-B"}
		for _, page := range []string{"/alerts", "/terminals/" + tm.UID} {
			for _, c := range []struct {
				lang      string
				want, not []string
			}{{"", zh, en}, {"?lang=en", en, zh}} {
				code, body := b.get(page + c.lang)
				if code != 200 {
					t.Fatalf("%s%s: %d", page, c.lang, code)
				}
				for _, w := range c.want {
					if !strings.Contains(body, w) {
						t.Errorf("%s%s lacks %q", page, c.lang, w)
					}
				}
				for _, n := range c.not {
					if strings.Contains(body, n) {
						t.Errorf("%s%s shows %q, of the other language", page, c.lang, n)
					}
				}
			}
		}
		u, _ := st.UserByName(bg, "vic")
		tok, _ := st.CreateToken(bg, u.ID)
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/terminals", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list []apiTerminal
		json.NewDecoder(r.Body).Decode(&list)
		r.Body.Close()
		var codes []string
		for _, a := range list {
			if a.DeviceID == "pc-A" {
				codes = a.Alerts
			}
		}
		for _, k := range []string{store.AlertAmountSource, store.AlertScanner, store.AlertClockOffset, store.AlertFailureSpike, store.AlertDeviceChanged} {
			if !slices.Contains(codes, k) {
				t.Errorf("API alerts %v lack the code %q", codes, k)
			}
		}
	})
}

// Opening hours are set in the console per scope; setting only them makes
// no new agent configuration version, and a malformed value is refused
// with a sentence in the console's language.
func TestOpeningHoursInConsole(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		e := newEnv(t, st)
		e.user("olga", store.RoleOperator)
		tm := e.terminal("M1", "T1", "pc-A")
		b := e.login("olga")
		tok := b.csrf()
		if c, _ := b.post("/config", url.Values{"csrf": {tok}, "scope": {"all"}, "opening_hours": {"09:00-21:30"}}); c != 200 && c != 303 {
			t.Fatalf("save hours: %d", c)
		}
		if cfg, _ := st.EffectiveConfig(bg, tm.UID, ""); cfg.Version != 0 {
			t.Errorf("hours alone made configuration version %d", cfg.Version)
		}
		if a := lastAudit(t, st); a.Action != "opening_hours_set" || a.Detail != "09:00-21:30" {
			t.Errorf("audit %+v", a)
		}
		if _, body := b.get("/terminals/" + tm.UID); !strings.Contains(body, `<span id="opening-hours">09:00-21:30</span>`) {
			t.Error("terminal page does not show its opening hours")
		}
		c, body := b.post("/terminals/"+tm.UID+"/config", url.Values{"csrf": {tok}, "opening_hours": {"9-21"}})
		if c != 400 || !strings.Contains(body, "营业时间的格式应为 08:00-22:00。") {
			t.Errorf("bad hours: %d", c)
		}
		// Other refused values are one sentence in the console's language too.
		c, body = b.post("/config", url.Values{"csrf": {tok}, "scope": {"all"}, "heartbeat_interval_sec": {"5"}})
		if c != 400 || !strings.Contains(body, "巡检间隔 (秒)必须是 10 到 3600 之间的数字。") {
			t.Errorf("bad interval: %d", c)
		}
		if c, _ := b.post("/terminals/"+tm.UID+"/config", url.Values{"csrf": {tok}, "opening_hours": {"00:00-24:00"}}); c != 200 && c != 303 {
			t.Fatalf("terminal hours: %d", c)
		}
		if got, _ := st.GetTerminal(bg, tm.UID, time.Now()); got.Hours != (store.OpeningHours{Open: 0, Close: 1440}) {
			t.Errorf("terminal hours %v", got.Hours)
		}
	})
}

// Agent sessions (proto/session.go): a terminal opens one with a signed
// request and then authenticates with the session MAC, on any instance;
// a wrong MAC, a replay, an unknown or expired session, a session opened
// by a session, a session of a replaced key and a disabled terminal are
// all refused.
func TestAgentSession(t *testing.T) {
	fleettest.Each(t, func(t *testing.T, st *store.Store, _ string) {
		e := newEnv(t, st)
		tm := e.terminal("M1", "T1", "pc-A")
		sr, err := tm.OpenSession(bg)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(sr.ExpiresAt); d < 23*time.Hour || d > 25*time.Hour {
			t.Errorf("session expires in %s", d)
		}
		if _, err := tm.Heartbeat(bg, tm.Report([]proto.PaymentCount{{Channel: "wechat", Outcome: proto.OutcomePaid, Count: 1, SumFen: 100}})); err != nil {
			t.Fatalf("heartbeat in a session: %v", err)
		}
		if hs, _ := st.Hourly(bg, tm.UID, time.Now().Add(-time.Hour)); len(hs) != 1 || hs[0].Reports != 1 || hs[0].PaidFen != 100 {
			t.Fatalf("session heartbeat not stored: %+v", hs)
		}
		// A log bundle in the session.
		lr, _ := st.RequestLogs(bg, tm.UID, "ann")
		if _, err := tm.Do(bg, http.MethodPost, proto.PathLogUpload+"/"+lr, []byte("PK zip"), nil); err != nil {
			t.Fatalf("log upload in a session: %v", err)
		}

		send := func(url, path string, body []byte, set func(*http.Request)) int {
			req, _ := http.NewRequest("POST", url+path, bytes.NewReader(body))
			set(req)
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			return r.StatusCode
		}
		body, _ := json.Marshal(tm.Report(nil))
		ts := time.Now().Add(time.Second) // after the sim's last
		good := func(r *http.Request) { proto.MACRequest(r, body, tm.SessionID, tm.SessionKey, ts) }
		wrongKey := make([]byte, 32)
		if c := send(e.srv.URL, proto.PathHeartbeat, body, func(r *http.Request) { proto.MACRequest(r, body, tm.SessionID, wrongKey, ts) }); c != 401 {
			t.Errorf("wrong MAC: %d", c)
		}
		if c := send(e.srv.URL, proto.PathHeartbeat, body, func(r *http.Request) { proto.MACRequest(r, body, "as-unknown", tm.SessionKey, ts) }); c != 401 {
			t.Errorf("unknown session: %d", c)
		}
		if c := send(e.srv.URL, proto.PathHeartbeat, body, func(r *http.Request) { good(r); r.Header.Set(proto.HeaderTimestamp, "1") }); c != 401 {
			t.Errorf("timestamp changed under the MAC: %d", c)
		}
		// Another instance on the same database knows the session.
		e2 := newEnv(t, st)
		if c := send(e2.srv.URL, proto.PathHeartbeat, body, good); c != 200 {
			t.Fatalf("session on the second instance: %d", c)
		}
		if c := send(e.srv.URL, proto.PathHeartbeat, body, good); c != 401 {
			t.Errorf("replayed on the first instance: %d", c)
		}
		// Only the terminal key opens a session.
		sb, _ := json.Marshal(proto.SessionRequest{X25519: make([]byte, 32)})
		if c := send(e.srv.URL, proto.PathSession, sb, func(r *http.Request) {
			proto.MACRequest(r, sb, tm.SessionID, tm.SessionKey, time.Now().Add(2*time.Second))
		}); c != 401 {
			t.Errorf("session opened by a session: %d", c)
		}

		// Expired: an instance whose clock is a day later (the sim learns
		// its time from the first refusal, so the second is for expiry).
		var logs bytes.Buffer
		late := New(st, Options{CacheTTL: -1, Now: func() time.Time { return time.Now().Add(proto.SessionTTL + time.Hour) },
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		hl := httptest.NewServer(late.Handler())
		defer func() { hl.Close(); late.Close() }()
		tl := sim.New(hl.URL, nil, tm.Identity, "1.1.0")
		tl.Priv, tl.UID, tl.SessionID, tl.SessionKey = tm.Priv, tm.UID, tm.SessionID, tm.SessionKey
		tl.Heartbeat(bg, tl.Report(nil))
		if _, err := tl.Heartbeat(bg, tl.Report(nil)); status(err) != 401 || !strings.Contains(logs.String(), "session expired") {
			t.Errorf("expired session: %v; log %q", err, logs.String())
		}

		// Re-enrolled (a new key): the old key's session ends.
		again := sim.New(e.srv.URL, nil, tm.Identity, "1.1.0")
		if _, err := again.Enroll(bg, e.code()); err != nil || again.UID != tm.UID {
			t.Fatalf("re-enroll: %v", err)
		}
		if _, err := tm.Heartbeat(bg, tm.Report(nil)); status(err) != 401 {
			t.Errorf("session of the replaced key: %v", err)
		}
		if _, err := tm.Do(bg, http.MethodGet, proto.PathRelease+"/1.2.0/manifest", nil, nil); status(err) != 401 {
			t.Errorf("session of the replaced key, release file: %v", err)
		}
		// A disabled terminal opens none.
		st.SetDisabled(bg, again.UID, true)
		if _, err := again.OpenSession(bg); status(err) != 403 {
			t.Errorf("disabled terminal opened a session: %v", err)
		}
	})
}
