package banksim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// ListenAndServe runs a simulator with opts on addr (default
// "127.0.0.1:0"), which must be a loopback address, until ctx is done. ready,
// if not nil, is called with the API base URL (e.g.
// "http://127.0.0.1:PORT/device/v1") once listening. It returns nil after
// ctx ends and the server has shut down.
func ListenAndServe(ctx context.Context, addr string, opts Options, ready func(baseURL string)) error {
	return New(opts).ListenAndServe(ctx, addr, ready)
}

// ListenAndServe is the package function for a Sim the caller keeps (to
// set behaviours, pay precreated orders or read the ledger in-process).
func (s *Sim) ListenAndServe(ctx context.Context, addr string, ready func(baseURL string)) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("banksim: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%w, not %q", errNotLoopback, host)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("banksim: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready("http://" + ln.Addr().String() + s.opts.BasePath)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("banksim: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("banksim: %w", err)
	}
	return nil
}

// FetchLedger reads GET /_sim/ledger from a simulator in another process.
// baseURL is the API base URL (ending in the base path) or the server root.
func FetchLedger(ctx context.Context, baseURL string) (*LedgerReport, error) {
	root := strings.TrimSuffix(strings.TrimRight(baseURL, "/"), DefaultBasePath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, root+"/_sim/ledger", nil)
	if err != nil {
		return nil, fmt.Errorf("banksim: ledger: %w", err)
	}
	if !isLoopbackURL(req) {
		return nil, errNotLoopback
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("banksim: ledger: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("banksim: ledger: HTTP %d", resp.StatusCode)
	}
	var rep LedgerReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return nil, fmt.Errorf("banksim: ledger: %w", err)
	}
	return &rep, nil
}

func isLoopbackURL(r *http.Request) bool {
	h := r.URL.Hostname()
	ip := net.ParseIP(h)
	return strings.EqualFold(h, "localhost") || ip != nil && ip.IsLoopback()
}
