// Package sim is a simulated terminal speaking the agent protocol
// (fleet/proto): enrollment, signed heartbeats, log uploads and release
// downloads. The load generator and the server's tests use it; it is not
// the plug-in's agent and holds nothing it must protect (throw-away keys).
package sim

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/scanbox/scanbox/fleet/proto"
)

// Terminal is one simulated installation.
type Terminal struct {
	URL      string
	Client   *http.Client
	Identity proto.Identity
	Version  string
	Priv     ed25519.PrivateKey
	UID      string

	// SessionID and SessionKey, when set (OpenSession), authenticate
	// requests with the session's MAC instead of a signature.
	SessionID  string
	SessionKey []byte

	mu     sync.Mutex
	seq    uint64
	offset time.Duration // server clock minus local clock
	lastTs int64
}

// New makes a terminal with a fresh key.
func New(url string, c *http.Client, id proto.Identity, version string) *Terminal {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	if c == nil {
		c = http.DefaultClient
	}
	// Sequence numbers start from the clock so that a terminal reloaded by
	// a later run (loadgen --state) keeps numbering upwards, as the real
	// agent does with its persisted counter.
	return &Terminal{URL: url, Client: c, Identity: id, Version: version, Priv: priv, seq: uint64(time.Now().UnixMicro())}
}

// now is the agent's best guess of server time, strictly increasing in
// milliseconds so that two quick requests never share a timestamp.
func (t *Terminal) now() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	ms := time.Now().Add(t.offset).UnixMilli()
	if ms <= t.lastTs {
		ms = t.lastTs + 1
	}
	t.lastTs = ms
	return time.UnixMilli(ms)
}

// HTTPError is a non-2xx answer.
type HTTPError struct {
	Code int
	Body string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("sim: HTTP %d: %s", e.Code, e.Body) }

// Do sends a signed request and decodes a JSON answer into out (if not nil).
func (t *Terminal) Do(ctx context.Context, method, path string, body []byte, out any) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if t.SessionID != "" {
		proto.MACRequest(req, body, t.SessionID, t.SessionKey, t.now())
	} else {
		proto.SignRequest(req, body, t.Priv, t.now())
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if st := resp.Header.Get(proto.HeaderServerTime); st != "" {
		if ms, err := strconv.ParseInt(st, 10, 64); err == nil {
			t.mu.Lock()
			t.offset = time.Until(time.UnixMilli(ms)) // rough: ignores the round trip
			t.mu.Unlock()
		}
	}
	if resp.StatusCode/100 != 2 {
		return data, &HTTPError{resp.StatusCode, string(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return data, fmt.Errorf("sim: decoding: %w", err)
		}
	}
	return data, nil
}

// Enroll joins the fleet with a code.
func (t *Terminal) Enroll(ctx context.Context, code string) (proto.EnrollResponse, error) {
	body, _ := json.Marshal(proto.EnrollRequest{
		Code: code, PublicKey: t.Priv.Public().(ed25519.PublicKey), Identity: t.Identity,
		AppVersion: t.Version, OS: "Windows 10 22H2 (simulated)",
	})
	var r proto.EnrollResponse
	_, err := t.Do(ctx, http.MethodPost, proto.PathEnroll, body, &r)
	if err == nil {
		t.UID = r.TerminalUID
	}
	return r, err
}

// OpenSession opens an agent session (a request signed with the terminal
// key); later requests are MACed with the session key.
func (t *Terminal) OpenSession(ctx context.Context) (proto.SessionResponse, error) {
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return proto.SessionResponse{}, err
	}
	body, _ := json.Marshal(proto.SessionRequest{X25519: eph.PublicKey().Bytes()})
	t.SessionID = ""
	var r proto.SessionResponse
	if _, err := t.Do(ctx, http.MethodPost, proto.PathSession, body, &r); err != nil {
		return r, err
	}
	key, err := proto.AgentSessionKey(eph, r, proto.KeyID(t.Priv.Public().(ed25519.PublicKey)))
	if err != nil {
		return r, err
	}
	t.SessionID, t.SessionKey = r.SessionID, key
	return r, nil
}

// NextSeq numbers the next report.
func (t *Terminal) NextSeq() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	return t.seq
}

// Report builds a healthy heartbeat with the given payments.
func (t *Terminal) Report(payments []proto.PaymentCount) proto.Heartbeat {
	now := time.Now()
	off := int64(120)
	return proto.Heartbeat{
		Seq: t.NextSeq(), At: now, Identity: t.Identity, AppVersion: t.Version, OS: "Windows 10 22H2 (simulated)",
		UptimeSec: 3600, ClockOffsetMs: off, ClockOffsetKnown: true, DiskFreeBytes: 20 << 30,
		AmountSources: []proto.AmountSourceState{{Name: "ocr", State: proto.StateOK}},
		Scanner:       proto.ScannerState{State: proto.StateOK, Mode: "serial", Port: "COM3"},
		OCR:           proto.ComponentState{State: proto.StateOK},
		Voice:         proto.VoiceState{State: proto.StateOK, Device: "Speakers"},
		Payments:      payments,
		Update:        proto.UpdateStatus{Current: t.Version},
	}
}

// Heartbeat sends a report.
func (t *Terminal) Heartbeat(ctx context.Context, hb proto.Heartbeat) (proto.HeartbeatResponse, error) {
	body, err := json.Marshal(hb)
	if err != nil {
		return proto.HeartbeatResponse{}, err
	}
	var r proto.HeartbeatResponse
	_, err = t.Do(ctx, http.MethodPost, proto.PathHeartbeat, body, &r)
	return r, err
}
