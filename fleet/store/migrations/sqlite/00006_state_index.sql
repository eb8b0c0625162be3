-- The terminals page's state filters (online, offline, with alerts,
-- disabled) and their counts read this index alone, not the rows (which
-- carry the latest report). It replaces the index on offline_after, which
-- every heartbeat rewrote as well.
-- +goose Up
DROP INDEX terminals_offline_after;
CREATE INDEX terminals_state ON terminals(disabled, offline_after, open_min, close_min, alerts);

-- +goose Down
DROP INDEX terminals_state;
CREATE INDEX terminals_offline_after ON terminals(offline_after);
