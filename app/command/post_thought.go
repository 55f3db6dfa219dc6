package command

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

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
// deleted (a user blocked by the parent's author cannot see it, so cannot
// reply), stores the thought with its hashtags and mentions and appends
// ThoughtCreated.
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
		if err := storeEntities(ctx, tx, "", t, now); err != nil {
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

// storeEntities stores the hashtags and mentions of t's content when they
// differ from those of its previous content (empty for a new thought), so an
// edit that leaves them alone writes nothing.
func storeEntities(ctx context.Context, tx Tx, previous string, t domain.Thought, now time.Time) error {
	if tags := domain.ParseTags(t.Content); !slices.Equal(tags, domain.ParseTags(previous)) {
		if err := tx.Entities().ReplaceTags(ctx, t.ID, tags, now); err != nil {
			return err
		}
	}
	if names := domain.ParseMentions(t.Content); !slices.Equal(names, domain.ParseMentions(previous)) {
		if err := tx.Entities().ReplaceMentions(ctx, t.ID, names); err != nil {
			return err
		}
	}
	return nil
}
