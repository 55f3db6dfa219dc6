// Package query holds the read use cases. Visibility is enforced by the read
// model on every read: a thought the viewer may not see does not exist for them.
package query

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// Viewer is who is reading: nil for an anonymous client.
type Viewer = *uuid.UUID

// UserSummary is how a user appears next to their content.
type UserSummary struct {
	ID          uuid.UUID
	Username    string
	DisplayName string
}

// ThoughtView is a thought as a viewer sees it.
type ThoughtView struct {
	domain.Thought
	Author       UserSummary
	RepliesCount int
	LikesCount   int
	BoostsCount  int
	// Liked and Boosted say whether the viewer liked / boosted it (false for
	// an anonymous viewer).
	Liked   bool
	Boosted bool
}

// Profile is a user's public profile.
type Profile struct {
	ID          uuid.UUID
	Username    string
	DisplayName string
	Bio         string
	Locked      bool
	CreatedAt   time.Time
	// Thoughts counts the live thoughts the viewer may see.
	Thoughts int
	// Followers and Following count accepted follows.
	Followers  int
	Following  int
	TopFriends []UserSummary
}

// ReadModel answers the queries. Every thought-returning method applies the
// visibility rules for viewer.
type ReadModel interface {
	NotificationReads
	SocialReads
	UserByID(ctx context.Context, id uuid.UUID) (domain.User, error)
	// ProfileByUsername returns a profile as viewer sees it (Thoughts counts
	// only the live thoughts viewer may see).
	ProfileByUsername(ctx context.Context, viewer Viewer, username string) (Profile, error)
	// Thought returns a visible thought (tombstones included) or ErrNotFound.
	Thought(ctx context.Context, viewer Viewer, id uuid.UUID) (ThoughtView, error)
	// Ancestors returns the visible ancestors of id, root first, at most limit.
	Ancestors(ctx context.Context, viewer Viewer, id uuid.UUID, limit int) ([]ThoughtView, error)
	// Descendants returns visible replies under id, oldest first, at most limit.
	Descendants(ctx context.Context, viewer Viewer, id uuid.UUID, limit int) ([]ThoughtView, error)
	// ThoughtsByAuthor lists an author's live thoughts visible to viewer, newest first.
	ThoughtsByAuthor(ctx context.Context, viewer Viewer, authorID uuid.UUID, page domain.Page) ([]ThoughtView, error)
	APIKeysByUser(ctx context.Context, userID uuid.UUID) ([]domain.APIKey, error)
	APIKeyByID(ctx context.Context, id uuid.UUID) (domain.APIKey, error)
	TouchAPIKey(ctx context.Context, id uuid.UUID) error
}
