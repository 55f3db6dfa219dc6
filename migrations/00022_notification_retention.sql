-- +goose NO TRANSACTION
-- +goose Up
-- Retention of notifications (service/retention.go): read ones are deleted
-- NOTIFICATIONS_READ_RETENTION after they were stored, every one after
-- NOTIFICATIONS_RETENTION. A notification's id is a UUIDv7 drawn when the row
-- is stored, so "stored before T" is a range of the id: the unread horizon
-- uses the existing unique index on id, and this partial index (of read rows
-- only: nothing is added to it when a notification is stored) serves the read
-- horizon without walking the unread rows in between on every pass. Built
-- concurrently: writers are not held up on a large table.
CREATE INDEX CONCURRENTLY IF NOT EXISTS notifications_read_id_idx ON notifications (id) WHERE read_at IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS notifications_read_id_idx;
