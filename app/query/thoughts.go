package query

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// ThoughtReads is what ThoughtHandler reads.
type ThoughtReads interface {
	// Thought returns a visible thought (tombstones included) or ErrNotFound.
	Thought(ctx context.Context, viewer Viewer, id uuid.UUID) (ThoughtView, error)
}

// ThoughtHandler returns one thought.
type ThoughtHandler struct{ Reads ThoughtReads }

// Handle returns the thought if the viewer may see it: ErrNotFound if not, and
// ErrGone for a tombstone.
func (h ThoughtHandler) Handle(ctx context.Context, viewer Viewer, id uuid.UUID) (ThoughtView, error) {
	t, err := h.Reads.Thought(ctx, viewer, id)
	if err != nil {
		return ThoughtView{}, fmt.Errorf("load thought %s: %w", id, err)
	}
	if t.Deleted() {
		return ThoughtView{}, domain.Errorf(domain.ErrGone, "the thought was deleted")
	}
	return t, nil
}

// Limits of a thread context.
const (
	MaxAncestors   = 100
	MaxDescendants = 500
)

// ThreadContext is a thought's place in its conversation. Deleted thoughts
// appear as tombstones so the shape of the thread survives.
type ThreadContext struct {
	Ancestors   []ThoughtView
	Descendants []ThoughtView
}

// ThoughtContextReads is what ThoughtContextHandler reads.
type ThoughtContextReads interface {
	ThoughtReads
	// Ancestors returns the visible ancestors of id, root first, at most limit.
	Ancestors(ctx context.Context, viewer Viewer, id uuid.UUID, limit int) ([]ThoughtView, error)
	// Descendants returns visible replies under id, oldest first, at most limit.
	Descendants(ctx context.Context, viewer Viewer, id uuid.UUID, limit int) ([]ThoughtView, error)
}

// ThoughtContextHandler returns a thought's ancestors and descendants.
type ThoughtContextHandler struct{ Reads ThoughtContextReads }

// Handle loads the context of a visible thought (a tombstone has a context too).
func (h ThoughtContextHandler) Handle(ctx context.Context, viewer Viewer, id uuid.UUID) (ThreadContext, error) {
	if _, err := h.Reads.Thought(ctx, viewer, id); err != nil {
		return ThreadContext{}, fmt.Errorf("load thought %s: %w", id, err)
	}
	anc, err := h.Reads.Ancestors(ctx, viewer, id, MaxAncestors)
	if err != nil {
		return ThreadContext{}, fmt.Errorf("load ancestors of %s: %w", id, err)
	}
	desc, err := h.Reads.Descendants(ctx, viewer, id, MaxDescendants)
	if err != nil {
		return ThreadContext{}, fmt.Errorf("load descendants of %s: %w", id, err)
	}
	return ThreadContext{Ancestors: anc, Descendants: desc}, nil
}

// UserThoughtsReads is what UserThoughtsHandler reads.
type UserThoughtsReads interface {
	UserProfileReads
	// ThoughtsByAuthor lists an author's live thoughts visible to viewer, newest first.
	ThoughtsByAuthor(ctx context.Context, viewer Viewer, authorID uuid.UUID, page domain.Page) ([]ThoughtView, error)
}

// UserThoughtsHandler lists a user's thoughts.
type UserThoughtsHandler struct{ Reads UserThoughtsReads }

// Handle lists the visible, live thoughts of username, newest first.
func (h UserThoughtsHandler) Handle(ctx context.Context, viewer Viewer, username string, page domain.Page) ([]ThoughtView, error) {
	username = strings.ToLower(username)
	if err := domain.ValidateUsername(username); err != nil {
		return nil, domain.Errorf(domain.ErrNotFound, "user not found")
	}
	p, err := h.Reads.ProfileByUsername(ctx, viewer, username)
	if err != nil {
		return nil, fmt.Errorf("load user %q: %w", username, err)
	}
	ts, err := h.Reads.ThoughtsByAuthor(ctx, viewer, p.ID, page)
	if err != nil {
		return nil, fmt.Errorf("list thoughts of %s: %w", p.ID, err)
	}
	return ts, nil
}

// APIKeysReads is what APIKeysHandler reads.
type APIKeysReads interface {
	// APIKeysByUser lists a user's keys, revoked ones included, newest first.
	APIKeysByUser(ctx context.Context, userID uuid.UUID) ([]domain.APIKey, error)
}

// APIKeysHandler lists the caller's API keys (never their secrets).
type APIKeysHandler struct{ Reads APIKeysReads }

// Handle lists keys, newest first.
func (h APIKeysHandler) Handle(ctx context.Context, userID uuid.UUID) ([]domain.APIKey, error) {
	keys, err := h.Reads.APIKeysByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list api keys of %s: %w", userID, err)
	}
	return keys, nil
}
