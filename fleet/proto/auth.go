package proto

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Agent request authentication.
//
// Every agent request carries three headers:
//
//	X-Scanbox-Key:       KeyID(public key)
//	X-Scanbox-Timestamp: Unix time in milliseconds (agent clock corrected by
//	                     the server time learnt from earlier responses)
//	X-Scanbox-Signature: base64(ed25519.Sign(priv, SigningString(...)))
//
// SigningString binds the method, the request URI (path and query), the
// timestamp and the SHA-256 of the body, so a captured request cannot be
// replayed to another path or with another body. The server refuses a
// timestamp outside ReplayWindow of its own clock, and one not strictly
// greater than the last accepted timestamp of the same key (kept in its
// database, so it holds across server instances). Every response carries
// HeaderServerTime, including refusals, so an agent with a wrong clock can
// correct its timestamps instead of being locked out.
const (
	HeaderKeyID      = "X-Scanbox-Key"
	HeaderTimestamp  = "X-Scanbox-Timestamp"
	HeaderSignature  = "X-Scanbox-Signature"
	HeaderServerTime = "X-Scanbox-Server-Time" // Unix milliseconds
)

// ReplayWindow is how far a request timestamp may be from the server clock.
const ReplayWindow = 5 * time.Minute

// Auth errors. The server answers 401 for each; the reason is for logs.
var (
	ErrAuthMissing   = errors.New("proto: authentication headers missing")
	ErrAuthMalformed = errors.New("proto: authentication headers malformed")
	ErrAuthSignature = errors.New("proto: request signature does not verify")
	ErrAuthStale     = errors.New("proto: request timestamp outside the replay window")
	ErrAuthReplay    = errors.New("proto: request timestamp not newer than the last one (replay)")
)

const signingPrefix = "scanbox-fleet-request-v1"

// KeyID names a terminal key: the first 16 bytes of SHA-256 of the public
// key, hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:16])
}

// BodyHash is the hex SHA-256 of a request body (of nothing for GET).
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// SigningString is the exact byte string that is signed.
func SigningString(method, requestURI string, tsMillis int64, bodyHash string) []byte {
	return []byte(signingPrefix + "\n" + strings.ToUpper(method) + "\n" + requestURI + "\n" +
		strconv.FormatInt(tsMillis, 10) + "\n" + bodyHash)
}

// SignRequest sets the auth headers on req for body (which the caller also
// sends as req.Body). now should be the agent's best guess of server time.
func SignRequest(req *http.Request, body []byte, priv ed25519.PrivateKey, now time.Time) {
	ts := now.UnixMilli()
	uri := req.URL.RequestURI()
	sig := ed25519.Sign(priv, SigningString(req.Method, uri, ts, BodyHash(body)))
	req.Header.Set(HeaderKeyID, KeyID(priv.Public().(ed25519.PublicKey)))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
}

// RequestAuth is the parsed auth headers of a request.
type RequestAuth struct {
	KeyID     string
	TsMillis  int64
	Signature []byte
}

// ParseAuth reads the auth headers.
func ParseAuth(h http.Header) (RequestAuth, error) {
	k, ts, sig := h.Get(HeaderKeyID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if k == "" || ts == "" || sig == "" {
		return RequestAuth{}, ErrAuthMissing
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return RequestAuth{}, fmt.Errorf("%w: timestamp", ErrAuthMalformed)
	}
	s, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(s) != ed25519.SignatureSize {
		return RequestAuth{}, fmt.Errorf("%w: signature", ErrAuthMalformed)
	}
	if len(k) != 32 {
		return RequestAuth{}, fmt.Errorf("%w: key id", ErrAuthMalformed)
	}
	return RequestAuth{KeyID: k, TsMillis: n, Signature: s}, nil
}

// Verify checks the signature against pub and the timestamp against now
// and the last accepted timestamp of this key (0 if none). It does not
// record anything: the caller stores a.TsMillis as the new last timestamp
// only if the store's compare-and-set succeeds.
func (a RequestAuth) Verify(pub ed25519.PublicKey, method, requestURI string, body []byte, now time.Time, lastTsMillis int64) error {
	if KeyID(pub) != a.KeyID {
		return fmt.Errorf("%w: key id does not match the key", ErrAuthSignature)
	}
	if !ed25519.Verify(pub, SigningString(method, requestURI, a.TsMillis, BodyHash(body)), a.Signature) {
		return ErrAuthSignature
	}
	d := now.Sub(time.UnixMilli(a.TsMillis))
	if d > ReplayWindow || d < -ReplayWindow {
		return ErrAuthStale
	}
	if a.TsMillis <= lastTsMillis {
		return ErrAuthReplay
	}
	return nil
}
