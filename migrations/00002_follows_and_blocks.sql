-- +goose Up
-- The social graph's core relations. The visibility rule (adapters/postgres
-- visibleTo) reads both, so they exist from the start.
CREATE TABLE follows (
    follower_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    following_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id           uuid NOT NULL UNIQUE, -- UUIDv7, the keyset cursor of follower/following lists
    state        text NOT NULL CHECK (state IN ('pending', 'accepted')),
    created_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    PRIMARY KEY (follower_id, following_id),
    CHECK (follower_id <> following_id)
);
CREATE INDEX follows_following_idx ON follows (following_id, state, id DESC);
CREATE INDEX follows_follower_idx ON follows (follower_id, state, id DESC);

CREATE TABLE blocks (
    blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id         uuid NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id, blocker_id);

-- +goose Down
DROP TABLE blocks;
DROP TABLE follows;
