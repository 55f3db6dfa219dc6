package command

import (
	"context"
	"fmt"
	"strings"

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
}

// Handle follows the account: a locked one gets a pending request
// (FollowRequested), any other is followed at once (FollowAccepted). Following
// again, or asking again while a request is pending, changes nothing and
// appends nothing. Whether the follow is allowed at all is domain.NewFollow's
// rule. It returns the relationship afterwards.
func (h FollowUserHandler) Handle(ctx context.Context, cmd FollowUser) (domain.Relationship, error) {
	now := h.Clock()
	var rel domain.Relationship
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		target, err := userNamed(ctx, tx, cmd.Username)
		if err != nil {
			return err
		}
		if err := tx.Graph().LockPair(ctx, cmd.FollowerID, target.ID); err != nil {
			return err
		}
		if rel, err = tx.Graph().Relationship(ctx, cmd.FollowerID, target.ID); err != nil {
			return err
		}
		f, err := domain.NewFollow(newID(), cmd.FollowerID, target, rel, now)
		if err != nil {
			return err
		}
		added, err := tx.Graph().AddFollow(ctx, f)
		if err != nil {
			return err
		}
		if added {
			var ev events.Event = events.FollowAccepted{FollowerID: f.FollowerID, FollowingID: f.FollowingID}
			if f.State == domain.FollowPending {
				ev = events.FollowRequested{FollowerID: f.FollowerID, FollowingID: f.FollowingID}
			}
			if err := tx.Publish(ctx, events.New(ctx, cmd.FollowerID, ev, now)); err != nil {
				return err
			}
		}
		rel, err = tx.Graph().Relationship(ctx, cmd.FollowerID, target.ID)
		return err
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("follow %q: %w", cmd.Username, err)
	}
	return rel, nil
}

var errUserNotFound = domain.Errorf(domain.ErrNotFound, "user not found")

// userNamed loads a local user by username, case-insensitively; a malformed
// name names nobody.
func userNamed(ctx context.Context, tx Tx, username string) (domain.User, error) {
	name := strings.ToLower(strings.TrimSpace(username))
	if domain.ValidateUsername(name) != nil {
		return domain.User{}, errUserNotFound
	}
	return tx.Users().ByUsername(ctx, name)
}
