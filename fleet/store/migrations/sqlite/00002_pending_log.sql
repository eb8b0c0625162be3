-- The oldest unanswered log request of a terminal, on its row, so that a
-- heartbeat learns of it without another query.
-- +goose Up
ALTER TABLE terminals ADD COLUMN pending_log TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE terminals DROP COLUMN pending_log;
