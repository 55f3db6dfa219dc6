package query

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// The reads behind the ActivityPub documents. Remote servers fetch without
// a local viewer, so every read here is an anonymous one: public and unlisted
// thoughts only (followers-only ones need a signed fetch from a follower's
// server, which is not served yet).

// NoteView is a thought as a Note needs it: with the username of the author
// of the thought it replies to, to name the parent's IRI.
type NoteView struct {
	ThoughtView
	// InReplyToAuthor is the parent's author's username ("" for none or
	// for a parent the anonymous reader may not see).
	InReplyToAuthor string
}

// NoteReads is what NoteHandler reads.
type NoteReads interface {
	Thought(ctx context.Context, viewer Viewer, id uuid.UUID) (ThoughtView, error)
	UserByID(ctx context.Context, id uuid.UUID) (domain.User, error)
}

// NoteHandler returns a thought for its Note document.
type NoteHandler struct{ Reads NoteReads }

// Handle returns the thought id by username, tombstones included (the
// caller renders a Tombstone). A thought that is not public or unlisted, or
// is not username's, is ErrNotFound.
func (h NoteHandler) Handle(ctx context.Context, username string, id uuid.UUID) (NoteView, error) {
	v, err := h.Reads.Thought(ctx, nil, id)
	if err != nil {
		return NoteView{}, fmt.Errorf("load thought %s: %w", id, err)
	}
	if !strings.EqualFold(v.Author.Username, username) {
		return NoteView{}, domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	return withParentAuthor(ctx, h.Reads, v, map[uuid.UUID]string{})
}

// withParentAuthor fills in the parent's author, looking each one up once
// per call (names caches them).
func withParentAuthor(ctx context.Context, reads NoteReads, v ThoughtView, names map[uuid.UUID]string) (NoteView, error) {
	nv := NoteView{ThoughtView: v}
	if v.InReplyToAuthorID == nil || v.Deleted() {
		return nv, nil
	}
	name, ok := names[*v.InReplyToAuthorID]
	if !ok {
		u, err := reads.UserByID(ctx, *v.InReplyToAuthorID)
		if err != nil {
			return NoteView{}, fmt.Errorf("load author of the parent of %s: %w", v.ID, err)
		}
		name = u.Username
		names[*v.InReplyToAuthorID] = name
	}
	nv.InReplyToAuthor = name
	return nv, nil
}

// OutboxReads is what OutboxHandler reads.
type OutboxReads interface {
	NoteReads
	ProfileByUsername(ctx context.Context, viewer Viewer, username string) (Profile, error)
	ThoughtsByAuthor(ctx context.Context, viewer Viewer, authorID uuid.UUID, page domain.Page) ([]ThoughtView, error)
}

// OutboxHandler lists a user's thoughts for their outbox.
type OutboxHandler struct{ Reads OutboxReads }

// Handle lists username's live public and unlisted thoughts, newest first.
func (h OutboxHandler) Handle(ctx context.Context, username string, page domain.Page) ([]NoteView, error) {
	username = strings.ToLower(username)
	if err := domain.ValidateUsername(username); err != nil {
		return nil, domain.Errorf(domain.ErrNotFound, "user not found")
	}
	p, err := h.Reads.ProfileByUsername(ctx, nil, username)
	if err != nil {
		return nil, fmt.Errorf("load profile %q: %w", username, err)
	}
	vs, err := h.Reads.ThoughtsByAuthor(ctx, nil, p.ID, page)
	if err != nil {
		return nil, fmt.Errorf("list thoughts of %s: %w", p.ID, err)
	}
	out := make([]NoteView, 0, len(vs))
	names := map[uuid.UUID]string{}
	for _, v := range vs {
		nv, err := withParentAuthor(ctx, h.Reads, v, names)
		if err != nil {
			return nil, err
		}
		out = append(out, nv)
	}
	return out, nil
}

// InstanceStats are the figures NodeInfo publishes.
type InstanceStats struct {
	Users int
	// ActiveMonth and ActiveHalfYear count users who posted in the last 30
	// and 180 days.
	ActiveMonth    int
	ActiveHalfYear int
	// LocalPosts counts live thoughts.
	LocalPosts int
}

// InstanceStatsReads is what InstanceStatsHandler reads.
type InstanceStatsReads interface {
	InstanceStats(ctx context.Context, now time.Time) (InstanceStats, error)
}

// InstanceStatsHandler returns the instance's usage figures.
type InstanceStatsHandler struct {
	Reads InstanceStatsReads
	Clock func() time.Time
}

// Handle counts users and posts as of now.
func (h InstanceStatsHandler) Handle(ctx context.Context) (InstanceStats, error) {
	now := time.Now()
	if h.Clock != nil {
		now = h.Clock()
	}
	s, err := h.Reads.InstanceStats(ctx, now)
	if err != nil {
		return InstanceStats{}, fmt.Errorf("count users and posts: %w", err)
	}
	return s, nil
}
