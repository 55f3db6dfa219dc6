package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// UnblockUser lifts a block.
type UnblockUser struct {
	BlockerID uuid.UUID
	Username  string
}

// UnblockUserHandler lifts blocks.
type UnblockUserHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle removes the block and appends UserUnblocked; without a block it
// changes nothing and appends nothing. Follows removed by the block are not
// restored. It returns the relationship afterwards.
func (h UnblockUserHandler) Handle(ctx context.Context, cmd UnblockUser) (domain.Relationship, error) {
	now := h.Clock()
	var rel domain.Relationship
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		target, err := userNamed(ctx, tx, cmd.Username)
		if err != nil {
			return err
		}
		if err := tx.Graph().LockPair(ctx, cmd.BlockerID, target.ID); err != nil {
			return err
		}
		removed, err := tx.Graph().RemoveBlock(ctx, cmd.BlockerID, target.ID)
		if err != nil {
			return err
		}
		if removed {
			ev := events.UserUnblocked{BlockerID: cmd.BlockerID, BlockedID: target.ID}
			if err := tx.Publish(ctx, events.New(ctx, cmd.BlockerID, ev, now)); err != nil {
				return err
			}
		}
		rel, err = tx.Graph().Relationship(ctx, cmd.BlockerID, target.ID)
		return err
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("unblock %q: %w", cmd.Username, err)
	}
	return rel, nil
}
