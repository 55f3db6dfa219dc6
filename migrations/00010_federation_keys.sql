-- +goose Up
-- ActivityPub keys. Every local user signs the requests sent on their behalf
-- with an RSA-2048 key; the public half is published in their actor document.
-- The pairs are generated in Go (adapters/federation), not here: existing users
-- get theirs from the start-up backfill or on first use (app/command
-- EnsureUserKey), so the columns are nullable, both set or both empty.
-- Private keys are stored as PEM (PKCS#8) in the database, like Mastodon and
-- GoToSocial do: anyone who can read this table can sign as these users; see
-- README "Federation keys" for why and what protects them.
ALTER TABLE users
    ADD COLUMN public_key_pem  text,
    ADD COLUMN private_key_pem text,
    ADD CONSTRAINT users_key_pair_check CHECK ((public_key_pem IS NULL) = (private_key_pem IS NULL));
-- The backfill looks for users still without a key.
CREATE INDEX users_without_key_idx ON users (id) WHERE public_key_pem IS NULL;

-- The instance actor (an Application at PUBLIC_URL/actor) signs requests made
-- for no user in particular, such as fetching a remote actor. One row only.
CREATE TABLE instance_actor (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    public_key_pem  text NOT NULL,
    private_key_pem text NOT NULL,
    created_at      timestamptz NOT NULL
);

-- +goose Down
DROP TABLE instance_actor;
DROP INDEX users_without_key_idx;
ALTER TABLE users DROP CONSTRAINT users_key_pair_check, DROP COLUMN private_key_pem, DROP COLUMN public_key_pem;
