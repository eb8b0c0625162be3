-- Prefix search on the terminals page uses an index per identifier.
-- +goose Up
CREATE INDEX terminals_terminal_id ON terminals(terminal_id);
CREATE INDEX terminals_device_id ON terminals(device_id);

-- +goose Down
DROP INDEX terminals_device_id;
DROP INDEX terminals_terminal_id;
