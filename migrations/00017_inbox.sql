-- +goose Up
-- The inbox: every activity a remote server delivered with a valid signature,
-- stored in the transaction that publishes its ActivityReceived event, so
-- the router handler that applies it has it for as long as it takes
-- (retries, the poison queue and a requeue included). Once applied, the raw
-- document is dropped and the row stays as the record that the activity id
-- was processed: a redelivered activity is recognised and applied once.
CREATE TABLE inbox_activities (
    id            uuid PRIMARY KEY,          -- UUIDv7; ActivityReceived names it
    activity_iri  text NOT NULL,             -- the activity's id
    activity_type text NOT NULL,
    actor_id      uuid NOT NULL REFERENCES users (id), -- the remote account that signed it
    key_id        text NOT NULL,             -- the key it was signed with
    raw           bytea,                     -- the document as received; NULL once processed
    received_at   timestamptz NOT NULL,
    processed_at  timestamptz,
    outcome       text,                      -- applied, ignored: …, rejected: …
    CHECK ((processed_at IS NULL) = (outcome IS NULL)),
    CHECK (processed_at IS NOT NULL OR raw IS NOT NULL)
);
CREATE UNIQUE INDEX inbox_activities_iri_key ON inbox_activities (activity_iri);
-- What operators look for: activities waiting (or poisoned) unprocessed.
CREATE INDEX inbox_activities_pending_idx ON inbox_activities (received_at) WHERE processed_at IS NULL;

-- +goose Down
DROP TABLE inbox_activities;
