package command

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// SetTopFriends replaces a user's ordered top friends list.
type SetTopFriends struct {
	UserID    uuid.UUID
	Usernames []string
}

// SetTopFriendsHandler stores top friends lists.
type SetTopFriendsHandler struct {
	UoW UnitOfWork
}

// Handle validates and stores the list: at most domain.MaxTopFriends existing
// users, none twice, not the user, none blocked by or blocking the user. The
// catalogue has no event for it, so none is appended.
func (h SetTopFriendsHandler) Handle(ctx context.Context, cmd SetTopFriends) error {
	names, err := domain.NormalizeTopFriends(cmd.Usernames)
	if err != nil {
		return err
	}
	err = h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		ids := make([]uuid.UUID, len(names))
		for i, name := range names {
			u, err := tx.Users().ByUsername(ctx, name)
			if errors.Is(err, domain.ErrNotFound) {
				return domain.Invalid("usernames", "no user named %q", name)
			}
			if err != nil {
				return err
			}
			if u.ID == cmd.UserID {
				return domain.Invalid("usernames", "you cannot be your own top friend")
			}
			ids[i] = u.ID
		}
		// Lock the pairs in one global order, so two updates (or an update
		// and a block) never wait on each other in a cycle.
		for _, id := range slices.SortedFunc(slices.Values(ids), func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) }) {
			if err := tx.Graph().LockPair(ctx, cmd.UserID, id); err != nil {
				return err
			}
		}
		for i, id := range ids {
			rel, err := tx.Graph().Relationship(ctx, cmd.UserID, id)
			if err != nil {
				return err
			}
			if rel.Blocking || rel.BlockedBy {
				return domain.Invalid("usernames", "%q cannot be a top friend", names[i])
			}
		}
		return tx.Graph().ReplaceTopFriends(ctx, cmd.UserID, ids)
	})
	if err != nil {
		return fmt.Errorf("set top friends of %s: %w", cmd.UserID, err)
	}
	return nil
}
