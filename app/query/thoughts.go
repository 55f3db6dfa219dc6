package query

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// ThoughtHandler returns one thought.
type ThoughtHandler struct{ Reads ReadModel }

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

// ThoughtContextHandler returns a thought's ancestors and descendants.
type ThoughtContextHandler struct{ Reads ReadModel }

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

// UserThoughtsHandler lists a user's thoughts.
type UserThoughtsHandler struct{ Reads ReadModel }

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

// APIKeysHandler lists the caller's API keys (never their secrets).
type APIKeysHandler struct{ Reads ReadModel }

// Handle lists keys, newest first.
func (h APIKeysHandler) Handle(ctx context.Context, userID uuid.UUID) ([]domain.APIKey, error) {
	keys, err := h.Reads.APIKeysByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list api keys of %s: %w", userID, err)
	}
	return keys, nil
}

// AuthenticateAPIKeyHandler resolves an API key token to its user.
type AuthenticateAPIKeyHandler struct{ Reads ReadModel }

var errBadKey = domain.Errorf(domain.ErrUnauthenticated, "invalid or revoked API key")

// Handle returns the key (its user and scopes) if the token is a live key,
// comparing the secret in constant time.
func (h AuthenticateAPIKeyHandler) Handle(ctx context.Context, token string) (domain.APIKey, error) {
	id, secretHash, ok := domain.ParseAPIKeyToken(token)
	if !ok {
		return domain.APIKey{}, errBadKey
	}
	k, err := h.Reads.APIKeyByID(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.APIKey{}, errBadKey
	}
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("load api key %s: %w", id, err)
	}
	if !k.Matches(secretHash) || k.RevokedAt != nil {
		return domain.APIKey{}, errBadKey
	}
	if err := h.Reads.TouchAPIKey(ctx, id); err != nil {
		return domain.APIKey{}, fmt.Errorf("touch api key %s: %w", id, err)
	}
	return k, nil
}
