package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// AcceptFollowRequest lets a requester follow the (locked) user.
type AcceptFollowRequest struct {
	UserID    uuid.UUID // the account that was asked
	Requester string    // username of the account that asked
}

// AcceptFollowRequestHandler accepts follow requests.
type AcceptFollowRequestHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle accepts the pending request and appends FollowAccepted. Accepting a
// follow already in force changes nothing and appends nothing; without any
// request from that user it is ErrNotFound. It returns the user's relationship
// with the requester afterwards.
func (h AcceptFollowRequestHandler) Handle(ctx context.Context, cmd AcceptFollowRequest) (domain.Relationship, error) {
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
		if errors.Is(err, domain.ErrNotFound) {
			return domain.Errorf(domain.ErrNotFound, "no follow request from %s", requester.Username)
		}
		if err != nil {
			return err
		}
		if f.State == domain.FollowPending {
			accepted, err := tx.Graph().AcceptFollow(ctx, requester.ID, cmd.UserID, now)
			if err != nil {
				return err
			}
			if accepted {
				ev := events.FollowAccepted{FollowerID: requester.ID, FollowingID: cmd.UserID}
				if err := tx.Publish(ctx, events.New(ctx, cmd.UserID, ev, now)); err != nil {
					return err
				}
			}
		}
		rel, err = tx.Graph().Relationship(ctx, cmd.UserID, requester.ID)
		return err
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("accept follow request of %q: %w", cmd.Requester, err)
	}
	return rel, nil
}
