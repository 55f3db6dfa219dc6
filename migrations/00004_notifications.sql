-- +goose Up
-- Notifications. Events are delivered at least once, so a notification's
-- identity is the event that caused it, its type and its recipient: the primary
-- key. The handler inserts with ON CONFLICT DO NOTHING, so a redelivered event
-- (even handled concurrently) adds nothing.
CREATE TABLE notifications (
    event_id       uuid NOT NULL,
    type           text NOT NULL CHECK (type IN ('like', 'boost', 'follow_request', 'follow', 'reply', 'mention')),
    recipient_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- UUIDv7 drawn when the row is stored: the public ID and the keyset cursor,
    -- so lists run newest-stored first and a backlog drained late still shows
    -- up to a client polling with since_id/min_id.
    id             uuid NOT NULL UNIQUE,
    actor_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thought_id     uuid REFERENCES thoughts (id) ON DELETE CASCADE,
    correlation_id text NOT NULL DEFAULT '', -- of the request that caused the event
    created_at     timestamptz NOT NULL,     -- when the event happened
    read_at        timestamptz,
    PRIMARY KEY (event_id, type, recipient_id),
    CHECK (actor_id <> recipient_id)
);
CREATE INDEX notifications_recipient_idx ON notifications (recipient_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (recipient_id, id DESC) WHERE read_at IS NULL;
CREATE INDEX notifications_thought_idx ON notifications (thought_id) WHERE thought_id IS NOT NULL;

-- +goose Down
DROP TABLE notifications;
