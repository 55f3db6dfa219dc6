package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// UnfollowUser stops following an account, or withdraws a pending request.
type UnfollowUser struct {
	FollowerID uuid.UUID
	Username   string
}

// UnfollowUserHandler unfollows accounts.
type UnfollowUserHandler struct {
	UoW   UnitOfWork
	Clock Clock
	// Remote resolves name@host; nil: remote accounts are not found.
	Remote RemoteAccounts
}

// Handle removes the follow and appends Unfollowed. A withdrawn pending request
// appends Unfollowed too: consumers (notifications, federation's Undo) learn
// that the follow relation from follower to following is gone, whatever state
// it had. Without a follow it changes nothing and appends nothing. It returns
// the relationship afterwards.
func (h UnfollowUserHandler) Handle(ctx context.Context, cmd UnfollowUser) (domain.Relationship, error) {
	now := h.Clock()
	rel, err := changeRelationshipWith(ctx, h.UoW, h.Remote, cmd.FollowerID, cmd.Username, func(ctx context.Context, tx Tx, target domain.User) error {
		_, removed, err := tx.Graph().RemoveFollow(ctx, cmd.FollowerID, target.ID)
		if err != nil || !removed {
			return err
		}
		ev := events.Unfollowed{FollowerID: cmd.FollowerID, FollowingID: target.ID}
		return tx.Publish(ctx, events.New(ctx, cmd.FollowerID, ev, now))
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("unfollow %q: %w", cmd.Username, err)
	}
	return rel, nil
}
