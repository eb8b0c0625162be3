package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AgentSession is an open agent session (see fleet/proto/session.go).
type AgentSession struct {
	ID, UID, KeyID string
	Key            []byte // the HMAC key
	ExpiresAt      time.Time
}

// CreateAgentSession stores a session opened by the terminal key keyID (the
// caller authenticated the request with it) and drops expired ones.
func (s *Store) CreateAgentSession(ctx context.Context, sess AgentSession, now time.Time) error {
	err := s.tx(ctx, func(t *txn) error {
		if _, err := t.exec(ctx, `DELETE FROM agent_sessions WHERE expires_at < ?`, unix(now)); err != nil {
			return err
		}
		_, err := t.exec(ctx, `INSERT INTO agent_sessions(id, terminal_uid, key_id, mac_key, created_at, expires_at) VALUES(?,?,?,?,?,?)`,
			sess.ID, sess.UID, sess.KeyID, sess.Key, unix(now), sess.ExpiresAt.Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: session: %w", err)
	}
	return nil
}

// AgentSessionByID looks a session up (expired or not: the caller checks).
func (s *Store) AgentSessionByID(ctx context.Context, id string) (AgentSession, error) {
	var a AgentSession
	var exp int64
	err := s.queryRow(ctx, `SELECT id, terminal_uid, key_id, mac_key, expires_at FROM agent_sessions WHERE id=?`, id).Scan(&a.ID, &a.UID, &a.KeyID, &a.Key, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return AgentSession{}, ErrNotFound
	}
	if err != nil {
		return AgentSession{}, fmt.Errorf("store: session: %w", err)
	}
	a.ExpiresAt = time.Unix(exp, 0)
	return a, nil
}
