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
	// Remote resolves name@host; nil: remote accounts are not found.
	Remote RemoteAccounts
}

// Handle removes the block and appends UserUnblocked; without a block it
// changes nothing and appends nothing. Follows removed by the block are not
// restored. It returns the relationship afterwards.
func (h UnblockUserHandler) Handle(ctx context.Context, cmd UnblockUser) (domain.Relationship, error) {
	now := h.Clock()
	rel, err := changeRelationshipWith(ctx, h.UoW, h.Remote, cmd.BlockerID, cmd.Username, func(ctx context.Context, tx Tx, target domain.User) error {
		removed, err := tx.Graph().RemoveBlock(ctx, cmd.BlockerID, target.ID)
		if err != nil || !removed {
			return err
		}
		ev := events.UserUnblocked{BlockerID: cmd.BlockerID, BlockedID: target.ID}
		return tx.Publish(ctx, events.New(ctx, cmd.BlockerID, ev, now))
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("unblock %q: %w", cmd.Username, err)
	}
	return rel, nil
}
