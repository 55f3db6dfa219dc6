package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

// Sessions is the session repository.
type Sessions struct{ db querier }

var _ domain.SessionRepository = Sessions{}

// NewSessions is the session repository on the pool, each call a statement
// committed on its own: what authentication needs (command.SessionUsage).
func NewSessions(pool *pgxpool.Pool) Sessions { return Sessions{db: pool} }

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

// Use reports whether the session is live and its account not deleted, and
// moves last_seen_at forward when it is more than a minute old: one
// statement, a write only once a minute per session.
func (r Sessions) Use(ctx context.Context, userID, sessionID uuid.UUID) (bool, error) {
	var live bool
	err := r.db.QueryRow(ctx, `WITH s AS (
			SELECT s.id, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND u.deleted_at IS NULL
		), touched AS (
			UPDATE sessions t SET last_seen_at = now() FROM s
			WHERE t.id = s.id AND s.last_seen_at < now() - interval '1 minute'
		)
		SELECT EXISTS (SELECT 1 FROM s)`, sessionID, userID).Scan(&live)
	if err != nil {
		return false, fmt.Errorf("use session: %w", err)
	}
	return live, nil
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
type Accounts struct{ db pgx.Tx }

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
