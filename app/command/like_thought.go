package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// LikeThought likes a thought on behalf of a user.
type LikeThought struct {
	UserID    uuid.UUID
	ThoughtID uuid.UUID
}

// LikeThoughtHandler likes thoughts.
type LikeThoughtHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle stores the like and appends LikeAdded. Liking again changes nothing
// and appends nothing. A thought the user may not see is ErrNotFound (which
// covers a blocked user and the blocker's thoughts); a tombstone is ErrGone.
func (h LikeThoughtHandler) Handle(ctx context.Context, cmd LikeThought) error {
	now := h.Clock()
	like, err := domain.NewLike(newID(), cmd.UserID, cmd.ThoughtID, now)
	if err != nil {
		return fmt.Errorf("like thought %s: %w", cmd.ThoughtID, err)
	}
	err = h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		// The visibility and tombstone checks are in the statement that
		// inserts: one round trip, no gap for a deletion.
		added, remote, err := tx.Interactions().AddLikeIfVisible(ctx, like)
		if err != nil || !added {
			return err
		}
		return tx.Publish(ctx, events.New(ctx, cmd.UserID, events.LikeAdded{LikeID: like.ID, UserID: cmd.UserID, ThoughtID: cmd.ThoughtID,
			RemoteThought: remote}, now))
	})
	if err != nil {
		return fmt.Errorf("like thought %s: %w", cmd.ThoughtID, err)
	}
	return nil
}
