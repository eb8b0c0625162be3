package agent

import (
	"bytes"
	"context"
	"crypto/ed25519"
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

// send performs one signed request and returns the answer's body. A 401 is
// retried once after learning the server's clock (an agent with a wrong
// clock corrects itself instead of being locked out).
func (a *Agent) send(ctx context.Context, base, method, path string, body []byte, key ed25519.PrivateKey, max int64) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
		switch {
		case strings.HasPrefix(path, proto.PathLogUpload+"/"):
			req.Header.Set("Content-Type", "application/zip")
		case body != nil:
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("User-Agent", "scanbox-agent/"+a.ver)
		ts := a.stampMs()
		proto.SignRequest(req, body, key, time.UnixMilli(ts))
		resp, err := a.hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
		}
		a.learnServerTime(resp.Header)
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, max+1))
		resp.Body.Close()
		if resp.StatusCode < 300 {
			a.accepted(ts)
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			a.rewind()
			continue
		case resp.StatusCode == http.StatusUnauthorized:
			return nil, ErrAuthRefused
		case resp.StatusCode == http.StatusForbidden:
			return nil, fmt.Errorf("%w: %s", errForbidden, answerText(data))
		case resp.StatusCode == http.StatusNotFound:
			return nil, fmt.Errorf("%w: %s", errNotFound, answerText(data))
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			return nil, fmt.Errorf("%w: HTTP %d", ErrUnreachable, resp.StatusCode)
		case resp.StatusCode >= 300:
			return nil, fmt.Errorf("%w: HTTP %d: %s", ErrServer, resp.StatusCode, answerText(data))
		}
		if rerr != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnreachable, rerr)
		}
		if int64(len(data)) > max {
			return nil, fmt.Errorf("%w: answer too large", ErrServer)
		}
		return data, nil
	}
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
