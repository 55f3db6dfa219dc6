package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

// DeliveriesChannel is where an enqueue announces new deliveries (pg_notify
// in the enqueueing transaction): every delivery worker LISTENing wakes.
const DeliveriesChannel = "thoughts_deliveries"

// Outbound is the federation handler's store (outbound_activities,
// deliveries) and its reads of accounts, thoughts and follows.
type Outbound struct{ pool *pgxpool.Pool }

// NewOutbound returns the store on pool.
func NewOutbound(pool *pgxpool.Pool) Outbound { return Outbound{pool: pool} }

var _ command.OutboundStore = Outbound{}

// Account loads any account, deleted ones included.
func (o Outbound) Account(ctx context.Context, id uuid.UUID) (domain.User, error) {
	u, err := scanUser(o.pool.QueryRow(ctx, userSelect+` WHERE id = $1`, id))
	if err != nil {
		return domain.User{}, notFound(err, "user")
	}
	return u, nil
}

// Inbox returns a remote account's inboxes.
func (o Outbound) Inbox(ctx context.Context, userID uuid.UUID) (command.Inbox, error) {
	var in command.Inbox
	err := o.pool.QueryRow(ctx, `SELECT ra.inbox, ra.shared_inbox, ra.host FROM users u
		JOIN remote_actors ra ON ra.iri = u.actor_iri WHERE u.id = $1`, userID).Scan(&in.Personal, &in.Shared, &in.Host)
	if err != nil {
		return command.Inbox{}, notFound(err, "remote actor")
	}
	return in, nil
}

// Thought loads a thought with its author and parent.
func (o Outbound) Thought(ctx context.Context, id uuid.UUID) (command.OutThought, error) {
	var out command.OutThought
	var parentID *uuid.UUID
	dest := append(thoughtDest(&out.Thought), &parentID)
	err := o.pool.QueryRow(ctx, `SELECT `+thoughtColumns+`, t.in_reply_to_id FROM thoughts t WHERE t.id = $1`, id).Scan(dest...)
	if err != nil {
		return command.OutThought{}, notFound(err, "thought")
	}
	if out.Author, err = o.Account(ctx, out.Thought.AuthorID); err != nil {
		return command.OutThought{}, err
	}
	out.ParentIRI = out.Thought.Remote.InReplyToIRI
	if parentID != nil {
		var parentIRI string
		var authorID uuid.UUID
		err := o.pool.QueryRow(ctx, `SELECT coalesce(ap_iri, ''), author_id FROM thoughts WHERE id = $1`, *parentID).Scan(&parentIRI, &authorID)
		if err != nil {
			return command.OutThought{}, fmt.Errorf("load parent of %s: %w", id, err)
		}
		if out.ParentAuthor, err = o.Account(ctx, authorID); err != nil {
			return command.OutThought{}, err
		}
		out.ParentIRI = parentIRI // "" for a local parent: the caller names it
	}
	return out, nil
}

// FollowerInboxes lists the inboxes of a user's remote followers.
func (o Outbound) FollowerInboxes(ctx context.Context, userID uuid.UUID) ([]command.Inbox, error) {
	rows, err := o.pool.Query(ctx, `SELECT DISTINCT ra.inbox, ra.shared_inbox, ra.host FROM follows f
		JOIN users u ON u.id = f.follower_id AND u.host IS NOT NULL AND u.deleted_at IS NULL
		JOIN remote_actors ra ON ra.iri = u.actor_iri
		WHERE f.following_id = $1 AND f.state = 'accepted'
		ORDER BY ra.host, ra.inbox`, userID)
	if err != nil {
		return nil, fmt.Errorf("load follower inboxes: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (command.Inbox, error) {
		var in command.Inbox
		err := r.Scan(&in.Personal, &in.Shared, &in.Host)
		return in, err
	})
}

func (o Outbound) targets(ctx context.Context, sql string, arg any) ([]command.Target, error) {
	rows, err := o.pool.Query(ctx, sql, arg)
	if err != nil {
		return nil, fmt.Errorf("load delivery targets: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (command.Target, error) {
		var t command.Target
		err := r.Scan(&t.URL, &t.Host)
		return t, err
	})
}

// ThoughtTargets lists the inboxes activities about the thought went to.
func (o Outbound) ThoughtTargets(ctx context.Context, thoughtID uuid.UUID) ([]command.Target, error) {
	return o.targets(ctx, `SELECT DISTINCT d.inbox, d.host FROM deliveries d
		JOIN outbound_activities a ON a.event_id = d.event_id WHERE a.thought_id = $1 ORDER BY 2, 1`, thoughtID)
}

// ActorTargets lists every inbox an activity of the actor went to.
func (o Outbound) ActorTargets(ctx context.Context, actorID uuid.UUID) ([]command.Target, error) {
	return o.targets(ctx, `SELECT DISTINCT d.inbox, d.host FROM deliveries d
		JOIN outbound_activities a ON a.event_id = d.event_id WHERE a.actor_id = $1 AND a.kind = 'sent' ORDER BY 2, 1`, actorID)
}

// ActivityTargets lists the inboxes one activity went to.
func (o Outbound) ActivityTargets(ctx context.Context, eventID uuid.UUID) ([]command.Target, error) {
	return o.targets(ctx, `SELECT inbox, host FROM deliveries WHERE event_id = $1 ORDER BY host, inbox`, eventID)
}

// FollowIRI returns the activity IRI of a follow.
func (o Outbound) FollowIRI(ctx context.Context, follower, following uuid.UUID) (string, bool, error) {
	var iri string
	err := o.pool.QueryRow(ctx, `SELECT coalesce(activity_iri, '') FROM follows WHERE follower_id = $1 AND following_id = $2`,
		follower, following).Scan(&iri)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("load follow: %w", err)
	}
	return iri, true, nil
}

func nilUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// LastActivity finds the latest matching activity.
func (o Outbound) LastActivity(ctx context.Context, kind, typ string, actorID, targetUserID, thoughtID uuid.UUID, before time.Time) (command.OutboundActivity, bool, error) {
	var a command.OutboundActivity
	var target, thought *uuid.UUID
	err := o.pool.QueryRow(ctx, `SELECT event_id, kind, activity_iri, activity_type, actor_id, target_user_id, object_iri,
			thought_id, coalesce(payload, ''::bytea), occurred_at
		FROM outbound_activities
		WHERE kind = $1 AND activity_type = $2 AND actor_id = $3
			AND ($4::uuid IS NULL OR target_user_id = $4) AND ($5::uuid IS NULL OR thought_id = $5)
			AND occurred_at < $6
		ORDER BY occurred_at DESC, created_at DESC LIMIT 1`,
		kind, typ, actorID, nilUUID(targetUserID), nilUUID(thoughtID), before).
		Scan(&a.EventID, &a.Kind, &a.IRI, &a.Type, &a.ActorID, &target, &a.ObjectIRI, &thought, &a.Payload, &a.OccurredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return command.OutboundActivity{}, false, nil
	}
	if err != nil {
		return command.OutboundActivity{}, false, fmt.Errorf("load activity: %w", err)
	}
	if target != nil {
		a.TargetUserID = *target
	}
	if thought != nil {
		a.ThoughtID = *thought
	}
	return a, true, nil
}

// Enqueue stores the activity and its deliveries once per event, and
// announces them to the delivery workers when the transaction commits.
// Deliveries to hosts marked unavailable are stored as failed at once.
func (o Outbound) Enqueue(ctx context.Context, a command.OutboundActivity, targets []command.Target) (bool, error) {
	var enqueued bool
	err := pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		var payload any
		if a.Payload != nil {
			payload = a.Payload
		}
		var guard any
		if a.RequireFollowIRI != "" {
			guard = a.RequireFollowIRI
		}
		tag, err := tx.Exec(ctx, `INSERT INTO outbound_activities (event_id, kind, activity_iri, activity_type, actor_id,
				target_user_id, object_iri, thought_id, payload, occurred_at)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
			WHERE $11::text IS NULL OR EXISTS (SELECT 1 FROM follows WHERE activity_iri = $11 FOR SHARE)
			ON CONFLICT (event_id) DO NOTHING`,
			a.EventID, a.Kind, a.IRI, a.Type, a.ActorID, nilUUID(a.TargetUserID), a.ObjectIRI, nilUUID(a.ThoughtID),
			payload, a.OccurredAt, guard)
		if err != nil {
			return fmt.Errorf("insert activity: %w", err)
		}
		if enqueued = tag.RowsAffected() == 1; !enqueued || len(targets) == 0 {
			return nil
		}
		urls := make([]string, len(targets))
		hosts := make([]string, len(targets))
		for i, t := range targets {
			urls[i], hosts[i] = t.URL, t.Host
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deliveries (event_id, inbox, host, state, next_attempt_at, created_at, done_at, last_error)
			SELECT $1, t.inbox, t.host,
				CASE WHEN h.state = 'unavailable' THEN 'failed' ELSE 'pending' END,
				now(), now(),
				CASE WHEN h.state = 'unavailable' THEN now() END,
				CASE WHEN h.state = 'unavailable' THEN 'not sent: host unavailable' ELSE '' END
			FROM unnest($2::text[], $3::text[]) AS t (inbox, host)
			LEFT JOIN federation_hosts h ON h.host = t.host
			ON CONFLICT (event_id, inbox) DO NOTHING`, a.EventID, urls, hosts); err != nil {
			return fmt.Errorf("insert deliveries: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, DeliveriesChannel); err != nil {
			return fmt.Errorf("announce deliveries: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("enqueue %s %s: %w", a.Type, a.IRI, err)
	}
	return enqueued, nil
}
