package query

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// ListedUser is a user in a paginated list; Cursor is the ID of the entry that
// put them there (the follow, like, boost or block), used as max_id/min_id.
type ListedUser struct {
	Cursor uuid.UUID
	UserSummary
}

// RelationshipReads is what RelationshipHandler reads.
type RelationshipReads interface {
	// Relationship reports how viewer stands with other.
	Relationship(ctx context.Context, viewer, other uuid.UUID) (domain.Relationship, error)
}

// RelationshipHandler tells how the viewer stands with another user.
type RelationshipHandler struct{ Reads RelationshipReads }

// Handle loads the relationship of viewer with other.
func (h RelationshipHandler) Handle(ctx context.Context, viewer, other uuid.UUID) (domain.Relationship, error) {
	rel, err := h.Reads.Relationship(ctx, viewer, other)
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("load relationship with %s: %w", other, err)
	}
	return rel, nil
}

// FollowersReads is what FollowersHandler reads.
type FollowersReads interface {
	UserProfileReads
	// Followers lists the accepted followers of userID, newest follow first.
	Followers(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error)
}

// FollowersHandler lists a user's followers.
type FollowersHandler struct{ Reads FollowersReads }

// Handle lists the accepted followers of username, newest follow first.
func (h FollowersHandler) Handle(ctx context.Context, username string, page domain.Page) ([]ListedUser, error) {
	p, err := UserProfileHandler{Reads: h.Reads}.Handle(ctx, nil, username)
	if err != nil {
		return nil, err
	}
	list, err := h.Reads.Followers(ctx, p.ID, page)
	if err != nil {
		return nil, fmt.Errorf("list followers of %s: %w", p.ID, err)
	}
	return list, nil
}

// FollowingReads is what FollowingHandler reads.
type FollowingReads interface {
	UserProfileReads
	// Following lists whom userID follows (accepted), newest follow first.
	Following(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error)
}

// FollowingHandler lists whom a user follows.
type FollowingHandler struct{ Reads FollowingReads }

// Handle lists the accounts username follows, newest follow first.
func (h FollowingHandler) Handle(ctx context.Context, username string, page domain.Page) ([]ListedUser, error) {
	p, err := UserProfileHandler{Reads: h.Reads}.Handle(ctx, nil, username)
	if err != nil {
		return nil, err
	}
	list, err := h.Reads.Following(ctx, p.ID, page)
	if err != nil {
		return nil, fmt.Errorf("list following of %s: %w", p.ID, err)
	}
	return list, nil
}

// FollowRequestsReads is what FollowRequestsHandler reads.
type FollowRequestsReads interface {
	// FollowRequests lists who asked to follow userID, newest request first.
	FollowRequests(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error)
}

// FollowRequestsHandler lists the follow requests a user has to answer.
type FollowRequestsHandler struct{ Reads FollowRequestsReads }

// Handle lists who asked to follow userID, newest request first.
func (h FollowRequestsHandler) Handle(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error) {
	list, err := h.Reads.FollowRequests(ctx, userID, page)
	if err != nil {
		return nil, fmt.Errorf("list follow requests of %s: %w", userID, err)
	}
	return list, nil
}

// BlocksReads is what BlocksHandler reads.
type BlocksReads interface {
	// Blocks lists whom userID blocks, newest block first.
	Blocks(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error)
}

// BlocksHandler lists whom a user blocks.
type BlocksHandler struct{ Reads BlocksReads }

// Handle lists the accounts userID blocks, newest block first.
func (h BlocksHandler) Handle(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error) {
	list, err := h.Reads.Blocks(ctx, userID, page)
	if err != nil {
		return nil, fmt.Errorf("list blocks of %s: %w", userID, err)
	}
	return list, nil
}

// LikedByReads is what LikedByHandler reads.
type LikedByReads interface {
	ThoughtReads
	// LikedBy lists who liked the thought, newest like first.
	LikedBy(ctx context.Context, thoughtID uuid.UUID, page domain.Page) ([]ListedUser, error)
}

// LikedByHandler lists who liked a thought.
type LikedByHandler struct{ Reads LikedByReads }

// Handle lists the likers of a thought the viewer may see (ErrNotFound if not,
// ErrGone for a tombstone), newest like first.
func (h LikedByHandler) Handle(ctx context.Context, viewer Viewer, thoughtID uuid.UUID, page domain.Page) ([]ListedUser, error) {
	if _, err := (ThoughtHandler{Reads: h.Reads}).Handle(ctx, viewer, thoughtID); err != nil {
		return nil, err
	}
	list, err := h.Reads.LikedBy(ctx, thoughtID, page)
	if err != nil {
		return nil, fmt.Errorf("list likes of %s: %w", thoughtID, err)
	}
	return list, nil
}

// BoostedByReads is what BoostedByHandler reads.
type BoostedByReads interface {
	ThoughtReads
	// BoostedBy lists who boosted the thought, newest boost first.
	BoostedBy(ctx context.Context, thoughtID uuid.UUID, page domain.Page) ([]ListedUser, error)
}

// BoostedByHandler lists who boosted a thought.
type BoostedByHandler struct{ Reads BoostedByReads }

// Handle lists the boosters of a thought the viewer may see (ErrNotFound if
// not, ErrGone for a tombstone), newest boost first.
func (h BoostedByHandler) Handle(ctx context.Context, viewer Viewer, thoughtID uuid.UUID, page domain.Page) ([]ListedUser, error) {
	if _, err := (ThoughtHandler{Reads: h.Reads}).Handle(ctx, viewer, thoughtID); err != nil {
		return nil, err
	}
	list, err := h.Reads.BoostedBy(ctx, thoughtID, page)
	if err != nil {
		return nil, fmt.Errorf("list boosts of %s: %w", thoughtID, err)
	}
	return list, nil
}

// TopFriendsReads is what TopFriendsHandler reads.
type TopFriendsReads interface {
	// TopFriends lists userID's top friends in their order.
	TopFriends(ctx context.Context, userID uuid.UUID) ([]UserSummary, error)
}

// TopFriendsHandler lists a user's top friends.
type TopFriendsHandler struct{ Reads TopFriendsReads }

// Handle lists userID's top friends in their order.
func (h TopFriendsHandler) Handle(ctx context.Context, userID uuid.UUID) ([]UserSummary, error) {
	list, err := h.Reads.TopFriends(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list top friends of %s: %w", userID, err)
	}
	return list, nil
}
