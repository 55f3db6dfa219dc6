package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

// Notifications is the notification repository used inside a transaction.
type Notifications struct{ db querier }

// shownTo is the rule for which stored notifications (aliased n) the
// recipient bound to parameter $n is shown: none while either user blocks the
// other, none about a deleted thought or one the recipient may no longer see.
// The handler applies the same rules when it stores a notification; applying
// them again on read covers what changed since (a block, an unfollow, a
// deletion racing the handler).
func shownTo(n int) string {
	p := "$" + strconv.Itoa(n) + "::uuid"
	return notBlockedEitherWay("n.recipient_id", "n.actor_id") + `
		AND (n.thought_id IS NULL OR EXISTS (SELECT 1 FROM thoughts t
			WHERE t.id = n.thought_id AND t.deleted_at IS NULL AND ` + visibleTo(n) + `))
		AND n.recipient_id = ` + p
}

// Add inserts n if its guards hold (see command.TxNotifications): checking
// them in the INSERT itself leaves no gap for a block or deletion to slip in,
// and costs one round trip. The thought it is about is read FOR SHARE: a
// deletion (which locks the row FOR UPDATE) waits until the transaction of
// the INSERT ends, and one that committed first is seen (the row is
// re-checked after the wait), so the ThoughtDeleted handler, which runs after
// the deletion committed, finds whatever was stored.
func (r Notifications) Add(ctx context.Context, n domain.Notification) (bool, error) {
	tag, err := r.db.Exec(ctx, `INSERT INTO notifications
		(id, event_id, type, recipient_id, actor_id, thought_id, correlation_id, created_at)
		SELECT $1::uuid, $2::uuid, $3::text, $4::uuid, $5::uuid, $6::uuid, $7::text, $8::timestamptz
		WHERE $4::uuid <> $5::uuid
		AND EXISTS (SELECT 1 FROM users WHERE id = $4::uuid AND deleted_at IS NULL AND host IS NULL) AND EXISTS (SELECT 1 FROM users WHERE id = $5::uuid AND deleted_at IS NULL)
		AND `+notBlockedEitherWay("$4::uuid", "$5::uuid")+`
		AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM thoughts t
			WHERE t.id = $6::uuid AND t.deleted_at IS NULL AND `+visibleTo(4)+` FOR SHARE))
		ON CONFLICT (event_id, type, recipient_id) DO NOTHING`,
		n.ID, n.EventID, string(n.Type), n.RecipientID, n.ActorID, n.ThoughtID, n.CorrelationID, n.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("insert %s notification for %s: %w", n.Type, n.RecipientID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// AddToAuthor inserts n addressed to the author of n.ThoughtID, with Add's
// guards and lock, in one statement: the author is read in the INSERT, not
// before it. An author always sees their own thought, so the visibility rule
// has nothing to check.
func (r Notifications) AddToAuthor(ctx context.Context, n domain.Notification) (bool, error) {
	if n.ThoughtID == nil {
		return false, fmt.Errorf("insert %s notification: no thought", n.Type)
	}
	tag, err := r.db.Exec(ctx, `INSERT INTO notifications
		(id, event_id, type, recipient_id, actor_id, thought_id, correlation_id, created_at)
		SELECT $1::uuid, $2::uuid, $3::text, t.author_id, $4::uuid, t.id, $6::text, $7::timestamptz
		FROM thoughts t
		WHERE t.id = $5::uuid AND t.deleted_at IS NULL AND t.ap_iri IS NULL AND t.author_id <> $4::uuid
		AND EXISTS (SELECT 1 FROM users WHERE id = $4::uuid AND deleted_at IS NULL)
		AND `+notBlockedEitherWay("t.author_id", "$4::uuid")+`
		FOR SHARE OF t
		ON CONFLICT (event_id, type, recipient_id) DO NOTHING`,
		n.ID, n.EventID, string(n.Type), n.ActorID, *n.ThoughtID, n.CorrelationID, n.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("insert %s notification about %s: %w", n.Type, *n.ThoughtID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// AddManyToAuthor is AddToAuthor for each of ns in one statement. Rows are
// inserted in event ID order, so two concurrent statements storing some of
// the same notifications (a redelivered batch) wait for each other's rows in
// the same order instead of deadlocking.
func (r Notifications) AddManyToAuthor(ctx context.Context, ns []domain.Notification) (int64, error) {
	if len(ns) == 0 {
		return 0, nil
	}
	var (
		// pgtype.UUID, not uuid.UUID: pgx would encode each element through
		// its driver.Valuer, as a string it then parses again.
		ids, eventIDs, actors, thoughts = make([]pgtype.UUID, len(ns)), make([]pgtype.UUID, len(ns)), make([]pgtype.UUID, len(ns)), make([]pgtype.UUID, len(ns))
		types, correlations             = make([]string, len(ns)), make([]string, len(ns))
		at                              = make([]time.Time, len(ns))
	)
	for i, n := range ns {
		if n.ThoughtID == nil {
			return 0, fmt.Errorf("insert %s notification: no thought", n.Type)
		}
		ids[i], eventIDs[i], actors[i], thoughts[i] = pgUUID(n.ID), pgUUID(n.EventID), pgUUID(n.ActorID), pgUUID(*n.ThoughtID)
		types[i], correlations[i], at[i] = string(n.Type), n.CorrelationID, n.CreatedAt
	}
	tag, err := r.db.Exec(ctx, `INSERT INTO notifications
		(id, event_id, type, recipient_id, actor_id, thought_id, correlation_id, created_at)
		SELECT v.id, v.event_id, v.type, t.author_id, v.actor_id, t.id, v.correlation_id, v.created_at
		FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::timestamptz[])
			AS v(id, event_id, type, actor_id, thought_id, correlation_id, created_at)
		JOIN thoughts t ON t.id = v.thought_id
		WHERE t.deleted_at IS NULL AND t.ap_iri IS NULL AND t.author_id <> v.actor_id
		AND EXISTS (SELECT 1 FROM users WHERE id = v.actor_id AND deleted_at IS NULL)
		AND `+notBlockedEitherWay("t.author_id", "v.actor_id")+`
		ORDER BY v.event_id, v.type
		FOR SHARE OF t
		ON CONFLICT (event_id, type, recipient_id) DO NOTHING`,
		ids, eventIDs, types, actors, thoughts, correlations, at)
	if err != nil {
		return 0, fmt.Errorf("insert %d notifications to thought authors: %w", len(ns), err)
	}
	return tag.RowsAffected(), nil
}

// DeleteAboutThought deletes the notifications pointing at a thought.
func (r Notifications) DeleteAboutThought(ctx context.Context, thoughtID uuid.UUID) (int64, error) {
	tag, err := r.db.Exec(ctx, `DELETE FROM notifications WHERE thought_id = $1`, thoughtID)
	if err != nil {
		return 0, fmt.Errorf("delete notifications about %s: %w", thoughtID, err)
	}
	return tag.RowsAffected(), nil
}

// Thought loads a thought, tombstone or not, without locking it.
func (r Notifications) Thought(ctx context.Context, id uuid.UUID) (domain.Thought, error) {
	var t domain.Thought
	err := r.db.QueryRow(ctx, `SELECT `+thoughtColumns+` FROM thoughts t WHERE t.id = $1`, id).Scan(thoughtDest(&t)...)
	if err != nil {
		return domain.Thought{}, notFound(err, "thought")
	}
	return t, nil
}

// UserIDsByUsername resolves usernames case-insensitively.
func (r Notifications) UserIDsByUsername(ctx context.Context, usernames []string) (map[string]uuid.UUID, error) {
	rows, err := r.db.Query(ctx, `SELECT lower(username), id FROM users WHERE lower(username) = ANY($1::text[]) AND host IS NULL AND deleted_at IS NULL`, usernames)
	if err != nil {
		return nil, fmt.Errorf("resolve usernames: %w", err)
	}
	out := map[string]uuid.UUID{}
	var name string
	var id uuid.UUID
	_, err = pgx.ForEachRow(rows, []any{&name, &id}, func() error {
		out[name] = id
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan usernames: %w", err)
	}
	return out, nil
}

// MarkRead marks one notification the recipient is shown read.
func (r Notifications) MarkRead(ctx context.Context, recipientID, id uuid.UUID, at time.Time) error {
	tag, err := r.db.Exec(ctx, `UPDATE notifications n SET read_at = coalesce(n.read_at, $3)
		WHERE n.id = $2 AND `+shownTo(1), recipientID, id, at)
	if err != nil {
		return fmt.Errorf("mark notification read: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.ErrNotFound, "notification not found")
	}
	return nil
}

// MarkAllRead marks all unread notifications of the recipient read, including
// ones currently hidden, so they do not come back unread if a block is lifted.
func (r Notifications) MarkAllRead(ctx context.Context, recipientID uuid.UUID, at time.Time) (int64, error) {
	tag, err := r.db.Exec(ctx, `UPDATE notifications SET read_at = $2 WHERE recipient_id = $1 AND read_at IS NULL`, recipientID, at)
	if err != nil {
		return 0, fmt.Errorf("mark all notifications read: %w", err)
	}
	return tag.RowsAffected(), nil
}

const notificationView = `SELECT n.id, n.type, n.created_at, n.read_at IS NOT NULL,
		a.id, a.username || coalesce('@' || a.host, ''), a.display_name, n.thought_id, coalesce(th.content, ''), coalesce(th.content_warning, '')
	FROM notifications n
	JOIN users a ON a.id = n.actor_id
	LEFT JOIN thoughts th ON th.id = n.thought_id`

func scanNotification(row pgx.CollectableRow) (query.NotificationView, error) {
	var v query.NotificationView
	var thoughtID *uuid.UUID
	var content, cw string
	if err := row.Scan(&v.ID, &v.Type, &v.CreatedAt, &v.Read,
		&v.Account.ID, &v.Account.Username, &v.Account.DisplayName, &thoughtID, &content, &cw); err != nil {
		return query.NotificationView{}, err
	}
	if thoughtID != nil {
		v.Thought = &query.ThoughtExcerpt{ID: *thoughtID, Excerpt: content, ContentWarning: cw}
	}
	return v, nil
}

// Notifications lists a recipient's notifications by keyset page on their ID.
func (r *ReadModel) Notifications(ctx context.Context, recipientID uuid.UUID, f query.NotificationFilter, page domain.Page) ([]query.NotificationView, error) {
	conds := []string{shownTo(1)}
	args := []any{recipientID}
	if len(f.Types) > 0 {
		types := make([]string, len(f.Types))
		for i, t := range f.Types {
			types[i] = string(t)
		}
		args = append(args, types)
		conds = append(conds, "n.type = ANY($"+strconv.Itoa(len(args))+"::text[])")
	}
	if f.UnreadOnly {
		conds = append(conds, "n.read_at IS NULL")
	}
	where, tail, args := keyset(page, "n.id", conds, args)
	rows, err := r.pool.Query(ctx, notificationView+where+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("query notifications: %w", err)
	}
	vs, err := pgx.CollectRows(rows, scanNotification)
	if err != nil {
		return nil, fmt.Errorf("scan notifications: %w", err)
	}
	if page.Ascending() {
		reverse(vs)
	}
	return vs, nil
}

// Notification loads one notification the recipient is shown.
func (r *ReadModel) Notification(ctx context.Context, recipientID, id uuid.UUID) (query.NotificationView, error) {
	rows, err := r.pool.Query(ctx, notificationView+` WHERE n.id = $2 AND `+shownTo(1), recipientID, id)
	if err != nil {
		return query.NotificationView{}, fmt.Errorf("query notification: %w", err)
	}
	vs, err := pgx.CollectRows(rows, scanNotification)
	if err != nil {
		return query.NotificationView{}, fmt.Errorf("scan notification: %w", err)
	}
	if len(vs) == 0 {
		return query.NotificationView{}, domain.Errorf(domain.ErrNotFound, "notification not found")
	}
	return vs[0], nil
}

// UnreadNotificationsCount counts the unread notifications a list would show.
func (r *ReadModel) UnreadNotificationsCount(ctx context.Context, recipientID uuid.UUID) (int, error) {
	var n int
	err := r.pool.QueryRow(ctx, `SELECT count(*) FROM notifications n WHERE n.read_at IS NULL AND `+shownTo(1), recipientID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return n, nil
}
