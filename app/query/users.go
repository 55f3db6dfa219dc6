package query

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// MeReads is what MeHandler reads.
type MeReads interface {
	// UserByID loads a user, or ErrNotFound.
	UserByID(ctx context.Context, id uuid.UUID) (domain.User, error)
}

// MeHandler returns the caller's own account.
type MeHandler struct{ Reads MeReads }

// Handle loads the user.
func (h MeHandler) Handle(ctx context.Context, userID uuid.UUID) (domain.User, error) {
	u, err := h.Reads.UserByID(ctx, userID)
	if err != nil {
		return domain.User{}, fmt.Errorf("load user %s: %w", userID, err)
	}
	return u, nil
}

// UserProfileReads is what UserProfileHandler reads.
type UserProfileReads interface {
	// ProfileByUsername loads a profile by username (case-insensitive), or
	// ErrNotFound.
	ProfileByUsername(ctx context.Context, viewer Viewer, username string) (Profile, error)
}

// UserProfileHandler returns a public profile.
type UserProfileHandler struct{ Reads UserProfileReads }

// Handle loads the profile by username (case-insensitive), as viewer sees it.
func (h UserProfileHandler) Handle(ctx context.Context, viewer Viewer, username string) (Profile, error) {
	username = strings.ToLower(username)
	if err := domain.ValidateUsername(username); err != nil {
		return Profile{}, domain.Errorf(domain.ErrNotFound, "user not found")
	}
	p, err := h.Reads.ProfileByUsername(ctx, viewer, username)
	if err != nil {
		return Profile{}, fmt.Errorf("load profile %q: %w", username, err)
	}
	return p, nil
}
