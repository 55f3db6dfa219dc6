package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

// Inbox stores received activities (inbox_activities).
type Inbox struct{ db querier }

var _ command.InboxRepository = Inbox{}

// Add inserts a unless its activity IRI is there already.
func (r Inbox) Add(ctx context.Context, a domain.InboxActivity) (bool, error) {
	tag, err := r.db.Exec(ctx, `INSERT INTO inbox_activities (id, activity_iri, activity_type, actor_id, key_id, raw, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (activity_iri) DO NOTHING`,
		a.ID, a.IRI, a.Type, a.ActorID, a.KeyID, a.Raw, a.ReceivedAt)
	if err != nil {
		return false, fmt.Errorf("insert inbox activity: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ByID loads an activity, locking its row.
func (r Inbox) ByID(ctx context.Context, id uuid.UUID) (domain.InboxActivity, error) {
	var a domain.InboxActivity
	var outcome *string
	err := r.db.QueryRow(ctx, `SELECT id, activity_iri, activity_type, actor_id, key_id, raw, received_at, processed_at, outcome
		FROM inbox_activities WHERE id = $1 FOR UPDATE`, id).
		Scan(&a.ID, &a.IRI, &a.Type, &a.ActorID, &a.KeyID, &a.Raw, &a.ReceivedAt, &a.ProcessedAt, &outcome)
	if err != nil {
		return domain.InboxActivity{}, notFound(err, "inbox activity")
	}
	if outcome != nil {
		a.Outcome = *outcome
	}
	return a, nil
}

// MarkProcessed records the outcome and drops the raw document.
func (r Inbox) MarkProcessed(ctx context.Context, id uuid.UUID, outcome string, at time.Time) error {
	tag, err := r.db.Exec(ctx, `UPDATE inbox_activities SET processed_at = $2, outcome = $3, raw = NULL WHERE id = $1`, id, at, outcome)
	if err != nil {
		return fmt.Errorf("mark inbox activity processed: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.ErrNotFound, "inbox activity not found")
	}
	return nil
}

// Federated links local rows to ActivityPub IRIs.
type Federated struct{ db querier }

var _ command.FederatedRepository = Federated{}

// ThoughtByIRI loads the remote thought with the Note IRI.
func (r Federated) ThoughtByIRI(ctx context.Context, iri string) (domain.Thought, error) {
	var t domain.Thought
	if err := r.db.QueryRow(ctx, `SELECT `+thoughtColumns+` FROM thoughts t WHERE t.ap_iri = $1 FOR UPDATE`, iri).
		Scan(thoughtDest(&t)...); err != nil {
		return domain.Thought{}, notFound(err, "thought")
	}
	return t, nil
}

// LinkReplies links the thoughts waiting for parent's IRI to it (the
// replies counter follows, by trigger).
func (r Federated) LinkReplies(ctx context.Context, parent domain.Thought) (int64, error) {
	if parent.Remote.IRI == "" {
		return 0, nil
	}
	tag, err := r.db.Exec(ctx, `UPDATE thoughts SET in_reply_to_id = $1, in_reply_to_author_id = $2, in_reply_to_iri = NULL
		WHERE in_reply_to_iri = $3 AND in_reply_to_id IS NULL`, parent.ID, parent.AuthorID, parent.Remote.IRI)
	if err != nil {
		return 0, fmt.Errorf("link replies: %w", err)
	}
	return tag.RowsAffected(), nil
}

// LocalFollowerOf reports whether a live local account follows userID.
func (r Federated) LocalFollowerOf(ctx context.Context, userID uuid.UUID) (bool, error) {
	var ok bool
	err := r.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM follows f JOIN users u ON u.id = f.follower_id
		WHERE f.following_id = $1 AND f.state = 'accepted' AND u.host IS NULL AND u.deleted_at IS NULL)`, userID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("find a local follower: %w", err)
	}
	return ok, nil
}

// FollowByID loads a follow by its id.
func (r Federated) FollowByID(ctx context.Context, id uuid.UUID) (domain.Follow, error) {
	f, err := scanFollow(r.db.QueryRow(ctx, `SELECT `+followColumns+` FROM follows WHERE id = $1`, id))
	if err != nil {
		return domain.Follow{}, notFound(err, "follow")
	}
	return f, nil
}

// FollowByActivity loads the follow made by the activity iri.
func (r Federated) FollowByActivity(ctx context.Context, iri string) (domain.Follow, error) {
	f, err := scanFollow(r.db.QueryRow(ctx, `SELECT `+followColumns+` FROM follows WHERE activity_iri = $1`, iri))
	if err != nil {
		return domain.Follow{}, notFound(err, "follow")
	}
	return f, nil
}

// LikeByActivity loads the like made by the activity iri.
func (r Federated) LikeByActivity(ctx context.Context, iri string) (domain.Like, error) {
	var l domain.Like
	err := r.db.QueryRow(ctx, `SELECT id, user_id, thought_id, created_at FROM likes WHERE activity_iri = $1`, iri).
		Scan(&l.ID, &l.UserID, &l.ThoughtID, &l.CreatedAt)
	if err != nil {
		return domain.Like{}, notFound(err, "like")
	}
	return l, nil
}

// BoostByActivity loads the boost made by the activity iri.
func (r Federated) BoostByActivity(ctx context.Context, iri string) (domain.Boost, error) {
	var b domain.Boost
	err := r.db.QueryRow(ctx, `SELECT id, user_id, thought_id, created_at FROM boosts WHERE activity_iri = $1`, iri).
		Scan(&b.ID, &b.UserID, &b.ThoughtID, &b.CreatedAt)
	if err != nil {
		return domain.Boost{}, notFound(err, "boost")
	}
	return b, nil
}

// BlockByActivity loads the block made by the activity iri.
func (r Federated) BlockByActivity(ctx context.Context, iri string) (domain.Block, error) {
	var b domain.Block
	err := r.db.QueryRow(ctx, `SELECT id, blocker_id, blocked_id, created_at FROM blocks WHERE activity_iri = $1`, iri).
		Scan(&b.ID, &b.BlockerID, &b.BlockedID, &b.CreatedAt)
	if err != nil {
		return domain.Block{}, notFound(err, "block")
	}
	return b, nil
}

// SetActivity records the activity behind a row. An activity IRI held by
// another row of the table (a Follow sent again after an Undo) moves.
func (r Federated) SetActivity(ctx context.Context, kind command.ActivityKind, id uuid.UUID, iri string) error {
	table := map[command.ActivityKind]string{
		command.KindFollow: "follows", command.KindLike: "likes", command.KindBoost: "boosts", command.KindBlock: "blocks",
	}[kind]
	if table == "" {
		return fmt.Errorf("set activity: unknown kind %q", kind)
	}
	if _, err := r.db.Exec(ctx, `UPDATE `+table+` SET activity_iri = NULL WHERE activity_iri = $1 AND id <> $2`, iri, id); err != nil {
		return fmt.Errorf("set %s activity: %w", kind, err)
	}
	if _, err := r.db.Exec(ctx, `UPDATE `+table+` SET activity_iri = $2 WHERE id = $1`, id, iri); err != nil {
		return fmt.Errorf("set %s activity: %w", kind, err)
	}
	return nil
}

// ByKeyID loads the cached actor whose key is keyID.
func (r RemoteActors) ByKeyID(ctx context.Context, keyID string) (domain.RemoteActor, error) {
	a, err := scanRemoteActor(r.pool.QueryRow(ctx, remoteActorSelect+` WHERE ra.key_id = $1`, keyID))
	if err != nil {
		return domain.RemoteActor{}, notFound(err, "remote actor")
	}
	return a, nil
}

// MentionedUserIDs lists the users a thought mentions.
func (r Notifications) MentionedUserIDs(ctx context.Context, thoughtID uuid.UUID) ([]uuid.UUID, error) {
	rows, err := r.db.Query(ctx, `SELECT user_id FROM thought_mentions WHERE thought_id = $1 ORDER BY user_id`, thoughtID)
	if err != nil {
		return nil, fmt.Errorf("load mentions: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("load mentions: %w", err)
	}
	return ids, nil
}
