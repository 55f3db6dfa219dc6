package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// UnlikeThought takes back a user's like.
type UnlikeThought struct {
	UserID    uuid.UUID
	ThoughtID uuid.UUID
}

// UnlikeThoughtHandler removes likes.
type UnlikeThoughtHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle removes the like and appends LikeRemoved; without a like it changes
// nothing and appends nothing. The thought must be one the user may see.
func (h UnlikeThoughtHandler) Handle(ctx context.Context, cmd UnlikeThought) error {
	now := h.Clock()
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		t, err := interactable(ctx, tx, cmd.UserID, cmd.ThoughtID)
		if err != nil {
			return err
		}
		removed, err := tx.Interactions().RemoveLike(ctx, cmd.UserID, t.ID)
		if err != nil || !removed {
			return err
		}
		return tx.Publish(ctx, events.New(ctx, cmd.UserID, events.LikeRemoved{UserID: cmd.UserID, ThoughtID: t.ID}, now))
	})
	if err != nil {
		return fmt.Errorf("unlike thought %s: %w", cmd.ThoughtID, err)
	}
	return nil
}

// interactable loads a thought whose like or boost the user may take back:
// one they cannot see is ErrNotFound, a tombstone ErrGone.
func interactable(ctx context.Context, tx Tx, userID, thoughtID uuid.UUID) (domain.Thought, error) {
	t, err := tx.Thoughts().VisibleTo(ctx, userID, thoughtID)
	if err != nil {
		return domain.Thought{}, err
	}
	if err := t.CheckLive(); err != nil {
		return domain.Thought{}, err
	}
	return t, nil
}
