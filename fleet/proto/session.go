package proto

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Agent sessions: the same authentication for a fraction of the CPU.
//
// Verifying an ed25519 signature costs the server far more than anything
// else in a heartbeat, so an agent may, once a day, open a session and
// then authenticate its requests with HMAC-SHA256 under the session key:
//
//  1. The agent makes an ephemeral X25519 key pair and POSTs its public
//     half to PathSession (SessionRequest), signed with its terminal key
//     like any request: only the terminal's key holder can open a session
//     for it, and the replay rules apply.
//  2. The server makes its own ephemeral X25519 pair, keeps the session
//     key SessionKey(X25519 shared secret, id, key id) in its database
//     (every instance can check it) and answers its public half, the
//     session id and the expiry (SessionResponse). The secret itself
//     never travels: an eavesdropper learns neither half's private key.
//     Someone who alters the answer only gives the agent a key the server
//     does not know: its requests are refused and it falls back to
//     signing; they cannot forge one.
//  3. Requests then carry HeaderSession, HeaderTimestamp and HeaderMAC =
//     base64(HMAC-SHA256(key, "scanbox-fleet-session-v1\n" +
//     SigningString(...))): the same method, URI, timestamp and body hash
//     as a signature, the same replay window, and the same "newer than the
//     last accepted timestamp of this terminal" rule in the database.
//
// A session is bound to the terminal key that opened it: re-enrolling
// (a new key) ends it, and a disabled terminal is refused as before. It
// ends at ExpiresAt (SessionTTL); the agent opens another one, or signs.
// Every agent request stays authenticated either way; the signature path
// is unchanged and always accepted.
const (
	PathSession   = "/api/v1/agent/session"
	HeaderSession = "X-Scanbox-Session"
	HeaderMAC     = "X-Scanbox-MAC"
	SessionTTL    = 24 * time.Hour
	sessionPrefix = "scanbox-fleet-session-v1\n"
)

// SessionRequest opens a session: the agent's ephemeral X25519 public key.
type SessionRequest struct {
	X25519 []byte `json:"x25519"`
}

// SessionResponse is the server's half.
type SessionResponse struct {
	SessionID string    `json:"session_id"`
	X25519    []byte    `json:"x25519"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionKey derives the 32-byte MAC key from the X25519 shared secret.
func SessionKey(shared []byte, sessionID, keyID string) ([]byte, error) {
	return hkdf.Key(sha256.New, shared, []byte(sessionID), "scanbox-fleet session key\n"+keyID, 32)
}

// AgentSessionKey is the agent's side of step 2: the key from its
// ephemeral private key and the server's answer.
func AgentSessionKey(priv *ecdh.PrivateKey, r SessionResponse, keyID string) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(r.X25519)
	if err != nil {
		return nil, fmt.Errorf("proto: session: %w", err)
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("proto: session: %w", err)
	}
	return SessionKey(shared, r.SessionID, keyID)
}

// RequestMAC is the MAC of a request (the bytes SigningString signs).
func RequestMAC(key []byte, method, requestURI string, tsMillis int64, bodyHash string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sessionPrefix))
	m.Write(SigningString(method, requestURI, tsMillis, bodyHash))
	return m.Sum(nil)
}

// MACRequest sets the session auth headers on req for body.
func MACRequest(req *http.Request, body []byte, sessionID string, key []byte, now time.Time) {
	ts := now.UnixMilli()
	mac := RequestMAC(key, req.Method, req.URL.RequestURI(), ts, BodyHash(body))
	req.Header.Set(HeaderSession, sessionID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderMAC, base64.StdEncoding.EncodeToString(mac))
}

// SessionAuth is the parsed session auth headers of a request.
type SessionAuth struct {
	SessionID string
	TsMillis  int64
	MAC       []byte
}

// ParseSessionAuth reads the session auth headers; ok is false when the
// request carries none (it may be signed instead).
func ParseSessionAuth(h http.Header) (a SessionAuth, ok bool, err error) {
	id := h.Get(HeaderSession)
	if id == "" {
		return SessionAuth{}, false, nil
	}
	ts, mac := h.Get(HeaderTimestamp), h.Get(HeaderMAC)
	if ts == "" || mac == "" {
		return SessionAuth{}, true, ErrAuthMissing
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return SessionAuth{}, true, fmt.Errorf("%w: timestamp", ErrAuthMalformed)
	}
	m, err := base64.StdEncoding.DecodeString(mac)
	if err != nil || len(m) != sha256.Size || len(id) > 64 {
		return SessionAuth{}, true, fmt.Errorf("%w: session MAC", ErrAuthMalformed)
	}
	return SessionAuth{SessionID: id, TsMillis: n, MAC: m}, true, nil
}

// Verify checks the MAC under key and the timestamp against now (the
// caller checks the session's expiry and, in its database, that the
// timestamp is newer than the terminal's last).
func (a SessionAuth) Verify(key []byte, method, requestURI string, body []byte, now time.Time) error {
	if !hmac.Equal(RequestMAC(key, method, requestURI, a.TsMillis, BodyHash(body)), a.MAC) {
		return ErrAuthSignature
	}
	d := now.Sub(time.UnixMilli(a.TsMillis))
	if d > ReplayWindow || d < -ReplayWindow {
		return ErrAuthStale
	}
	return nil
}
