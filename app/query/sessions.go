package query

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// SessionsReads is what SessionsHandler reads.
type SessionsReads interface {
	// LiveSessionsByUser lists a user's live (unrevoked) sessions, newest
	// first.
	LiveSessionsByUser(ctx context.Context, userID uuid.UUID) ([]domain.Session, error)
}

// SessionsHandler lists the caller's live sessions.
type SessionsHandler struct{ Reads SessionsReads }

// Handle lists live sessions, newest first.
func (h SessionsHandler) Handle(ctx context.Context, userID uuid.UUID) ([]domain.Session, error) {
	ss, err := h.Reads.LiveSessionsByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions of %s: %w", userID, err)
	}
	return ss, nil
}
