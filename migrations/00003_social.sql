-- +goose Up
-- Interactions, the rest of the social graph, hashtags, mentions and search.

-- One like / boost per (user, thought). id is a UUIDv7: the keyset cursor of
-- the "liked by" / "boosted by" lists and, for boosts, of the home feed.
CREATE TABLE likes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thought_id uuid NOT NULL REFERENCES thoughts (id) ON DELETE CASCADE,
    id         uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, thought_id)
);
CREATE INDEX likes_thought_idx ON likes (thought_id, id DESC);

-- The primary key on id lets the home feed read the newest boosts overall.
CREATE TABLE boosts (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thought_id uuid NOT NULL REFERENCES thoughts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    UNIQUE (user_id, thought_id)
);
-- user_id is included so the feed's "was this thought boosted again later by
-- someone I follow?" check is an index-only scan.
CREATE INDEX boosts_thought_idx ON boosts (thought_id, id DESC) INCLUDE (user_id);
-- The feed reads each followed account's newest boosts.
CREATE INDEX boosts_user_idx ON boosts (user_id, id DESC);

-- Counters shown on every thought, kept in a narrow side table rather than on
-- thoughts: a like then rewrites a ~50-byte row instead of the wide thoughts
-- row (content, search vector) and none of the thoughts indexes. A thought
-- nobody has liked, boosted or answered has no row (read as zeros).
CREATE TABLE thought_stats (
    thought_id    uuid PRIMARY KEY REFERENCES thoughts (id) ON DELETE CASCADE,
    replies_count integer NOT NULL DEFAULT 0, -- live (not deleted) replies
    likes_count   integer NOT NULL DEFAULT 0,
    boosts_count  integer NOT NULL DEFAULT 0
);

-- The counters are maintained by triggers, in the transaction of the change,
-- so every writer (API commands, federation, cascades) keeps them exact.
-- +goose StatementBegin
CREATE FUNCTION thought_stats_add(tid uuid, d_replies integer, d_likes integer, d_boosts integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF d_replies > 0 OR d_likes > 0 OR d_boosts > 0 THEN
        INSERT INTO thought_stats AS s (thought_id, replies_count, likes_count, boosts_count)
        VALUES (tid, d_replies, d_likes, d_boosts)
        ON CONFLICT (thought_id) DO UPDATE SET
            replies_count = s.replies_count + d_replies,
            likes_count   = s.likes_count + d_likes,
            boosts_count  = s.boosts_count + d_boosts;
    ELSE
        -- A decrement never creates a row (the thought may be going away).
        UPDATE thought_stats SET
            replies_count = replies_count + d_replies,
            likes_count   = likes_count + d_likes,
            boosts_count  = boosts_count + d_boosts
        WHERE thought_id = tid;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION likes_count_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM thought_stats_add(NEW.thought_id, 0, 1, 0);
    ELSE
        PERFORM thought_stats_add(OLD.thought_id, 0, -1, 0);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER likes_count AFTER INSERT OR DELETE ON likes
    FOR EACH ROW EXECUTE FUNCTION likes_count_trg();

-- +goose StatementBegin
CREATE FUNCTION boosts_count_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM thought_stats_add(NEW.thought_id, 0, 0, 1);
    ELSE
        PERFORM thought_stats_add(OLD.thought_id, 0, 0, -1);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER boosts_count AFTER INSERT OR DELETE ON boosts
    FOR EACH ROW EXECUTE FUNCTION boosts_count_trg();

-- A reply counts while it is live: deleting it (a tombstone) takes it off.
-- +goose StatementBegin
CREATE FUNCTION replies_count_trg() RETURNS trigger
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
-- WHEN clauses spare the function call for the thoughts that are not replies.
CREATE TRIGGER thoughts_replies_count_insert AFTER INSERT ON thoughts
    FOR EACH ROW WHEN (NEW.in_reply_to_id IS NOT NULL) EXECUTE FUNCTION replies_count_trg();
CREATE TRIGGER thoughts_replies_count_update AFTER UPDATE OF deleted_at ON thoughts
    FOR EACH ROW WHEN (NEW.in_reply_to_id IS NOT NULL AND (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
    EXECUTE FUNCTION replies_count_trg();
CREATE TRIGGER thoughts_replies_count_delete AFTER DELETE ON thoughts
    FOR EACH ROW WHEN (OLD.in_reply_to_id IS NOT NULL) EXECUTE FUNCTION replies_count_trg();

-- Replies stored before this migration.
INSERT INTO thought_stats (thought_id, replies_count)
SELECT in_reply_to_id, count(*) FROM thoughts
WHERE in_reply_to_id IS NOT NULL AND deleted_at IS NULL
GROUP BY in_reply_to_id;

-- Hashtags, lowercase. The "C" collation lets the primary key serve the
-- prefix search (name LIKE 'go%').
CREATE TABLE tags (
    name       text COLLATE "C" PRIMARY KEY,
    created_at timestamptz NOT NULL
);
-- A thought's tags; the primary key lists a tag's thoughts newest first.
CREATE TABLE thought_tags (
    tag        text COLLATE "C" NOT NULL REFERENCES tags (name),
    thought_id uuid NOT NULL REFERENCES thoughts (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, thought_id)
);
CREATE INDEX thought_tags_thought_idx ON thought_tags (thought_id);

-- Local users @mentioned by a thought (unknown usernames are not stored).
CREATE TABLE thought_mentions (
    thought_id uuid NOT NULL REFERENCES thoughts (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (thought_id, user_id)
);
CREATE INDEX thought_mentions_user_idx ON thought_mentions (user_id, thought_id DESC);

-- An ordered list of up to 8 users shown on a profile.
CREATE TABLE top_friends (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    friend_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position  smallint NOT NULL CHECK (position BETWEEN 1 AND 8),
    PRIMARY KEY (user_id, friend_id),
    UNIQUE (user_id, position),
    CHECK (user_id <> friend_id)
);
CREATE INDEX top_friends_friend_idx ON top_friends (friend_id);

-- Full-text search. The 'simple' configuration lowercases and splits words
-- without stemming or stop words: thoughts arrive in every language (and
-- federate in from anywhere), and a language-specific stemmer would mangle all
-- but one of them.
ALTER TABLE thoughts ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', content_warning || ' ' || content)) STORED;
CREATE INDEX thoughts_search_idx ON thoughts USING gin (search);

-- The home feed reads each source's newest live thoughts (an index-only scan).
CREATE INDEX thoughts_live_author_idx ON thoughts (author_id, id DESC) WHERE deleted_at IS NULL;
-- ... and the viewer's accepted follows (index-only).
CREATE INDEX follows_accepted_idx ON follows (follower_id, following_id) WHERE state = 'accepted';
-- The block list, newest first.
CREATE INDEX blocks_list_idx ON blocks (blocker_id, id DESC);

-- User search: username / display-name prefix, case-insensitive.
CREATE INDEX users_username_prefix_idx ON users (lower(username) text_pattern_ops);
CREATE INDEX users_display_name_prefix_idx ON users (lower(display_name) text_pattern_ops);

-- +goose Down
DROP INDEX users_display_name_prefix_idx;
DROP INDEX users_username_prefix_idx;
DROP INDEX blocks_list_idx;
DROP INDEX follows_accepted_idx;
DROP INDEX thoughts_live_author_idx;
DROP INDEX thoughts_search_idx;
ALTER TABLE thoughts DROP COLUMN search;
DROP TABLE top_friends;
DROP TABLE thought_mentions;
DROP TABLE thought_tags;
DROP TABLE tags;
DROP TRIGGER thoughts_replies_count_delete ON thoughts;
DROP TRIGGER thoughts_replies_count_update ON thoughts;
DROP TRIGGER thoughts_replies_count_insert ON thoughts;
DROP FUNCTION replies_count_trg();
DROP TABLE boosts;
DROP FUNCTION boosts_count_trg();
DROP TABLE likes;
DROP FUNCTION likes_count_trg();
DROP TABLE thought_stats;
DROP FUNCTION thought_stats_add(uuid, integer, integer, integer);
