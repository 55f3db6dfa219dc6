package command

import (
	"context"
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
	// Remote resolves name@host; nil: remote accounts are not found.
	Remote RemoteAccounts
}

// Handle deletes the pending request and appends FollowRejected. Without a
// pending request (none, already rejected, or a follow already in force) it
// changes nothing and appends nothing: rejecting twice is harmless. It returns
// the user's relationship with the requester afterwards.
func (h RejectFollowRequestHandler) Handle(ctx context.Context, cmd RejectFollowRequest) (domain.Relationship, error) {
	now := h.Clock()
	rel, err := changeRelationshipWith(ctx, h.UoW, h.Remote, cmd.UserID, cmd.Requester, func(ctx context.Context, tx Tx, requester domain.User) error {
		_, err := answerFollowRequest(ctx, tx, requester.ID, cmd.UserID, now,
			func(ctx context.Context, g domain.GraphRepository) (bool, error) {
				_, removed, err := g.RemoveFollow(ctx, requester.ID, cmd.UserID)
				return removed, err
			},
			events.FollowRejected{FollowerID: requester.ID, FollowingID: cmd.UserID})
		return err
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("reject follow request of %q: %w", cmd.Requester, err)
	}
	return rel, nil
}
