package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// CreateAPIKey makes a new API key for the caller.
type CreateAPIKey struct {
	UserID uuid.UUID
	Name   string
	// Scopes requested; nil means domain.DefaultAPIKeyScopes.
	Scopes []string
}

// MaxAPIKeysPerUser bounds how many live keys one account may hold.
const MaxAPIKeysPerUser = 50

// CreateAPIKeyHandler creates API keys.
type CreateAPIKeyHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle stores the key's hash and returns the key with its secret token, which
// is never retrievable again.
func (h CreateAPIKeyHandler) Handle(ctx context.Context, cmd CreateAPIKey) (domain.APIKey, string, error) {
	key, token, err := domain.NewAPIKey(newID(), cmd.UserID, cmd.Name, cmd.Scopes, h.Clock())
	if err != nil {
		return domain.APIKey{}, "", err
	}
	err = h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		// Concurrent creations for one user wait here for each other, so
		// the count cannot be stale by the time the key is stored.
		live, err := tx.APIKeys().LockAndCountLive(ctx, cmd.UserID)
		if err != nil {
			return err
		}
		if live >= MaxAPIKeysPerUser {
			return domain.Errorf(domain.ErrUnprocessable, "at most %d API keys may be active; revoke one first", MaxAPIKeysPerUser)
		}
		return tx.APIKeys().Create(ctx, key)
	})
	if err != nil {
		return domain.APIKey{}, "", fmt.Errorf("create api key for %s: %w", cmd.UserID, err)
	}
	return key, token, nil
}

// RevokeAPIKey revokes one of the caller's keys.
type RevokeAPIKey struct {
	UserID uuid.UUID
	KeyID  uuid.UUID
}

// RevokeAPIKeyHandler revokes API keys.
type RevokeAPIKeyHandler struct {
	UoW UnitOfWork
}

// Handle revokes the key; another user's key is ErrNotFound.
func (h RevokeAPIKeyHandler) Handle(ctx context.Context, cmd RevokeAPIKey) error {
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		return tx.APIKeys().Revoke(ctx, cmd.UserID, cmd.KeyID)
	})
	if err != nil {
		return fmt.Errorf("revoke api key %s: %w", cmd.KeyID, err)
	}
	return nil
}
