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

// Sessions is the session repository.
type Sessions struct {
	db querier
	// touches, when set, bounds the background updates of last_seen_at
	// (NewSessions); without it Use updates in its own statement.
	touches chan struct{}
	pool    *pgxpool.Pool
}

var _ domain.SessionRepository = Sessions{}

// maxBackgroundTouches bounds the last-seen updates in flight; past it one
// is skipped (the next use, a minute on, tries again).
const maxBackgroundTouches = 4

// NewSessions is the session repository on the pool, each call a statement
// committed on its own: what authentication needs (command.SessionUsage).
func NewSessions(pool *pgxpool.Pool) Sessions {
	return Sessions{db: pool, pool: pool, touches: make(chan struct{}, maxBackgroundTouches)}
}

var _ command.SessionUsage = Sessions{}

const sessionColumns = `id, user_id, created_at, last_seen_at, user_agent, ip_prefix, revoked_at`

func scanSession(row pgx.Row) (domain.Session, error) {
	var s domain.Session
	err := row.Scan(&s.ID, &s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.UserAgent, &s.IPPrefix, &s.RevokedAt)
	return s, err
}

// Create inserts a session.
func (r Sessions) Create(ctx context.Context, s domain.Session) error {
	_, err := r.db.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		s.ID, s.UserID, s.CreatedAt, s.LastSeenAt, s.UserAgent, s.IPPrefix, s.RevokedAt)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// Revoke ends userID's live session id.
func (r Sessions) Revoke(ctx context.Context, userID, id uuid.UUID, at time.Time) error {
	tag, err := r.db.Exec(ctx, `UPDATE sessions SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
		id, userID, at)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.ErrNotFound, "session not found")
	}
	return nil
}

// RevokeAll ends userID's live sessions but except.
func (r Sessions) RevokeAll(ctx context.Context, userID, except uuid.UUID, at time.Time) (int64, error) {
	tag, err := r.db.Exec(ctx, `UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL`,
		userID, except, at)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Use reports whether the session is live and its account not deleted: one
// read. When last_seen_at is more than a minute old it is moved forward in
// the background, without waiting for the commit's flush: an access check
// must not wait on a disk write, and a lost "last seen" costs nothing.
func (r Sessions) Use(ctx context.Context, userID, sessionID uuid.UUID) (bool, error) {
	var stale bool
	err := r.db.QueryRow(ctx, `SELECT s.last_seen_at < now() - interval '1 minute'
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND u.deleted_at IS NULL`, sessionID, userID).Scan(&stale)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("use session: %w", err)
	}
	if stale {
		r.touch(ctx, sessionID)
	}
	return true, nil
}

// touch moves the session's last_seen_at to now, in the background when the
// repository has a pool of its own (else in this statement).
func (r Sessions) touch(ctx context.Context, id uuid.UUID) {
	const q = `UPDATE sessions SET last_seen_at = now() WHERE id = $1 AND last_seen_at < now() - interval '1 minute'`
	if r.touches == nil {
		_, _ = r.db.Exec(ctx, q, id)
		return
	}
	select {
	case r.touches <- struct{}{}:
	default:
		return // enough in flight; a later use tries again
	}
	go func() {
		defer func() { <-r.touches }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, q, id)
			return err
		})
	}()
}

// LiveByUser lists userID's live sessions, newest first.
func (r Sessions) LiveByUser(ctx context.Context, userID uuid.UUID) ([]domain.Session, error) {
	rows, err := r.db.Query(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	ss, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Session, error) { return scanSession(row) })
	if err != nil {
		return nil, fmt.Errorf("scan sessions: %w", err)
	}
	return ss, nil
}

// LiveSessionsByUser lists a user's live sessions.
func (r *ReadModel) LiveSessionsByUser(ctx context.Context, userID uuid.UUID) ([]domain.Session, error) {
	return Sessions{db: r.pool}.LiveByUser(ctx, userID)
}

// Accounts erases what an account made (command.AccountEraser).
type Accounts struct {
	db interface {
		SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	}
}

var _ command.AccountEraser = Accounts{}

// EraseContent tombstones the user's live thoughts (the columns
// domain.Thought.Tombstone clears; the triggers take live replies off their
// parents' counts) and deletes their interactions, graph edges and
// notifications, in one round trip.
func (r Accounts) EraseContent(ctx context.Context, userID uuid.UUID, at time.Time) error {
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE thoughts SET content = '', content_warning = '', sensitive = false, deleted_at = $2
		WHERE author_id = $1 AND deleted_at IS NULL`, userID, at)
	batch.Queue(`DELETE FROM likes WHERE user_id = $1`, userID)
	batch.Queue(`DELETE FROM boosts WHERE user_id = $1`, userID)
	batch.Queue(`DELETE FROM follows WHERE follower_id = $1 OR following_id = $1`, userID)
	batch.Queue(`DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1`, userID)
	batch.Queue(`DELETE FROM top_friends WHERE user_id = $1 OR friend_id = $1`, userID)
	batch.Queue(`DELETE FROM notifications WHERE recipient_id = $1 OR actor_id = $1`, userID)
	if err := r.db.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("erase content of %s: %w", userID, err)
	}
	return nil
}
