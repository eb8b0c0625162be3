-- Agent sessions (proto/session.go): an HMAC key per session, bound to the
-- terminal key that opened it.
-- +goose Up
CREATE TABLE agent_sessions (
    id TEXT PRIMARY KEY,
    terminal_uid TEXT NOT NULL,
    key_id TEXT NOT NULL,
    mac_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX agent_sessions_expires ON agent_sessions(expires_at);

-- +goose Down
DROP TABLE agent_sessions;
