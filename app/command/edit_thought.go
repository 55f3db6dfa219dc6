package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// EditThought changes a thought's text; only its author may.
type EditThought struct {
	UserID    uuid.UUID
	ThoughtID uuid.UUID
	Edit      domain.ThoughtEdit
}

// EditThoughtHandler edits thoughts.
type EditThoughtHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle applies the edit, re-parses hashtags and mentions, and appends
// ThoughtUpdated.
func (h EditThoughtHandler) Handle(ctx context.Context, cmd EditThought) (domain.Thought, error) {
	now := h.Clock()
	var t domain.Thought
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if t, err = authoredThought(ctx, tx, cmd.UserID, cmd.ThoughtID, "edit"); err != nil {
			return err
		}
		previous := t.Content
		if err := cmd.Edit.Apply(&t, now); err != nil {
			return err
		}
		if err := tx.Thoughts().Update(ctx, t); err != nil {
			return err
		}
		if err := storeEntities(ctx, tx, previous, t, now); err != nil {
			return err
		}
		return tx.Publish(ctx, events.New(ctx, cmd.UserID, events.ThoughtUpdated{ThoughtID: t.ID, UserID: t.AuthorID}, now))
	})
	if err != nil {
		return domain.Thought{}, fmt.Errorf("edit thought %s: %w", cmd.ThoughtID, err)
	}
	return t, nil
}

// authoredThought loads (and locks) a thought the user may change: one they
// cannot see is ErrNotFound, someone else's is ErrForbidden. Whether it can
// still be changed (a tombstone cannot) is the domain's rule, checked by
// ThoughtEdit.Apply and Thought.Tombstone.
func authoredThought(ctx context.Context, tx Tx, userID, thoughtID uuid.UUID, verb string) (domain.Thought, error) {
	if _, err := tx.Thoughts().VisibleTo(ctx, userID, thoughtID); err != nil {
		return domain.Thought{}, err
	}
	t, err := tx.Thoughts().ByID(ctx, thoughtID)
	if err != nil {
		return domain.Thought{}, err
	}
	if t.AuthorID != userID {
		return domain.Thought{}, domain.Errorf(domain.ErrForbidden, "only the author may %s this thought", verb)
	}
	return t, nil
}
