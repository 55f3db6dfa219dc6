package query

import (
	"context"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// ListedUser is a user in a paginated list; Cursor is the ID of the entry that
// put them there (the follow, like, boost or block), used as max_id/min_id.
type ListedUser struct {
	Cursor uuid.UUID
	UserSummary
}

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

// SocialReads answers the social graph, feed, tag and search queries.
type SocialReads interface {
	// Relationship reports how viewer stands with other.
	Relationship(ctx context.Context, viewer, other uuid.UUID) (domain.Relationship, error)
	// Followers lists the accepted followers of userID, newest follow first.
	Followers(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error)
	// Following lists whom userID follows (accepted), newest follow first.
	Following(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error)
	// FollowRequests lists who asked to follow userID, newest request first.
	FollowRequests(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error)
	// Blocks lists whom userID blocks, newest block first.
	Blocks(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error)
	// LikedBy lists who liked the thought, newest like first.
	LikedBy(ctx context.Context, thoughtID uuid.UUID, page domain.Page) ([]ListedUser, error)
	// BoostedBy lists who boosted the thought, newest boost first.
	BoostedBy(ctx context.Context, thoughtID uuid.UUID, page domain.Page) ([]ListedUser, error)
	// TopFriends lists userID's top friends in their order.
	TopFriends(ctx context.Context, userID uuid.UUID) ([]UserSummary, error)
	// Feed is viewer's home feed: their own thoughts, those of the accounts
	// they follow and those accounts' boosts, each thought once (its newest
	// entry wins), nothing by or boosted from users blocking or blocked by
	// viewer; newest first, paginated by FeedItem.ID.
	Feed(ctx context.Context, viewer uuid.UUID, page domain.Page) ([]FeedItem, error)
	// TagThoughts lists the live thoughts tagged tag that viewer may see,
	// leaving out unlisted thoughts (except viewer's own) and the thoughts of
	// users viewer blocks; newest first.
	TagThoughts(ctx context.Context, viewer Viewer, tag string, page domain.Page) ([]ThoughtView, error)
	// SearchThoughts full-text searches the live thoughts viewer may see
	// (leaving out what TagThoughts leaves out), most relevant first.
	SearchThoughts(ctx context.Context, viewer Viewer, q string, limit, offset int) ([]ThoughtView, error)
	// SearchUsers finds users whose username or display name starts with
	// prefix (case-insensitively), leaving out users blocking or blocked by
	// viewer.
	SearchUsers(ctx context.Context, viewer Viewer, prefix string, limit, offset int) ([]UserSummary, error)
	// SearchTags finds tags starting with prefix (lowercase), in name order,
	// among those of thoughts the tag page would show viewer.
	SearchTags(ctx context.Context, viewer Viewer, prefix string, limit, offset int) ([]string, error)
}
