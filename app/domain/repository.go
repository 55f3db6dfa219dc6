package domain

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// UserRepository stores accounts.
type UserRepository interface {
	// Create stores a new user; a taken username is ErrConflict (wrapped in a
	// DetailedError). Email addresses need not be unique.
	Create(ctx context.Context, u User) error
	// ByID and ByUsername find live accounts only (not deleted ones).
	ByID(ctx context.Context, id uuid.UUID) (User, error)
	// ByUsername matches case-insensitively.
	ByUsername(ctx context.Context, username string) (User, error)
	// Update saves the editable profile fields of u.
	Update(ctx context.Context, u User) error
	// SetPassword replaces the user's password hash.
	SetPassword(ctx context.Context, id uuid.UUID, passwordHash string, at time.Time) error
	// Delete scrubs the account (email, password, profile) and marks it
	// deleted; its row stays, so its username stays taken. The account then
	// no longer exists for ByID and ByUsername.
	Delete(ctx context.Context, id uuid.UUID, at time.Time) error
}

// ThoughtRepository stores thoughts (including tombstones).
type ThoughtRepository interface {
	Create(ctx context.Context, t Thought) error
	// ByID returns the thought, tombstone or not; inside a transaction the row is
	// locked for update.
	ByID(ctx context.Context, id uuid.UUID) (Thought, error)
	// Update saves content, warning, sensitivity, edit and deletion times.
	Update(ctx context.Context, t Thought) error
}

// APIKeyRepository stores API keys.
type APIKeyRepository interface {
	Create(ctx context.Context, k APIKey) error
	ByID(ctx context.Context, id uuid.UUID) (APIKey, error)
	ListByUser(ctx context.Context, userID uuid.UUID) ([]APIKey, error)
	// LockAndCountLive counts userID's live (unrevoked) keys after taking a
	// lock, held until the transaction ends, that makes other transactions
	// doing the same for userID wait: a check of the count followed by
	// Create is then atomic.
	LockAndCountLive(ctx context.Context, userID uuid.UUID) (int, error)
	// Revoke marks the user's key revoked; an unknown or foreign key is ErrNotFound.
	Revoke(ctx context.Context, userID, keyID uuid.UUID) error
	// Touch records that the key was used.
	Touch(ctx context.Context, keyID uuid.UUID) error
	// RevokeAll revokes every live key of userID and returns how many.
	RevokeAll(ctx context.Context, userID uuid.UUID, at time.Time) (int64, error)
}
