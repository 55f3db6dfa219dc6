package query

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// RelationshipHandler tells how the viewer stands with another user.
type RelationshipHandler struct{ Reads ReadModel }

// Handle loads the relationship of viewer with other.
func (h RelationshipHandler) Handle(ctx context.Context, viewer, other uuid.UUID) (domain.Relationship, error) {
	rel, err := h.Reads.Relationship(ctx, viewer, other)
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("load relationship with %s: %w", other, err)
	}
	return rel, nil
}

// FollowersHandler lists a user's followers.
type FollowersHandler struct{ Reads ReadModel }

// Handle lists the accepted followers of username, newest follow first.
func (h FollowersHandler) Handle(ctx context.Context, username string, page domain.Page) ([]ListedUser, error) {
	p, err := UserProfileHandler(h).Handle(ctx, nil, username)
	if err != nil {
		return nil, err
	}
	list, err := h.Reads.Followers(ctx, p.ID, page)
	if err != nil {
		return nil, fmt.Errorf("list followers of %s: %w", p.ID, err)
	}
	return list, nil
}

// FollowingHandler lists whom a user follows.
type FollowingHandler struct{ Reads ReadModel }

// Handle lists the accounts username follows, newest follow first.
func (h FollowingHandler) Handle(ctx context.Context, username string, page domain.Page) ([]ListedUser, error) {
	p, err := UserProfileHandler(h).Handle(ctx, nil, username)
	if err != nil {
		return nil, err
	}
	list, err := h.Reads.Following(ctx, p.ID, page)
	if err != nil {
		return nil, fmt.Errorf("list following of %s: %w", p.ID, err)
	}
	return list, nil
}

// FollowRequestsHandler lists the follow requests a user has to answer.
type FollowRequestsHandler struct{ Reads ReadModel }

// Handle lists who asked to follow userID, newest request first.
func (h FollowRequestsHandler) Handle(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error) {
	list, err := h.Reads.FollowRequests(ctx, userID, page)
	if err != nil {
		return nil, fmt.Errorf("list follow requests of %s: %w", userID, err)
	}
	return list, nil
}

// BlocksHandler lists whom a user blocks.
type BlocksHandler struct{ Reads ReadModel }

// Handle lists the accounts userID blocks, newest block first.
func (h BlocksHandler) Handle(ctx context.Context, userID uuid.UUID, page domain.Page) ([]ListedUser, error) {
	list, err := h.Reads.Blocks(ctx, userID, page)
	if err != nil {
		return nil, fmt.Errorf("list blocks of %s: %w", userID, err)
	}
	return list, nil
}

// LikedByHandler lists who liked a thought.
type LikedByHandler struct{ Reads ReadModel }

// Handle lists the likers of a thought the viewer may see (ErrNotFound if not,
// ErrGone for a tombstone), newest like first.
func (h LikedByHandler) Handle(ctx context.Context, viewer Viewer, thoughtID uuid.UUID, page domain.Page) ([]ListedUser, error) {
	if _, err := (ThoughtHandler{h.Reads}).Handle(ctx, viewer, thoughtID); err != nil {
		return nil, err
	}
	list, err := h.Reads.LikedBy(ctx, thoughtID, page)
	if err != nil {
		return nil, fmt.Errorf("list likes of %s: %w", thoughtID, err)
	}
	return list, nil
}

// BoostedByHandler lists who boosted a thought.
type BoostedByHandler struct{ Reads ReadModel }

// Handle lists the boosters of a thought the viewer may see (ErrNotFound if
// not, ErrGone for a tombstone), newest boost first.
func (h BoostedByHandler) Handle(ctx context.Context, viewer Viewer, thoughtID uuid.UUID, page domain.Page) ([]ListedUser, error) {
	if _, err := (ThoughtHandler{h.Reads}).Handle(ctx, viewer, thoughtID); err != nil {
		return nil, err
	}
	list, err := h.Reads.BoostedBy(ctx, thoughtID, page)
	if err != nil {
		return nil, fmt.Errorf("list boosts of %s: %w", thoughtID, err)
	}
	return list, nil
}

// TopFriendsHandler lists a user's top friends.
type TopFriendsHandler struct{ Reads ReadModel }

// Handle lists userID's top friends in their order.
func (h TopFriendsHandler) Handle(ctx context.Context, userID uuid.UUID) ([]UserSummary, error) {
	list, err := h.Reads.TopFriends(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list top friends of %s: %w", userID, err)
	}
	return list, nil
}
