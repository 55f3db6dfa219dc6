package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/events"
)

// DeleteThought turns a thought into a tombstone; only its author may.
type DeleteThought struct {
	UserID    uuid.UUID
	ThoughtID uuid.UUID
}

// DeleteThoughtHandler deletes thoughts.
type DeleteThoughtHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle turns the thought into a tombstone (domain.Thought.Tombstone) and
// appends ThoughtDeleted; deleting a tombstone is ErrGone.
func (h DeleteThoughtHandler) Handle(ctx context.Context, cmd DeleteThought) error {
	now := h.Clock()
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		t, err := authoredThought(ctx, tx, cmd.UserID, cmd.ThoughtID, "delete")
		if err != nil {
			return err
		}
		if t, err = t.Tombstone(now); err != nil {
			return err
		}
		if err := tx.Thoughts().Update(ctx, t); err != nil {
			return err
		}
		return tx.Publish(ctx, events.New(ctx, cmd.UserID, events.ThoughtDeleted{ThoughtID: t.ID, UserID: t.AuthorID}, now))
	})
	if err != nil {
		return fmt.Errorf("delete thought %s: %w", cmd.ThoughtID, err)
	}
	return nil
}
