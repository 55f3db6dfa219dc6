package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/events"
)

// UnboostThought takes back a user's boost.
type UnboostThought struct {
	UserID    uuid.UUID
	ThoughtID uuid.UUID
}

// UnboostThoughtHandler removes boosts.
type UnboostThoughtHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle removes the boost and appends BoostRemoved; without a boost it changes
// nothing and appends nothing. The thought must be one the user may see.
func (h UnboostThoughtHandler) Handle(ctx context.Context, cmd UnboostThought) error {
	now := h.Clock()
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		t, err := interactable(ctx, tx, cmd.UserID, cmd.ThoughtID)
		if err != nil {
			return err
		}
		removed, err := tx.Interactions().RemoveBoost(ctx, cmd.UserID, t.ID)
		if err != nil || !removed {
			return err
		}
		return tx.Publish(ctx, events.New(ctx, cmd.UserID, events.BoostRemoved{UserID: cmd.UserID, ThoughtID: t.ID}, now))
	})
	if err != nil {
		return fmt.Errorf("unboost thought %s: %w", cmd.ThoughtID, err)
	}
	return nil
}
