-- +goose Up
-- Sign-in sessions (issue 9). Every access token names its session (the JWT's
-- "sid"); a request is accepted only while the session is live, so signing
-- out, revoking a session, changing the password or deleting the account end
-- a token before it expires. Only a coarse trace of the client is kept: its
-- user agent and its address cut to a /24 (IPv4) or /48 (IPv6).
CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL, -- updated at most once a minute
    user_agent   text NOT NULL DEFAULT '',
    ip_prefix    text NOT NULL DEFAULT '',
    revoked_at   timestamptz
);
-- The caller's live sessions, newest first.
CREATE INDEX sessions_user_live_idx ON sessions (user_id, id DESC) WHERE revoked_at IS NULL;

-- A deleted account keeps its row, scrubbed, so that its username stays
-- reserved and its tombstones keep their author.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;

-- +goose Down
ALTER TABLE users DROP COLUMN deleted_at;
DROP TABLE sessions;
