-- +goose Up
-- thought_stats.replies_count now counts the live replies anyone may see:
-- public and unlisted ones. Followers-only replies are counted at read time,
-- for the viewers allowed to see them (adapters/postgres viewColumns), so an
-- anonymous viewer is never told that a reply it cannot see exists.
-- Visibility is fixed at creation, so only inserts, deletions and tombstoning
-- change the count.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION replies_count_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.in_reply_to_id IS NOT NULL AND NEW.deleted_at IS NULL AND NEW.visibility <> 'followers' THEN
            PERFORM thought_stats_add(NEW.in_reply_to_id, 1, 0, 0);
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.in_reply_to_id IS NOT NULL AND NEW.visibility <> 'followers'
            AND (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
            PERFORM thought_stats_add(NEW.in_reply_to_id, CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END, 0, 0);
        END IF;
    ELSIF OLD.in_reply_to_id IS NOT NULL AND OLD.deleted_at IS NULL AND OLD.visibility <> 'followers' THEN
        PERFORM thought_stats_add(OLD.in_reply_to_id, -1, 0, 0);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

UPDATE thought_stats s SET replies_count = (SELECT count(*) FROM thoughts r
    WHERE r.in_reply_to_id = s.thought_id AND r.deleted_at IS NULL AND r.visibility <> 'followers');

-- The read-time part: a thought's live followers-only replies (usually none,
-- so the probe made for every thought shown is one index page).
CREATE INDEX thoughts_followers_replies_idx ON thoughts (in_reply_to_id, author_id)
    WHERE visibility = 'followers' AND deleted_at IS NULL;

-- +goose Down
DROP INDEX thoughts_followers_replies_idx;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION replies_count_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.in_reply_to_id IS NOT NULL AND NEW.deleted_at IS NULL THEN
            PERFORM thought_stats_add(NEW.in_reply_to_id, 1, 0, 0);
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.in_reply_to_id IS NOT NULL AND (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
            PERFORM thought_stats_add(NEW.in_reply_to_id, CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END, 0, 0);
        END IF;
    ELSIF OLD.in_reply_to_id IS NOT NULL AND OLD.deleted_at IS NULL THEN
        PERFORM thought_stats_add(OLD.in_reply_to_id, -1, 0, 0);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
INSERT INTO thought_stats AS s (thought_id, replies_count)
SELECT in_reply_to_id, count(*) FROM thoughts
WHERE in_reply_to_id IS NOT NULL AND deleted_at IS NULL
GROUP BY in_reply_to_id
ON CONFLICT (thought_id) DO UPDATE SET replies_count = EXCLUDED.replies_count;
