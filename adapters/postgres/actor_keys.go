package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app/domain"
)

// ActorKeys stores the ActivityPub key pairs of local users (columns of
// users) and of the instance actor (table instance_actor).
type ActorKeys struct{ pool *pgxpool.Pool }

// NewActorKeys returns the key store on pool.
func NewActorKeys(pool *pgxpool.Pool) ActorKeys { return ActorKeys{pool: pool} }

var _ domain.ActorKeyRepository = ActorKeys{}

// UserKey loads a user's key pair (empty when they have none yet).
func (s ActorKeys) UserKey(ctx context.Context, userID uuid.UUID) (domain.KeyPair, error) {
	var pub, priv *string
	err := s.pool.QueryRow(ctx, `SELECT public_key_pem, private_key_pem FROM users WHERE id = $1`, userID).Scan(&pub, &priv)
	if err != nil {
		return domain.KeyPair{}, notFound(err, "user")
	}
	if pub == nil || priv == nil {
		return domain.KeyPair{}, nil
	}
	return domain.KeyPair{PublicKeyPEM: *pub, PrivateKeyPEM: *priv}, nil
}

// SetUserKeyIfAbsent stores k for a user without a key, in one conditional
// UPDATE: of concurrent callers exactly one stores, and all return that key.
func (s ActorKeys) SetUserKeyIfAbsent(ctx context.Context, userID uuid.UUID, k domain.KeyPair) (domain.KeyPair, error) {
	if k.Empty() || k.PrivateKeyPEM == "" {
		return domain.KeyPair{}, errors.New("set user key: empty key pair")
	}
	tag, err := s.pool.Exec(ctx, `UPDATE users SET public_key_pem = $2, private_key_pem = $3
		WHERE id = $1 AND public_key_pem IS NULL`, userID, k.PublicKeyPEM, k.PrivateKeyPEM)
	if err != nil {
		return domain.KeyPair{}, fmt.Errorf("store user key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return k, nil
	}
	// Someone stored a key first (or the user does not exist).
	stored, err := s.UserKey(ctx, userID)
	if err != nil {
		return domain.KeyPair{}, err
	}
	if stored.Empty() {
		return domain.KeyPair{}, fmt.Errorf("store user key: user %s kept no key", userID)
	}
	return stored, nil
}

// UsersWithoutKey lists keyless users after the cursor, by ID.
func (s ActorKeys) UsersWithoutKey(ctx context.Context, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM users WHERE public_key_pem IS NULL AND host IS NULL AND id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list users without a key: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("list users without a key: %w", err)
	}
	return ids, nil
}

// InstanceKey loads the instance actor's key pair (empty before it exists).
func (s ActorKeys) InstanceKey(ctx context.Context) (domain.KeyPair, error) {
	var k domain.KeyPair
	err := s.pool.QueryRow(ctx, `SELECT public_key_pem, private_key_pem FROM instance_actor`).Scan(&k.PublicKeyPEM, &k.PrivateKeyPEM)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.KeyPair{}, nil
	}
	if err != nil {
		return domain.KeyPair{}, fmt.Errorf("load instance key: %w", err)
	}
	return k, nil
}

// SetInstanceKeyIfAbsent creates the single instance actor row unless it
// exists, and returns the key it holds.
func (s ActorKeys) SetInstanceKeyIfAbsent(ctx context.Context, k domain.KeyPair) (domain.KeyPair, error) {
	if k.Empty() || k.PrivateKeyPEM == "" {
		return domain.KeyPair{}, errors.New("set instance key: empty key pair")
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO instance_actor (public_key_pem, private_key_pem, created_at)
		VALUES ($1, $2, $3) ON CONFLICT (singleton) DO NOTHING`, k.PublicKeyPEM, k.PrivateKeyPEM, time.Now().UTC()); err != nil {
		return domain.KeyPair{}, fmt.Errorf("store instance key: %w", err)
	}
	stored, err := s.InstanceKey(ctx)
	if err != nil {
		return domain.KeyPair{}, err
	}
	if stored.Empty() {
		return domain.KeyPair{}, errors.New("store instance key: no row after insert")
	}
	return stored, nil
}
