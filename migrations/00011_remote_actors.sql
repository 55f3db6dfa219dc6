-- +goose Up
-- Remote ActivityPub actors, as last fetched (signed, by the instance actor):
-- what delivery needs (inboxes), what verifying their signatures needs (key),
-- and what shows them. summary is the remote HTML as received: sanitise it
-- before showing it. Refreshed when older than a day (app/command
-- ResolveRemoteActor) or when a signature stops verifying.
CREATE TABLE remote_actors (
    iri             text PRIMARY KEY,   -- the actor's id
    host            text NOT NULL,      -- lower case, with the port if any
    username        text NOT NULL,      -- preferredUsername
    actor_type      text NOT NULL,      -- Person, Service, Group…
    display_name    text NOT NULL DEFAULT '',
    summary         text NOT NULL DEFAULT '',
    url             text NOT NULL DEFAULT '',
    inbox           text NOT NULL,
    shared_inbox    text NOT NULL DEFAULT '',
    outbox          text NOT NULL DEFAULT '',
    followers       text NOT NULL DEFAULT '',
    following       text NOT NULL DEFAULT '',
    locked          boolean NOT NULL DEFAULT false,
    key_id          text NOT NULL,
    public_key_pem  text NOT NULL,
    fetched_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX remote_actors_key_id_key ON remote_actors (key_id);
CREATE INDEX remote_actors_handle_idx ON remote_actors (lower(username), host);

-- +goose Down
DROP TABLE remote_actors;
