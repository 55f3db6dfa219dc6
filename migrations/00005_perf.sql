-- +goose Up
-- Covering indexes for the home feed's window plan (adapters/postgres/feed.go),
-- which reads the newest thoughts and boosts overall, newest first, and keeps
-- those of the viewer's sources. With the author / booster in the index the
-- scan no longer visits the heap for every row it passes over: measured on
-- 1,000,000 thoughts and 100,000 boosts, the boosts window went from ~430
-- buffers (one heap page per boost read) to ~50, and a feed page from ~1.3 to
-- ~0.8 ms.
CREATE INDEX thoughts_live_window_idx ON thoughts (id) INCLUDE (author_id) WHERE deleted_at IS NULL;
CREATE INDEX boosts_window_idx ON boosts (id) INCLUDE (user_id, thought_id);

-- +goose Down
DROP INDEX boosts_window_idx;
DROP INDEX thoughts_live_window_idx;
