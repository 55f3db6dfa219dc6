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
}

// Handle removes the follow and appends Unfollowed. A withdrawn pending request
// appends Unfollowed too: consumers (notifications, federation's Undo) learn
// that the follow relation from follower to following is gone, whatever state
// it had. Without a follow it changes nothing and appends nothing. It returns
// the relationship afterwards.
func (h UnfollowUserHandler) Handle(ctx context.Context, cmd UnfollowUser) (domain.Relationship, error) {
	now := h.Clock()
	var rel domain.Relationship
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		target, err := userNamed(ctx, tx, cmd.Username)
		if err != nil {
			return err
		}
		if err := tx.Graph().LockPair(ctx, cmd.FollowerID, target.ID); err != nil {
			return err
		}
		_, removed, err := tx.Graph().RemoveFollow(ctx, cmd.FollowerID, target.ID)
		if err != nil {
			return err
		}
		if removed {
			ev := events.Unfollowed{FollowerID: cmd.FollowerID, FollowingID: target.ID}
			if err := tx.Publish(ctx, events.New(ctx, cmd.FollowerID, ev, now)); err != nil {
				return err
			}
		}
		rel, err = tx.Graph().Relationship(ctx, cmd.FollowerID, target.ID)
		return err
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("unfollow %q: %w", cmd.Username, err)
	}
	return rel, nil
}
