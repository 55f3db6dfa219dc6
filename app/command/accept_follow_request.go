package command

import (
	"context"
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
	// Remote resolves name@host; nil: remote accounts are not found.
	Remote RemoteAccounts
}

// Handle accepts the pending request and appends FollowAccepted. Accepting a
// follow already in force changes nothing and appends nothing; without any
// request from that user it is ErrNotFound. It returns the user's relationship
// with the requester afterwards.
func (h AcceptFollowRequestHandler) Handle(ctx context.Context, cmd AcceptFollowRequest) (domain.Relationship, error) {
	now := h.Clock()
	rel, err := changeRelationshipWith(ctx, h.UoW, h.Remote, cmd.UserID, cmd.Requester, func(ctx context.Context, tx Tx, requester domain.User) error {
		found, err := answerFollowRequest(ctx, tx, requester.ID, cmd.UserID, now,
			func(ctx context.Context, g domain.GraphRepository) (bool, error) {
				return g.AcceptFollow(ctx, requester.ID, cmd.UserID, now)
			},
			events.FollowAccepted{FollowerID: requester.ID, FollowingID: cmd.UserID})
		if err == nil && !found {
			return domain.Errorf(domain.ErrNotFound, "no follow request from %s", requester.Username)
		}
		return err
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("accept follow request of %q: %w", cmd.Requester, err)
	}
	return rel, nil
}
