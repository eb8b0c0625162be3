package posapi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/scanbox/scanbox/config"
	"github.com/scanbox/scanbox/core"
)

// Enable turns the API on in c's configuration with a fresh token (the old
// one stops working) and returns the token; the owning instance's Manager
// starts listening. port 0 keeps the configured one (or DefaultPort).
func Enable(c *core.Core, port int) (string, error) {
	tok, err := NewToken(c.Dir())
	if err != nil {
		return "", err
	}
	cfg := c.Config()
	cfg.POSAPI.Enabled = true
	if port > 0 {
		cfg.POSAPI.Port = port
	}
	if err := c.SetConfig(cfg); err != nil {
		return "", err
	}
	return tok, nil
}

// Disable turns the API off and deletes the token.
func Disable(c *core.Core) error {
	cfg := c.Config()
	cfg.POSAPI.Enabled = false
	if err := c.SetConfig(cfg); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(c.Dir(), TokenFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Manager keeps the POS API running as the owner's configuration says,
// restarting it when the port, the origins or the token change. A failure
// (port taken) disables the API only: it is logged and kept for Status.
type Manager struct {
	c *core.Core

	mu     sync.Mutex
	srv    *Server
	cur    config.POSAPIConfig
	tok    string
	err    error
	closed bool
	unsub  func()
}

// NewManager applies c's configuration now and on every change.
func NewManager(c *core.Core) *Manager {
	m := &Manager{c: c}
	m.Apply()
	m.unsub = c.OnChange(func(struct{}) { go m.Apply() })
	return m
}

// Addr is where the API listens ("" when off).
func (m *Manager) Addr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv == nil {
		return ""
	}
	return m.srv.Addr().String()
}

// Err is why the API is not running although enabled.
func (m *Manager) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Apply brings the server in line with the configuration.
func (m *Manager) Apply() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	want := m.c.Config().POSAPI
	tok := ""
	if want.Enabled {
		t, err := ReadToken(m.c.Dir())
		if err != nil {
			m.stopLocked()
			m.err = err
			m.c.Log().Warn("POS API enabled but not started", "err", err)
			return
		}
		tok = t
	}
	if m.srv != nil && want == m.cur && tok == m.tok {
		return
	}
	m.stopLocked()
	m.cur, m.tok, m.err = want, tok, nil
	if !want.Enabled {
		return
	}
	srv, err := Start(NewHandler(m.c, tok, want.AllowOrigins), want.Port)
	if err != nil {
		m.err = err
		m.c.Log().Warn("POS API not started", "err", err)
		return
	}
	m.srv = srv
	m.c.Log().Info("POS API listening", "addr", srv.Addr().String())
}

func (m *Manager) stopLocked() {
	if m.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m.srv.Shutdown(ctx)
	m.srv = nil
}

// Close stops the API, waiting up to ctx for long polls in progress.
func (m *Manager) Close(ctx context.Context) {
	if m.unsub != nil {
		m.unsub()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	if m.srv != nil {
		m.srv.Shutdown(ctx)
		m.srv = nil
	}
}
