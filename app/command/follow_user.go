package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// FollowUser follows an account (or asks to, if it is locked).
type FollowUser struct {
	FollowerID uuid.UUID
	Username   string
}

// FollowUserHandler follows accounts.
type FollowUserHandler struct {
	UoW   UnitOfWork
	Clock Clock
	// Remote resolves name@host; nil: remote accounts are not found.
	Remote RemoteAccounts
	// FollowIRI names the Follow activity of a follow of a remote account
	// (vocab.IRIs.Follow).
	FollowIRI func(followerName string, followID uuid.UUID) string
}

// Handle follows the account: a locked one gets a pending request
// (FollowRequested), any other is followed at once (FollowAccepted). Following
// again, or asking again while a request is pending, changes nothing and
// appends nothing. Whether the follow is allowed at all is domain.NewFollow's
// rule. A remote account (name@host) is resolved first; its follow stays a
// pending request, named by our Follow activity's IRI, until its server
// answers (the federation handler sends the Follow on FollowRequested). It
// returns the relationship afterwards.
func (h FollowUserHandler) Handle(ctx context.Context, cmd FollowUser) (domain.Relationship, error) {
	now := h.Clock()
	rel, err := changeRelationshipWith(ctx, h.UoW, h.Remote, cmd.FollowerID, cmd.Username, func(ctx context.Context, tx Tx, target domain.User) error {
		rel, err := tx.Graph().Relationship(ctx, cmd.FollowerID, target.ID)
		if err != nil {
			return err
		}
		f, err := domain.NewFollow(newID(), cmd.FollowerID, target, rel, now)
		if err != nil {
			return err
		}
		if target.Remote() {
			if h.FollowIRI == nil {
				return errUserNotFound
			}
			follower, err := tx.Users().ByID(ctx, cmd.FollowerID)
			if err != nil {
				return err
			}
			f.State, f.AcceptedAt = domain.FollowPending, nil
			f.ActivityIRI = h.FollowIRI(follower.Username, f.ID)
		}
		added, err := tx.Graph().AddFollow(ctx, f)
		if err != nil || !added {
			return err
		}
		var ev events.Event = events.FollowAccepted{FollowerID: f.FollowerID, FollowingID: f.FollowingID}
		if f.State == domain.FollowPending {
			ev = events.FollowRequested{FollowerID: f.FollowerID, FollowingID: f.FollowingID}
		}
		return tx.Publish(ctx, events.New(ctx, cmd.FollowerID, ev, now))
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("follow %q: %w", cmd.Username, err)
	}
	return rel, nil
}
