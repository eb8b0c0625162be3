-- Opening hours per scope (all terminals, a group, one terminal), and each
-- terminal's effective hours kept on its row (minutes after midnight,
-- China Standard Time), so that "offline within opening hours" is a
-- condition on the row. The default is 08:00-22:00.
-- +goose Up
CREATE TABLE opening_hours (
    scope TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    open_min INTEGER NOT NULL,
    close_min INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, scope_key)
);
ALTER TABLE terminals ADD COLUMN open_min INTEGER NOT NULL DEFAULT 480;
ALTER TABLE terminals ADD COLUMN close_min INTEGER NOT NULL DEFAULT 1320;

-- +goose Down
ALTER TABLE terminals DROP COLUMN close_min;
ALTER TABLE terminals DROP COLUMN open_min;
DROP TABLE opening_hours;
