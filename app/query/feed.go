package query

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// FeedItem is one entry of a home feed: a thought, brought in either by its
// author or by a boost.
type FeedItem struct {
	// ID is the entry's cursor: the thought's ID for an original, the boost's
	// ID for a boost.
	ID uuid.UUID
	ThoughtView
	// BoostedBy is who boosted it into the feed; nil for an original.
	BoostedBy *UserSummary
}

// FeedReads is what FeedHandler reads.
type FeedReads interface {
	// Feed is viewer's home feed: their own thoughts, those of the accounts
	// they follow and those accounts' boosts, each thought once (its newest
	// entry wins), nothing by or boosted from users blocking or blocked by
	// viewer; newest first, paginated by FeedItem.ID.
	Feed(ctx context.Context, viewer uuid.UUID, page domain.Page) ([]FeedItem, error)
}

// FeedHandler reads home feeds.
type FeedHandler struct{ Reads FeedReads }

// Handle returns a page of viewer's home feed (see FeedReads).
func (h FeedHandler) Handle(ctx context.Context, viewer uuid.UUID, page domain.Page) ([]FeedItem, error) {
	items, err := h.Reads.Feed(ctx, viewer, page)
	if err != nil {
		return nil, fmt.Errorf("read feed of %s: %w", viewer, err)
	}
	return items, nil
}

// TagThoughtsReads is what TagThoughtsHandler reads.
type TagThoughtsReads interface {
	// TagThoughts lists the live thoughts tagged tag that viewer may see,
	// leaving out unlisted thoughts (except viewer's own) and the thoughts of
	// users blocking or blocked by viewer; newest first.
	TagThoughts(ctx context.Context, viewer Viewer, tag string, page domain.Page) ([]ThoughtView, error)
}

// TagThoughtsHandler lists the thoughts with a hashtag.
type TagThoughtsHandler struct{ Reads TagThoughtsReads }

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
