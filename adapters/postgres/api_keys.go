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

// APIKeys is the API key repository.
type APIKeys struct{ db querier }

var _ domain.APIKeyRepository = APIKeys{}

// NewAPIKeys is the API key repository on the pool, each call a statement
// committed on its own: what authentication needs (command.APIKeyUsage).
func NewAPIKeys(pool *pgxpool.Pool) APIKeys { return APIKeys{db: pool} }

var _ command.APIKeyUsage = APIKeys{}

const apiKeyColumns = `id, user_id, name, secret_hash, created_at, last_used_at, revoked_at, scopes`

func scanAPIKey(row pgx.Row) (domain.APIKey, error) {
	var k domain.APIKey
	var scopes []string
	err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.SecretHash, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt, &scopes)
	for _, s := range scopes {
		k.Scopes = append(k.Scopes, domain.APIKeyScope(s))
	}
	return k, err
}

// Create inserts a key.
func (r APIKeys) Create(ctx context.Context, k domain.APIKey) error {
	scopes := make([]string, 0, len(k.Scopes))
	for _, s := range k.Scopes {
		scopes = append(scopes, string(s))
	}
	_, err := r.db.Exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		k.ID, k.UserID, k.Name, k.SecretHash, k.CreatedAt, k.LastUsedAt, k.RevokedAt, scopes)
	if err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// ByID loads a key.
func (r APIKeys) ByID(ctx context.Context, id uuid.UUID) (domain.APIKey, error) {
	k, err := scanAPIKey(r.db.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id))
	if err != nil {
		return domain.APIKey{}, notFound(err, "API key")
	}
	return k, nil
}

// ListByUser lists a user's keys, newest first.
func (r APIKeys) ListByUser(ctx context.Context, userID uuid.UUID) ([]domain.APIKey, error) {
	rows, err := r.db.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.APIKey, error) { return scanAPIKey(row) })
	if err != nil {
		return nil, fmt.Errorf("scan api keys: %w", err)
	}
	return keys, nil
}

// LockAndCountLive locks the owner's users row (FOR NO KEY UPDATE: it does
// not block the foreign-key checks of the owner's posts and likes), then
// counts their live keys. Two statements, not one: under READ COMMITTED a
// statement reads the snapshot taken when it began, before any wait for the
// lock, and would miss the key of the transaction it waited for.
func (r APIKeys) LockAndCountLive(ctx context.Context, userID uuid.UUID) (int, error) {
	if _, err := r.db.Exec(ctx, `SELECT FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID); err != nil {
		return 0, fmt.Errorf("lock api key owner: %w", err)
	}
	var n int
	err := r.db.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count live api keys: %w", err)
	}
	return n, nil
}

// Revoke marks a key of userID revoked (idempotent for an already revoked key).
func (r APIKeys) Revoke(ctx context.Context, userID, keyID uuid.UUID) error {
	tag, err := r.db.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND user_id = $2`, keyID, userID)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.ErrNotFound, "API key not found")
	}
	return nil
}

// Touch records use of a key, at most once a minute, to keep writes off the
// hot path of every authenticated request.
func (r APIKeys) Touch(ctx context.Context, keyID uuid.UUID) error {
	_, err := r.db.Exec(ctx, `UPDATE api_keys SET last_used_at = now()
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, keyID)
	if err != nil {
		return fmt.Errorf("touch api key: %w", err)
	}
	return nil
}

// RevokeAll revokes every live key of userID.
func (r APIKeys) RevokeAll(ctx context.Context, userID uuid.UUID, at time.Time) (int64, error) {
	tag, err := r.db.Exec(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, at)
	if err != nil {
		return 0, fmt.Errorf("revoke api keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
