-- +goose Up
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL CHECK (username ~ '^[a-z0-9_]{1,30}$'),
    email         text NOT NULL,
    password_hash text NOT NULL,
    display_name  text NOT NULL DEFAULT '',
    bio           text NOT NULL DEFAULT '',
    locked        boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
-- Uniqueness is case-insensitive for both.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE thoughts (
    id                    uuid PRIMARY KEY, -- UUIDv7: time-ordered, used as the keyset cursor
    author_id             uuid NOT NULL REFERENCES users (id),
    content               text NOT NULL,
    content_warning       text NOT NULL DEFAULT '',
    sensitive             boolean NOT NULL DEFAULT false,
    visibility            text NOT NULL CHECK (visibility IN ('public', 'unlisted', 'followers')),
    in_reply_to_id        uuid REFERENCES thoughts (id),
    in_reply_to_author_id uuid REFERENCES users (id),
    created_at            timestamptz NOT NULL,
    edited_at             timestamptz,
    deleted_at            timestamptz, -- set on a tombstone; content is then empty
    CHECK ((in_reply_to_id IS NULL) = (in_reply_to_author_id IS NULL))
);
CREATE INDEX thoughts_author_idx ON thoughts (author_id, id DESC);
CREATE INDEX thoughts_replies_idx ON thoughts (in_reply_to_id, id) WHERE in_reply_to_id IS NOT NULL;

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    secret_hash  bytea NOT NULL, -- SHA-256 of the secret; the secret itself is never stored
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, id DESC);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE thoughts;
DROP TABLE users;
