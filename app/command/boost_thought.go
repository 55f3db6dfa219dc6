package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// BoostThought shares a thought with the booster's followers.
type BoostThought struct {
	UserID    uuid.UUID
	ThoughtID uuid.UUID
}

// BoostThoughtHandler boosts thoughts.
type BoostThoughtHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle stores the boost and appends BoostAdded; boosting again changes
// nothing and appends nothing. A thought the user may not see is ErrNotFound,
// a tombstone ErrGone, a followers-only thought ErrUnprocessable.
func (h BoostThoughtHandler) Handle(ctx context.Context, cmd BoostThought) error {
	now := h.Clock()
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		t, err := tx.Thoughts().VisibleTo(ctx, cmd.UserID, cmd.ThoughtID)
		if err != nil {
			return err
		}
		boost, err := domain.NewBoost(newID(), cmd.UserID, t, now)
		if err != nil {
			return err
		}
		added, err := tx.Interactions().AddBoost(ctx, boost)
		if err != nil || !added {
			return err
		}
		return tx.Publish(ctx, events.New(ctx, cmd.UserID, events.BoostAdded{BoostID: boost.ID, UserID: cmd.UserID, ThoughtID: t.ID}, now))
	})
	if err != nil {
		return fmt.Errorf("boost thought %s: %w", cmd.ThoughtID, err)
	}
	return nil
}
