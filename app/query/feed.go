package query

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// FeedHandler reads home feeds.
type FeedHandler struct{ Reads ReadModel }

// Handle returns a page of viewer's home feed (see SocialReads.Feed).
func (h FeedHandler) Handle(ctx context.Context, viewer uuid.UUID, page domain.Page) ([]FeedItem, error) {
	items, err := h.Reads.Feed(ctx, viewer, page)
	if err != nil {
		return nil, fmt.Errorf("read feed of %s: %w", viewer, err)
	}
	return items, nil
}

// TagThoughtsHandler lists the thoughts with a hashtag.
type TagThoughtsHandler struct{ Reads ReadModel }

// Handle lists the visible, live thoughts tagged tag ("#Go" and "go" are the
// same tag), newest first; a malformed tag is ErrNotFound.
func (h TagThoughtsHandler) Handle(ctx context.Context, viewer Viewer, tag string, page domain.Page) ([]ThoughtView, error) {
	name, ok := domain.NormalizeTag(tag)
	if !ok {
		return nil, domain.Errorf(domain.ErrNotFound, "no such tag")
	}
	vs, err := h.Reads.TagThoughts(ctx, viewer, name, page)
	if err != nil {
		return nil, fmt.Errorf("list thoughts tagged %q: %w", name, err)
	}
	return vs, nil
}
