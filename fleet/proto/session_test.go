package proto

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"net/http"
	"testing"
	"time"
)

// Both sides derive the same session key from their ephemeral halves; a
// request MACed with it verifies, and any change to it, another key or a
// stale timestamp does not.
func TestSessionKeyAndMAC(t *testing.T) {
	agent, _ := ecdh.X25519().GenerateKey(rand.Reader)
	server, _ := ecdh.X25519().GenerateKey(rand.Reader)
	shared, err := server.ECDH(agent.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	const keyID = "0123456789abcdef0123456789abcdef"
	serverKey, err := SessionKey(shared, "s1", keyID)
	if err != nil {
		t.Fatal(err)
	}
	resp := SessionResponse{SessionID: "s1", X25519: server.PublicKey().Bytes()}
	agentKey, err := AgentSessionKey(agent, resp, keyID)
	if err != nil || !bytes.Equal(agentKey, serverKey) || len(agentKey) != 32 {
		t.Fatalf("keys differ: %x %x %v", agentKey, serverKey, err)
	}
	// Another session id or key id: another key.
	if k, _ := SessionKey(shared, "s2", keyID); bytes.Equal(k, serverKey) {
		t.Error("session id not bound into the key")
	}
	if k, _ := SessionKey(shared, "s1", "ffff"+keyID[4:]); bytes.Equal(k, serverKey) {
		t.Error("key id not bound into the key")
	}
	// An answer with another server half (altered in transit) gives the
	// agent a key the server does not have.
	mitm, _ := ecdh.X25519().GenerateKey(rand.Reader)
	if k, _ := AgentSessionKey(agent, SessionResponse{SessionID: "s1", X25519: mitm.PublicKey().Bytes()}, keyID); bytes.Equal(k, serverKey) {
		t.Error("altered answer gave the same key")
	}

	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"seq":1}`)
	req, _ := http.NewRequest("POST", "http://fleet.example"+PathHeartbeat, bytes.NewReader(body))
	MACRequest(req, body, "s1", agentKey, now)
	a, ok, err := ParseSessionAuth(req.Header)
	if !ok || err != nil || a.SessionID != "s1" {
		t.Fatalf("parse: %+v %v %v", a, ok, err)
	}
	uri := req.URL.RequestURI()
	if err := a.Verify(serverKey, "POST", uri, body, now); err != nil {
		t.Fatalf("good request refused: %v", err)
	}
	for name, f := range map[string]func() error{
		"body":   func() error { return a.Verify(serverKey, "POST", uri, []byte(`{"seq":2}`), now) },
		"path":   func() error { return a.Verify(serverKey, "POST", PathLogUpload+"/x", body, now) },
		"method": func() error { return a.Verify(serverKey, "GET", uri, body, now) },
		"key":    func() error { k, _ := SessionKey(shared, "s2", keyID); return a.Verify(k, "POST", uri, body, now) },
		"timestamp": func() error {
			b := a
			b.TsMillis++
			return b.Verify(serverKey, "POST", uri, body, now)
		},
	} {
		if err := f(); !errors.Is(err, ErrAuthSignature) {
			t.Errorf("altered %s: %v", name, err)
		}
	}
	if err := a.Verify(serverKey, "POST", uri, body, now.Add(6*time.Minute)); !errors.Is(err, ErrAuthStale) {
		t.Errorf("stale: %v", err)
	}
	// No session headers: not a session request; half of them: refused.
	if _, ok, _ := ParseSessionAuth(http.Header{}); ok {
		t.Error("empty headers parsed as a session")
	}
	h := http.Header{}
	h.Set(HeaderSession, "s1")
	if _, ok, err := ParseSessionAuth(h); !ok || !errors.Is(err, ErrAuthMissing) {
		t.Errorf("session without MAC: %v %v", ok, err)
	}
}
