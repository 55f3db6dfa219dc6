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
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		like, err := domain.NewLike(newID(), cmd.UserID, cmd.ThoughtID, now)
		if err != nil {
			return err
		}
		var added bool
		if cl, ok := tx.Interactions().(ConditionalLiker); ok {
			var err error
			if added, err = cl.AddLikeIfVisible(ctx, like); err != nil {
				return err
			}
		} else {
			if _, err := interactable(ctx, tx, cmd.UserID, cmd.ThoughtID); err != nil {
				return err
			}
			var err error
			if added, err = tx.Interactions().AddLike(ctx, like); err != nil {
				return err
			}
		}
		if !added {
			return nil
		}
		return tx.Publish(ctx, events.New(ctx, cmd.UserID, events.LikeAdded{LikeID: like.ID, UserID: cmd.UserID, ThoughtID: cmd.ThoughtID}, now))
	})
	if err != nil {
		return fmt.Errorf("like thought %s: %w", cmd.ThoughtID, err)
	}
	return nil
}

// ConditionalLiker is implemented by interaction repositories that can check
// that the user may like the thought and store the like in one step (for
// PostgreSQL one statement instead of two round trips: liking is the most
// frequent write). Others get the check and the insert one after the other.
type ConditionalLiker interface {
	// AddLikeIfVisible stores l unless the user already likes the thought
	// (added false). A thought the user may not see is ErrNotFound, a
	// tombstone ErrGone, as interactable decides.
	AddLikeIfVisible(ctx context.Context, l domain.Like) (added bool, err error)
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
