package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// AuthenticateSession checks that an access token's session is live.
type AuthenticateSession struct {
	UserID    uuid.UUID
	SessionID uuid.UUID
}

// SessionUsage is what checking a session needs, used outside a transaction
// (one statement, as for API keys: see APIKeyUsage).
type SessionUsage interface {
	// Use reports whether sessionID is a live session of userID whose
	// account exists, and records that it was just seen (at most once a
	// minute, to keep writes off the hot path).
	Use(ctx context.Context, userID, sessionID uuid.UUID) (bool, error)
}

// AuthenticateSessionHandler checks sessions. Recording when a session was
// last seen is a write, which is why this is a command.
type AuthenticateSessionHandler struct {
	Sessions SessionUsage
}

// Handle reports whether the session is live.
func (h AuthenticateSessionHandler) Handle(ctx context.Context, cmd AuthenticateSession) (bool, error) {
	live, err := h.Sessions.Use(ctx, cmd.UserID, cmd.SessionID)
	if err != nil {
		return false, fmt.Errorf("check session %s: %w", cmd.SessionID, err)
	}
	return live, nil
}

// RevokeSession ends one of the caller's sessions (their current one when
// signing out).
type RevokeSession struct {
	UserID    uuid.UUID
	SessionID uuid.UUID
}

// RevokeSessionHandler revokes sessions.
type RevokeSessionHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle revokes the session; another user's, an unknown or an already
// revoked session is ErrNotFound.
func (h RevokeSessionHandler) Handle(ctx context.Context, cmd RevokeSession) error {
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		return tx.Sessions().Revoke(ctx, cmd.UserID, cmd.SessionID, h.Clock())
	})
	if err != nil {
		return fmt.Errorf("revoke session %s: %w", cmd.SessionID, err)
	}
	return nil
}
