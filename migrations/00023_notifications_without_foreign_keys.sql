-- +goose Up
-- Notifications are a projection of events: every one is written by the
-- notification handler with an INSERT ... SELECT that checks, in the same
-- statement, that its recipient and actor exist and are not deleted and that
-- its thought is live (adapters/postgres/notifications.go), and every list
-- and count shows only rows whose thought is still live (shownTo). Users and
-- thoughts are never deleted outright (accounts and thoughts are tombstoned;
-- account deletion deletes the account's notifications itself), so the
-- foreign keys' ON DELETE CASCADE never fired. What they did cost: three
-- referential-integrity checks per stored notification, each locking the
-- referenced row (FOR KEY SHARE), so concurrent batches of likes of the same
-- popular thought contended on it (multixacts). bench/events measured the
-- NATS pipeline's CPU per event at 1.42× the bare libraries' with them and
-- 1.25–1.31× without, two runs each (bench/README.md).
ALTER TABLE notifications
    DROP CONSTRAINT IF EXISTS notifications_recipient_id_fkey,
    DROP CONSTRAINT IF EXISTS notifications_actor_id_fkey,
    DROP CONSTRAINT IF EXISTS notifications_thought_id_fkey;

-- +goose Down
DELETE FROM notifications n
WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = n.recipient_id)
   OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = n.actor_id)
   OR (n.thought_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM thoughts t WHERE t.id = n.thought_id));
ALTER TABLE notifications
    ADD CONSTRAINT notifications_recipient_id_fkey FOREIGN KEY (recipient_id) REFERENCES users (id) ON DELETE CASCADE,
    ADD CONSTRAINT notifications_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users (id) ON DELETE CASCADE,
    ADD CONSTRAINT notifications_thought_id_fkey FOREIGN KEY (thought_id) REFERENCES thoughts (id) ON DELETE CASCADE;
