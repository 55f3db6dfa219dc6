-- +goose Up
-- Outbound federation (router handler "federation" and the delivery worker).
--
-- outbound_activities: each activity a local actor sent, one per domain event
-- that made one (event_id is the idempotency key of the handler: a
-- redelivered event inserts nothing, so it delivers nothing twice). Kept so an
-- Undo or a Delete reaches exactly whom the original reached, and so a
-- follow's Accept/Reject can quote the remote Follow (kind 'received': an
-- activity of a remote actor we only remember, with no deliveries).
CREATE TABLE outbound_activities (
    event_id       uuid PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('sent', 'received')),
    activity_iri   text NOT NULL,
    activity_type  text NOT NULL,
    actor_id       uuid NOT NULL,         -- users.id of the actor (local for 'sent')
    target_user_id uuid,                  -- the account a Follow/Block/Like… is about
    object_iri     text NOT NULL DEFAULT '',
    thought_id     uuid,                  -- the local thought a Create/Update/Delete/Announce/Like concerns
    payload        bytea,                 -- the exact JSON sent (NULL for 'received')
    occurred_at    timestamptz NOT NULL,  -- the event's time
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbound_activities_lookup_idx ON outbound_activities (actor_id, activity_type, target_user_id, occurred_at);
CREATE INDEX outbound_activities_object_idx ON outbound_activities (actor_id, activity_type, object_iri, occurred_at);
CREATE INDEX outbound_activities_thought_idx ON outbound_activities (thought_id) WHERE thought_id IS NOT NULL;

-- deliveries: one POST of an activity to one inbox, kept until done and after
-- (the author's per-thought view, the operator's per-host view). (activity,
-- inbox) is unique: the same activity never goes twice to one inbox.
CREATE TABLE deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid NOT NULL REFERENCES outbound_activities (event_id) ON DELETE CASCADE,
    inbox           text NOT NULL,
    host            text NOT NULL,            -- lower case, with the port if any
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    leased_until    timestamptz,              -- a worker is posting it until then
    last_attempt_at timestamptz,
    last_status     integer,                  -- HTTP status of the last attempt (NULL: no answer)
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    done_at         timestamptz,
    UNIQUE (event_id, inbox)
);
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_host_pending_idx ON deliveries (host) WHERE state = 'pending';

-- federation_hosts: what delivery knows of each remote host. state:
--   available   deliveries flow (the breaker may still hold them until open_until);
--   unavailable it failed on unavailable_days separate days without a success:
--               nothing is sent until it sends us a valid signed request or an
--               operator clears it.
CREATE TABLE federation_hosts (
    host                 text PRIMARY KEY,
    state                text NOT NULL DEFAULT 'available' CHECK (state IN ('available', 'unavailable')),
    consecutive_failures integer NOT NULL DEFAULT 0,
    failure_days         integer NOT NULL DEFAULT 0,  -- separate days with failures since the last success
    last_failure_day     date,
    open_until           timestamptz,                 -- breaker open (or Retry-After) until then
    last_success_at      timestamptz,
    last_failure_at      timestamptz,
    last_status          integer,
    last_error           text NOT NULL DEFAULT '',
    unavailable_since    timestamptz
);

-- +goose Down
DROP TABLE federation_hosts;
DROP TABLE deliveries;
DROP TABLE outbound_activities;
