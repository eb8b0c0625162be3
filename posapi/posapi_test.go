package posapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scanbox/scanbox/capture"
	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
	"github.com/scanbox/scanbox/payclient/banksim"
	"github.com/scanbox/scanbox/payclient/banksim/simtest"
)

// activated opens a core on a fresh data directory activated against the
// in-process simulator, with quick pacing.
func activated(t *testing.T, opts banksim.Options) *core.Core {
	t.Helper()
	_, url := simtest.NewServer(t, opts)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.PollInterval = config.Duration(20 * time.Millisecond)
	cfg.PollTimeout = config.Duration(2 * time.Second)
	if err := config.Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	c, err := core.Open(dir, core.Options{Kind: core.KindServe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Activate(context.Background(), core.ActivateRequest{URL: url, MchID: banksim.DefaultMchID,
		TerminalID: banksim.DefaultTerminalID, Code: banksim.DefaultActivationCode}); err != nil {
		t.Fatal(err)
	}
	return c
}

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef"

func do(h http.Handler, method, target, body string, mod func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+testToken)
	r.Host = "127.0.0.1:8765"
	if mod != nil {
		mod(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func errCode(t *testing.T, w *httptest.ResponseRecorder) apiError {
	t.Helper()
	var e map[string]apiError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("not an error body: %s", w.Body)
	}
	return e["error"]
}

// A request from another machine is refused before the token is even
// looked at, and charges nothing.
func TestRefusesNonLoopbackPeer(t *testing.T) {
	c := activated(t, banksim.Options{})
	h := NewHandler(c, testToken, "")
	for _, peer := range []string{"192.0.2.10:5555", "[2001:db8::1]:80", "10.0.0.1:1", "garbage"} {
		w := do(h, "POST", "/v1/payments", `{"code":"134567890123456780","amount":"1.00"}`,
			func(r *http.Request) { r.RemoteAddr = peer })
		if w.Code != http.StatusForbidden || errCode(t, w).Code != "FORBIDDEN" {
			t.Errorf("peer %s: %d %s", peer, w.Code, w.Body)
		}
	}
	if n := len(c.Journal().Recent(10)); n != 0 {
		t.Fatalf("%d orders journaled from refused peers", n)
	}
	// The same request from loopback goes through.
	w := do(h, "POST", "/v1/payments", `{"code":"134567890123456780","amount":"1.00"}`, func(r *http.Request) { r.RemoteAddr = "127.0.0.1:40000" })
	if w.Code != http.StatusAccepted {
		t.Fatalf("loopback peer: %d %s", w.Code, w.Body)
	}
}

func TestRefusesWithoutToken(t *testing.T) {
	c := activated(t, banksim.Options{})
	h := NewHandler(c, testToken, "")
	for _, auth := range []string{"", "Bearer ", "Bearer wrong", "Basic " + testToken, "bearer" + testToken} {
		w := do(h, "GET", "/v1/status", "", func(r *http.Request) {
			r.RemoteAddr = "127.0.0.1:1"
			r.Header.Set("Authorization", auth)
		})
		if w.Code != http.StatusUnauthorized || errCode(t, w).ExitCode != 2 {
			t.Errorf("auth %q: %d %s", auth, w.Code, w.Body)
		}
	}
}

// A web page the cashier opens must not drive payments: no CORS unless
// its origin is allowlisted, and no DNS rebinding through the Host header.
func TestOriginsAndHost(t *testing.T) {
	c := activated(t, banksim.Options{})
	h := NewHandler(c, testToken, "https://pos.example, http://localhost:3000")
	local := func(r *http.Request) { r.RemoteAddr = "127.0.0.1:1" }
	w := do(h, "GET", "/v1/status", "", func(r *http.Request) { local(r); r.Header.Set("Origin", "https://evil.example") })
	if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin: %d %v", w.Code, w.Header())
	}
	w = do(h, "OPTIONS", "/v1/payments", "", func(r *http.Request) { local(r); r.Header.Set("Origin", "https://pos.example") })
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "https://pos.example" {
		t.Errorf("preflight of an allowed origin: %d %v", w.Code, w.Header())
	}
	w = do(h, "GET", "/v1/status", "", func(r *http.Request) { local(r); r.Host = "evil.example:8765" })
	if w.Code != http.StatusForbidden {
		t.Errorf("rebinding Host: %d", w.Code)
	}
	w = do(h, "GET", "/v1/status", "", func(r *http.Request) { local(r); r.Host = "localhost:8765" })
	if w.Code != http.StatusOK {
		t.Errorf("localhost Host: %d %s", w.Code, w.Body)
	}
}

// The listener binds 127.0.0.1 only: the same port on the machine's other
// addresses does not answer.
func TestListensOnLoopbackOnly(t *testing.T) {
	c := activated(t, banksim.Options{})
	s, err := Start(NewHandler(c, testToken, ""), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	addr := s.Addr().(*net.TCPAddr)
	if !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("listening on %v", addr)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		tried++
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), fmt.Sprint(addr.Port)), time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("the POS API answers on %v", ipn.IP)
		}
	}
	t.Logf("listening on %v; refused on %d non-loopback address(es)", addr, tried)
}

// Pay with the amount the POS set, follow it by long poll, and cancel one
// whose payer never confirms.
func TestPayFollowCancel(t *testing.T) {
	c := activated(t, banksim.Options{})
	h := NewHandler(c, testToken, "")
	local := func(r *http.Request) { r.RemoteAddr = "127.0.0.1:1" }
	if w := do(h, "POST", "/v1/payments", `{"code":"134567890123456780"}`, local); w.Code != http.StatusConflict || errCode(t, w).Code != "NO_AMOUNT" {
		t.Fatalf("pay with no amount: %d %s", w.Code, w.Body)
	}
	if w := do(h, "PUT", "/v1/amount", `{"amount":"12.50"}`, local); w.Code != http.StatusOK {
		t.Fatalf("set amount: %d %s", w.Code, w.Body)
	}
	w := do(h, "POST", "/v1/payments", `{"code":"134567890123456780"}`, local)
	if w.Code != http.StatusAccepted {
		t.Fatalf("pay: %d %s", w.Code, w.Body)
	}
	var o Order
	json.Unmarshal(w.Body.Bytes(), &o)
	if o.AmountFen != 1250 {
		t.Fatalf("charged %d fen, want the set 1250", o.AmountFen)
	}
	if _, ok := c.Amount().Get(); ok {
		t.Error("the charged amount is still current: the next customer would be charged it")
	}
	w = do(h, "GET", "/v1/orders/"+o.OutTradeNo+"?wait=20s", "", local)
	json.Unmarshal(w.Body.Bytes(), &o)
	if o.State != "paid" || o.ExitCode != 0 || !o.Final || o.TransactionID == "" {
		t.Fatalf("followed order: %s", w.Body)
	}
	if w := do(h, "POST", "/v1/payments", `{"code":"134567890123456780","amount":"1.00"}`, local); errCode(t, w).Code != "CODE_ALREADY_PAID" {
		t.Errorf("same code again: %d %s", w.Code, w.Body)
	}
	if w := do(h, "POST", "/v1/payments", `{"code":"6901234567892","amount":"1.00"}`, local); errCode(t, w).Code != "NOT_A_PAYMENT_CODE" || errCode(t, w).ExitCode != 1 {
		t.Errorf("product barcode: %d %s", w.Code, w.Body)
	}

	w = do(h, "POST", "/v1/payments", `{"code":"134567890123456786","amount_fen":300}`, local) // 6: never confirms
	json.Unmarshal(w.Body.Bytes(), &o)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cur, _ := c.Journal().Get(o.OutTradeNo)
		if cur.State.String() == "waiting" || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if w := do(h, "POST", "/v1/orders/"+o.OutTradeNo+"/cancel", "", local); w.Code != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", w.Code, w.Body)
	}
	w = do(h, "GET", "/v1/orders/"+o.OutTradeNo+"?wait=20s", "", local)
	json.Unmarshal(w.Body.Bytes(), &o)
	if o.State != "closed" || o.ExitCode != 1 {
		t.Fatalf("cancelled order: %s", w.Body)
	}
	if w := do(h, "POST", "/v1/orders/"+o.OutTradeNo+"/cancel", "", local); w.Code != http.StatusConflict {
		t.Errorf("cancel of a closed order: %d", w.Code)
	}
	w = do(h, "GET", "/v1/orders?limit=10", "", local)
	var list []Order
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list) != 2 {
		t.Errorf("recent: %s", w.Body)
	}
}

func TestTokenFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	tok, err := NewToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadToken(dir)
	if err != nil || got != tok || len(tok) != 64 {
		t.Fatalf("read back %q, %v", got, err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(dir, TokenFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("token file mode %v, %v", fi.Mode(), err)
		}
	}
	again, _ := NewToken(dir)
	if again == tok {
		t.Fatal("enabling again kept the old token")
	}
}

// An amount older than max_amount_age may be the previous customer's: it is
// not charged.
func TestStaleAmountNotCharged(t *testing.T) {
	c := activated(t, banksim.Options{})
	h := NewHandler(c, testToken, "")
	local := func(r *http.Request) { r.RemoteAddr = "127.0.0.1:1" }
	old := time.Now().Add(-c.Config().Amount.MaxAmountAge.D() - time.Minute)
	if err := c.Amount().Set(capture.Reading{Amount: 999, Source: capture.SourceManual, At: old}); err != nil {
		t.Fatal(err)
	}
	w := do(h, "POST", "/v1/payments", `{"code":"134567890123456780"}`, local)
	if w.Code != http.StatusConflict || errCode(t, w).Code != "NO_AMOUNT" {
		t.Fatalf("stale amount: %d %s", w.Code, w.Body)
	}
	if n := len(c.Journal().Recent(10)); n != 0 {
		t.Fatalf("%d orders journaled with a stale amount", n)
	}
}
