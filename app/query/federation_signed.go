package query

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// NoteForHostReads is what NoteForHostHandler reads.
type NoteForHostReads interface {
	NoteReads
	ProfileByUsername(ctx context.Context, viewer Viewer, username string) (Profile, error)
	// FollowerOnHost returns a live account of host that follows userID
	// (accepted), or ErrNotFound.
	FollowerOnHost(ctx context.Context, userID uuid.UUID, host string) (uuid.UUID, error)
}

// NoteForHostHandler returns a thought for a signed fetch made by a server:
// what anyone may see, and followers-only thoughts too when one of the
// author's followers is an account of that server (its server delivers to
// that follower anyway).
type NoteForHostHandler struct{ Reads NoteForHostReads }

// Handle returns the thought id by username as host may see it.
func (h NoteForHostHandler) Handle(ctx context.Context, username string, id uuid.UUID, host string) (NoteView, error) {
	v, err := h.Reads.Thought(ctx, nil, id)
	if errors.Is(err, domain.ErrNotFound) && host != "" {
		v, err = h.asFollower(ctx, username, id, host)
	}
	if err != nil {
		return NoteView{}, fmt.Errorf("load thought %s: %w", id, err)
	}
	if !strings.EqualFold(v.Author.Username, username) {
		return NoteView{}, domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	return withParentAuthor(ctx, h.Reads, v, map[uuid.UUID]string{})
}

func (h NoteForHostHandler) asFollower(ctx context.Context, username string, id uuid.UUID, host string) (ThoughtView, error) {
	username = strings.ToLower(username)
	if domain.ValidateUsername(username) != nil {
		return ThoughtView{}, domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	p, err := h.Reads.ProfileByUsername(ctx, nil, username)
	if err != nil {
		return ThoughtView{}, err
	}
	follower, err := h.Reads.FollowerOnHost(ctx, p.ID, strings.ToLower(host))
	if err != nil {
		return ThoughtView{}, err
	}
	return h.Reads.Thought(ctx, &follower, id)
}
