-- +goose Up
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    pw_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'zh',
    expires_at INTEGER NOT NULL
);
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lkey TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(lkey, at);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE enrollment_codes (
    code_hash TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    used_at INTEGER,
    used_by TEXT
);
CREATE TABLE terminals (
    uid TEXT PRIMARY KEY,
    mch_id TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    terminal_sn TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    key_id TEXT NOT NULL UNIQUE,
    pubkey BLOB NOT NULL,
    app_version TEXT NOT NULL DEFAULT '',
    os TEXT NOT NULL DEFAULT '',
    group_name TEXT NOT NULL DEFAULT '',
    enrolled_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL DEFAULT 0,
    offline_after INTEGER NOT NULL DEFAULT 0,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_ts_ms INTEGER NOT NULL DEFAULT 0,
    interval_sec INTEGER NOT NULL DEFAULT 60,
    disabled INTEGER NOT NULL DEFAULT 0,
    unresolved_orders INTEGER NOT NULL DEFAULT 0,
    config_applied INTEGER NOT NULL DEFAULT 0,
    pin_version TEXT NOT NULL DEFAULT '',
    alerts TEXT NOT NULL DEFAULT '',
    scanner_model TEXT NOT NULL DEFAULT '',
    scanner_serial TEXT NOT NULL DEFAULT '',
    state_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX terminals_identity ON terminals(mch_id, terminal_id, uid);
CREATE INDEX terminals_offline_after ON terminals(offline_after);
CREATE INDEX terminals_sn ON terminals(terminal_sn);
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_uid TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    raised_at INTEGER NOT NULL,
    cleared_at INTEGER
);
CREATE INDEX alerts_terminal ON alerts(terminal_uid, raised_at);
CREATE INDEX alerts_open ON alerts(cleared_at, raised_at);
CREATE TABLE hourly (
    terminal_uid TEXT NOT NULL,
    hour INTEGER NOT NULL,
    reports INTEGER NOT NULL DEFAULT 0,
    paid_count INTEGER NOT NULL DEFAULT 0,
    paid_fen INTEGER NOT NULL DEFAULT 0,
    failed_count INTEGER NOT NULL DEFAULT 0,
    unknown_count INTEGER NOT NULL DEFAULT 0,
    error_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal_uid, hour)
);
CREATE INDEX hourly_hour ON hourly(hour);
CREATE TABLE devices (
    serial TEXT PRIMARY KEY,
    model TEXT NOT NULL DEFAULT '',
    vid_pid TEXT NOT NULL DEFAULT '',
    terminal_uid TEXT NOT NULL DEFAULT '',
    mch_id TEXT NOT NULL DEFAULT '',
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    moves INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE configs (
    scope TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    settings_json TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, scope_key)
);
CREATE TABLE config_seq (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL);
CREATE TABLE log_requests (
    id TEXT PRIMARY KEY,
    terminal_uid TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    uploaded_at INTEGER,
    size INTEGER NOT NULL DEFAULT 0,
    bundle BLOB
);
CREATE INDEX log_requests_terminal ON log_requests(terminal_uid, requested_at);
CREATE TABLE releases (
    version TEXT PRIMARY KEY,
    manifest_json TEXT NOT NULL,
    msi BLOB NOT NULL,
    cohort INTEGER NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    published_by TEXT NOT NULL,
    published_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE releases; DROP TABLE log_requests; DROP TABLE config_seq; DROP TABLE configs;
DROP TABLE devices; DROP TABLE hourly; DROP TABLE alerts; DROP TABLE terminals;
DROP TABLE enrollment_codes; DROP TABLE audit; DROP TABLE login_failures;
DROP TABLE sessions; DROP TABLE api_tokens; DROP TABLE users;
