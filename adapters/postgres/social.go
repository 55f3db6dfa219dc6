package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/app/domain"
)

// Interactions is the like and boost repository. The like/boost counters
// (thought_stats) are kept by triggers in the same transaction.
type Interactions struct{ db querier }

var _ domain.InteractionRepository = Interactions{}

// AddLikeIfVisible inserts l if the user may see the thought (visibleTo) and
// it is not a tombstone, in one statement: the check and the insert cost one
// round trip, and liking is the most frequent write.
func (r Interactions) AddLikeIfVisible(ctx context.Context, l domain.Like) (added, remoteThought bool, err error) {
	var visible, deleted bool
	err = r.db.QueryRow(ctx, `WITH t AS (
			SELECT t.id, t.deleted_at IS NOT NULL AS deleted, t.ap_iri IS NOT NULL AS remote
			FROM thoughts t WHERE t.id = $2 AND `+visibleTo(1)+`
		), ins AS (
			INSERT INTO likes (user_id, thought_id, id, created_at)
			SELECT $1, t.id, $3, $4 FROM t WHERE NOT t.deleted
			ON CONFLICT (user_id, thought_id) DO NOTHING
			RETURNING 1
		)
		SELECT EXISTS (SELECT 1 FROM t), coalesce((SELECT deleted FROM t), false), coalesce((SELECT remote FROM t), false),
			EXISTS (SELECT 1 FROM ins)`,
		pgUUID(l.UserID), pgUUID(l.ThoughtID), pgUUID(l.ID), l.CreatedAt).Scan(&visible, &deleted, &remoteThought, &added)
	switch {
	case err != nil:
		return false, false, fmt.Errorf("insert like: %w", err)
	case !visible:
		return false, false, domain.Errorf(domain.ErrNotFound, "thought not found")
	case deleted:
		return false, false, domain.Errorf(domain.ErrGone, "the thought was deleted")
	}
	return added, remoteThought, nil
}

// RemoveLike deletes the user's like of the thought, if any.
func (r Interactions) RemoveLike(ctx context.Context, userID, thoughtID uuid.UUID) (bool, error) {
	tag, err := r.db.Exec(ctx, `DELETE FROM likes WHERE user_id = $1 AND thought_id = $2`, userID, thoughtID)
	if err != nil {
		return false, fmt.Errorf("delete like: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// AddBoost inserts b unless the user already boosted the thought.
func (r Interactions) AddBoost(ctx context.Context, b domain.Boost) (bool, error) {
	tag, err := r.db.Exec(ctx, `INSERT INTO boosts (id, user_id, thought_id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, thought_id) DO NOTHING`, b.ID, b.UserID, b.ThoughtID, b.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("insert boost: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RemoveBoost deletes the user's boost of the thought, if any.
func (r Interactions) RemoveBoost(ctx context.Context, userID, thoughtID uuid.UUID) (bool, error) {
	tag, err := r.db.Exec(ctx, `DELETE FROM boosts WHERE user_id = $1 AND thought_id = $2`, userID, thoughtID)
	if err != nil {
		return false, fmt.Errorf("delete boost: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Graph is the follow, block and top friends repository.
type Graph struct{ db querier }

var _ domain.GraphRepository = Graph{}

// pairLockClass namespaces the relationship advisory locks (the two-key form
// of pg_advisory_xact_lock has its own key space).
const pairLockClass = 0x536f63 // "Soc"

// LockPair takes a transaction-scoped advisory lock on the unordered pair.
func (r Graph) LockPair(ctx context.Context, a, b uuid.UUID) error {
	lo, hi := a, b
	if lo.String() > hi.String() {
		lo, hi = hi, lo
	}
	if _, err := r.db.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, pairLockClass, lo.String()+hi.String()); err != nil {
		return fmt.Errorf("lock relationship: %w", err)
	}
	return nil
}

// Relationship reports how viewer stands with other.
func (r Graph) Relationship(ctx context.Context, viewer, other uuid.UUID) (domain.Relationship, error) {
	return relationship(ctx, r.db, viewer, other)
}

func relationship(ctx context.Context, db querier, viewer, other uuid.UUID) (domain.Relationship, error) {
	rel := domain.Relationship{UserID: other}
	var out, in string
	err := db.QueryRow(ctx, `SELECT
		coalesce((SELECT state FROM follows WHERE follower_id = $1 AND following_id = $2), ''),
		coalesce((SELECT state FROM follows WHERE follower_id = $2 AND following_id = $1), ''),
		`+blocks("$1", "$2")+`, `+blocks("$2", "$1"), viewer, other).
		Scan(&out, &in, &rel.Blocking, &rel.BlockedBy)
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("load relationship: %w", err)
	}
	rel.Following, rel.Requested = out == string(domain.FollowAccepted), out == string(domain.FollowPending)
	rel.FollowedBy, rel.RequestedBy = in == string(domain.FollowAccepted), in == string(domain.FollowPending)
	return rel, nil
}

const followColumns = `id, follower_id, following_id, state, created_at, accepted_at`

func scanFollow(row pgx.Row) (domain.Follow, error) {
	var f domain.Follow
	err := row.Scan(&f.ID, &f.FollowerID, &f.FollowingID, &f.State, &f.CreatedAt, &f.AcceptedAt)
	return f, err
}

// AddFollow inserts f unless a follow between the two exists in that direction.
func (r Graph) AddFollow(ctx context.Context, f domain.Follow) (bool, error) {
	var activity *string
	if f.ActivityIRI != "" {
		activity = &f.ActivityIRI
	}
	tag, err := r.db.Exec(ctx, `INSERT INTO follows (`+followColumns+`, activity_iri) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (follower_id, following_id) DO NOTHING`,
		f.ID, f.FollowerID, f.FollowingID, f.State, f.CreatedAt, f.AcceptedAt, activity)
	if err != nil {
		return false, fmt.Errorf("insert follow: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// FollowOf loads the follow from follower to following.
func (r Graph) FollowOf(ctx context.Context, follower, following uuid.UUID) (domain.Follow, error) {
	f, err := scanFollow(r.db.QueryRow(ctx, `SELECT `+followColumns+` FROM follows
		WHERE follower_id = $1 AND following_id = $2`, follower, following))
	if err != nil {
		return domain.Follow{}, notFound(err, "follow")
	}
	return f, nil
}

// AcceptFollow turns a pending follow into an accepted one.
func (r Graph) AcceptFollow(ctx context.Context, follower, following uuid.UUID, at time.Time) (bool, error) {
	tag, err := r.db.Exec(ctx, `UPDATE follows SET state = 'accepted', accepted_at = $3
		WHERE follower_id = $1 AND following_id = $2 AND state = 'pending'`, follower, following, at)
	if err != nil {
		return false, fmt.Errorf("accept follow: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RemoveFollow deletes the follow from follower to following and returns it.
func (r Graph) RemoveFollow(ctx context.Context, follower, following uuid.UUID) (domain.Follow, bool, error) {
	f, err := scanFollow(r.db.QueryRow(ctx, `DELETE FROM follows WHERE follower_id = $1 AND following_id = $2
		RETURNING `+followColumns, follower, following))
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Follow{}, false, nil
	}
	if err != nil {
		return domain.Follow{}, false, fmt.Errorf("delete follow: %w", err)
	}
	return f, true, nil
}

// AddBlock inserts b unless the block exists.
func (r Graph) AddBlock(ctx context.Context, b domain.Block) (bool, error) {
	tag, err := r.db.Exec(ctx, `INSERT INTO blocks (blocker_id, blocked_id, id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (blocker_id, blocked_id) DO NOTHING`, b.BlockerID, b.BlockedID, b.ID, b.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("insert block: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RemoveBlock deletes the block, if any.
func (r Graph) RemoveBlock(ctx context.Context, blocker, blocked uuid.UUID) (bool, error) {
	tag, err := r.db.Exec(ctx, `DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`, blocker, blocked)
	if err != nil {
		return false, fmt.Errorf("delete block: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReplaceTopFriends stores friends as userID's top friends, in order.
func (r Graph) ReplaceTopFriends(ctx context.Context, userID uuid.UUID, friends []uuid.UUID) error {
	if _, err := r.db.Exec(ctx, `DELETE FROM top_friends WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("clear top friends: %w", err)
	}
	if len(friends) == 0 {
		return nil
	}
	_, err := r.db.Exec(ctx, `INSERT INTO top_friends (user_id, friend_id, position)
		SELECT $1, f.id, f.pos FROM unnest($2::uuid[]) WITH ORDINALITY AS f (id, pos)`, userID, friends)
	if err != nil {
		return fmt.Errorf("insert top friends: %w", err)
	}
	return nil
}

// RemoveTopFriend takes friendID off userID's list. The positions left keep
// their order; a gap is harmless because lists are read ordered by position.
func (r Graph) RemoveTopFriend(ctx context.Context, userID, friendID uuid.UUID) error {
	if _, err := r.db.Exec(ctx, `DELETE FROM top_friends WHERE user_id = $1 AND friend_id = $2`, userID, friendID); err != nil {
		return fmt.Errorf("remove top friend: %w", err)
	}
	return nil
}

// Entities stores the hashtags and mentions of thoughts.
type Entities struct{ db querier }

var _ domain.EntityRepository = Entities{}

// ReplaceTags sets the thought's tags in one statement: tags it no longer has
// are removed, new ones (and unknown tag names) added. The two sets touched
// are disjoint, so the statement's parts cannot collide.
func (r Entities) ReplaceTags(ctx context.Context, thoughtID uuid.UUID, tags []string, now time.Time) error {
	if tags == nil {
		tags = []string{}
	}
	_, err := r.db.Exec(ctx, `WITH gone AS (
			DELETE FROM thought_tags WHERE thought_id = $1 AND tag <> ALL ($2::text[])
		), known AS (
			INSERT INTO tags (name, created_at) SELECT unnest($2::text[]), $3 ON CONFLICT (name) DO NOTHING
		)
		INSERT INTO thought_tags (tag, thought_id) SELECT unnest($2::text[]), $1 ON CONFLICT DO NOTHING`,
		thoughtID, tags, now)
	if err != nil {
		return fmt.Errorf("store tags: %w", err)
	}
	return nil
}

// ReplaceMentions sets the local users the thought mentions.
func (r Entities) ReplaceMentions(ctx context.Context, thoughtID uuid.UUID, usernames []string) error {
	if usernames == nil {
		usernames = []string{}
	}
	_, err := r.db.Exec(ctx, `WITH mentioned AS (
			SELECT id FROM users WHERE lower(username) = ANY ($2::text[]) AND host IS NULL
		), gone AS (
			DELETE FROM thought_mentions WHERE thought_id = $1 AND user_id NOT IN (SELECT id FROM mentioned)
		)
		INSERT INTO thought_mentions (thought_id, user_id) SELECT $1, id FROM mentioned ON CONFLICT DO NOTHING`,
		thoughtID, usernames)
	if err != nil {
		return fmt.Errorf("store mentions: %w", err)
	}
	return nil
}
