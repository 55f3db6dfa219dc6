package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// PostThought publishes a new thought, possibly a reply.
type PostThought struct {
	AuthorID uuid.UUID
	Draft    domain.ThoughtDraft
}

// PostThoughtHandler creates thoughts.
type PostThoughtHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle validates the draft, checks the parent is visible to the author and not
// deleted, stores the thought and appends ThoughtCreated.
func (h PostThoughtHandler) Handle(ctx context.Context, cmd PostThought) (domain.Thought, error) {
	now := h.Clock()
	t, err := domain.NewThought(newID(), cmd.AuthorID, cmd.Draft, now)
	if err != nil {
		return domain.Thought{}, err
	}
	err = h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if t.InReplyToID != nil {
			parent, err := tx.Thoughts().VisibleTo(ctx, cmd.AuthorID, *t.InReplyToID)
			if errors.Is(err, domain.ErrNotFound) {
				return domain.Invalid("in_reply_to_id", "no such thought")
			}
			if err != nil {
				return err
			}
			if parent.Deleted() {
				return domain.Errorf(domain.ErrUnprocessable, "cannot reply to a deleted thought")
			}
			t.InReplyToAuthorID = &parent.AuthorID
		}
		if err := tx.Thoughts().Create(ctx, t); err != nil {
			return err
		}
		return tx.Publish(ctx, events.New(ctx, cmd.AuthorID, events.ThoughtCreated{
			ThoughtID: t.ID, UserID: t.AuthorID, InReplyToID: t.InReplyToID,
		}, now))
	})
	if err != nil {
		return domain.Thought{}, fmt.Errorf("post thought: %w", err)
	}
	return t, nil
}
