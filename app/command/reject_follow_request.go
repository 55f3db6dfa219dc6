package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// RejectFollowRequest turns down a follow request.
type RejectFollowRequest struct {
	UserID    uuid.UUID // the account that was asked
	Requester string    // username of the account that asked
}

// RejectFollowRequestHandler rejects follow requests.
type RejectFollowRequestHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle deletes the pending request and appends FollowRejected. Without a
// pending request (none, already rejected, or a follow already in force) it
// changes nothing and appends nothing: rejecting twice is harmless. It returns
// the user's relationship with the requester afterwards.
func (h RejectFollowRequestHandler) Handle(ctx context.Context, cmd RejectFollowRequest) (domain.Relationship, error) {
	now := h.Clock()
	var rel domain.Relationship
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		requester, err := userNamed(ctx, tx, cmd.Requester)
		if err != nil {
			return err
		}
		if err := tx.Graph().LockPair(ctx, cmd.UserID, requester.ID); err != nil {
			return err
		}
		f, err := tx.Graph().FollowOf(ctx, requester.ID, cmd.UserID)
		switch {
		case errors.Is(err, domain.ErrNotFound):
		case err != nil:
			return err
		case f.State == domain.FollowPending:
			if _, _, err := tx.Graph().RemoveFollow(ctx, requester.ID, cmd.UserID); err != nil {
				return err
			}
			ev := events.FollowRejected{FollowerID: requester.ID, FollowingID: cmd.UserID}
			if err := tx.Publish(ctx, events.New(ctx, cmd.UserID, ev, now)); err != nil {
				return err
			}
		}
		rel, err = tx.Graph().Relationship(ctx, cmd.UserID, requester.ID)
		return err
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("reject follow request of %q: %w", cmd.Requester, err)
	}
	return rel, nil
}
