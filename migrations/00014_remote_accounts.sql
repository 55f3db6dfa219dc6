-- +goose Up
-- Federation: remote accounts and their content live in the same tables as
-- local ones, as Mastodon's accounts carry a domain. A remote account is a
-- users row with a host and the actor's IRI; a remote Note is a thoughts row
-- with its IRI. Follows, likes, boosts, blocks, mentions, notifications,
-- feeds, search and every visibility rule then apply to them unchanged.
-- remote_actors stays the cache of what was fetched (keys, inboxes).

ALTER TABLE users
    ADD COLUMN host      text, -- NULL: a local account; else lower case, with the port if any
    ADD COLUMN actor_iri text REFERENCES remote_actors (iri) ON UPDATE CASCADE, -- NULL: local
    ADD CONSTRAINT users_remote_check CHECK ((host IS NULL) = (actor_iri IS NULL)),
    -- A remote account has no password, email or key pair of ours.
    ADD CONSTRAINT users_remote_secrets_check CHECK (host IS NULL OR (password_hash = '' AND private_key_pem IS NULL));
-- Remote preferredUsernames are not ours to constrain (Mastodon allows dots
-- and capitals, GoToSocial dashes); local ones keep their rule.
ALTER TABLE users DROP CONSTRAINT users_username_check;
ALTER TABLE users ADD CONSTRAINT users_username_check
    CHECK (host IS NOT NULL OR username ~ '^[a-z0-9_]{1,30}$');
ALTER TABLE users ADD CONSTRAINT users_remote_username_check
    CHECK (host IS NULL OR (length(username) BETWEEN 1 AND 200 AND username !~ '[@[:space:][:cntrl:]]'));
DROP INDEX users_username_key;
CREATE UNIQUE INDEX users_username_key ON users (lower(username)) WHERE host IS NULL;
CREATE UNIQUE INDEX users_actor_iri_key ON users (actor_iri);
CREATE INDEX users_remote_handle_idx ON users (lower(username), host) WHERE host IS NOT NULL;
-- Only local accounts get key pairs.
DROP INDEX users_without_key_idx;
CREATE INDEX users_without_key_idx ON users (id) WHERE public_key_pem IS NULL AND host IS NULL;

ALTER TABLE thoughts
    ADD COLUMN ap_iri          text, -- a remote Note's id; NULL for local thoughts (their IRI derives from id)
    ADD COLUMN url             text, -- a remote Note's url for people, if it has one
    ADD COLUMN content_html    text, -- a remote Note's content, sanitised; content holds its text
    ADD COLUMN in_reply_to_iri text; -- a remote parent's IRI, kept while the parent is not (yet) fetched
CREATE UNIQUE INDEX thoughts_ap_iri_key ON thoughts (ap_iri);
CREATE INDEX thoughts_in_reply_to_iri_idx ON thoughts (in_reply_to_iri) WHERE in_reply_to_iri IS NOT NULL;

-- The ids of the activities behind relationships: a remote follower's Follow
-- (quoted back in Accept/Reject), our Follow of a remote account (matched by
-- its Accept), a remote Like/Announce/Block (matched by its Undo).
ALTER TABLE follows ADD COLUMN activity_iri text;
ALTER TABLE likes   ADD COLUMN activity_iri text;
ALTER TABLE boosts  ADD COLUMN activity_iri text;
ALTER TABLE blocks  ADD COLUMN activity_iri text;
CREATE UNIQUE INDEX follows_activity_iri_key ON follows (activity_iri);
CREATE UNIQUE INDEX likes_activity_iri_key   ON likes (activity_iri);
CREATE UNIQUE INDEX boosts_activity_iri_key  ON boosts (activity_iri);
CREATE UNIQUE INDEX blocks_activity_iri_key  ON blocks (activity_iri);

-- +goose Down
DROP INDEX blocks_activity_iri_key;
DROP INDEX boosts_activity_iri_key;
DROP INDEX likes_activity_iri_key;
DROP INDEX follows_activity_iri_key;
ALTER TABLE blocks  DROP COLUMN activity_iri;
ALTER TABLE boosts  DROP COLUMN activity_iri;
ALTER TABLE likes   DROP COLUMN activity_iri;
ALTER TABLE follows DROP COLUMN activity_iri;
DROP INDEX thoughts_in_reply_to_iri_idx;
DROP INDEX thoughts_ap_iri_key;
ALTER TABLE thoughts DROP COLUMN in_reply_to_iri, DROP COLUMN content_html, DROP COLUMN url, DROP COLUMN ap_iri;
-- Remote accounts (and what hangs off them) cannot exist without these columns.
DELETE FROM thoughts WHERE author_id IN (SELECT id FROM users WHERE host IS NOT NULL);
DELETE FROM users WHERE host IS NOT NULL;
DROP INDEX users_without_key_idx;
CREATE INDEX users_without_key_idx ON users (id) WHERE public_key_pem IS NULL;
DROP INDEX users_remote_handle_idx;
DROP INDEX users_actor_iri_key;
DROP INDEX users_username_key;
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
ALTER TABLE users DROP CONSTRAINT users_remote_username_check;
ALTER TABLE users DROP CONSTRAINT users_username_check;
ALTER TABLE users ADD CONSTRAINT users_username_check CHECK (username ~ '^[a-z0-9_]{1,30}$');
ALTER TABLE users DROP CONSTRAINT users_remote_secrets_check, DROP CONSTRAINT users_remote_check,
    DROP COLUMN actor_iri, DROP COLUMN host;
