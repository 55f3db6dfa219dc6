package command

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// BlockUser blocks an account.
type BlockUser struct {
	BlockerID uuid.UUID
	Username  string
}

// BlockUserHandler blocks accounts.
type BlockUserHandler struct {
	UoW   UnitOfWork
	Clock Clock
	// Remote resolves name@host; nil: remote accounts are not found.
	Remote RemoteAccounts
}

// Handle blocks the account, in one transaction with its consequences: follows
// and pending requests in both directions are removed, and each user leaves the
// other's top friends. It appends UserBlocked, then one Unfollowed per removed
// follow (accepted or pending, either direction), so consumers that track
// follow relations need no knowledge of blocks. Blocking again changes nothing
// and appends nothing. Whether the block is allowed is domain.NewBlock's rule.
// It returns the relationship afterwards.
func (h BlockUserHandler) Handle(ctx context.Context, cmd BlockUser) (domain.Relationship, error) {
	now := h.Clock()
	rel, err := changeRelationshipWith(ctx, h.UoW, h.Remote, cmd.BlockerID, cmd.Username, func(ctx context.Context, tx Tx, target domain.User) error {
		_, added, envs, err := addBlock(ctx, tx, cmd.BlockerID, target.ID, now)
		if err != nil || !added {
			return err
		}
		return tx.Publish(ctx, envs...)
	})
	if err != nil {
		return domain.Relationship{}, fmt.Errorf("block %q: %w", cmd.Username, err)
	}
	return rel, nil
}

// addBlock stores blocker's block of blocked with its consequences (follows
// and requests both ways removed, each off the other's top friends) and
// returns the block's id and the events to append: UserBlocked, then one
// Unfollowed per removed follow. A block that exists already is left alone
// (added false, no events). The caller holds the pair's lock.
func addBlock(ctx context.Context, tx Tx, blocker, blocked uuid.UUID, now time.Time) (uuid.UUID, bool, []events.Envelope, error) {
	b, err := domain.NewBlock(newID(), blocker, blocked, now)
	if err != nil {
		return uuid.Nil, false, nil, err
	}
	g := tx.Graph()
	added, err := g.AddBlock(ctx, b)
	if err != nil || !added {
		return uuid.Nil, false, nil, err
	}
	envs := []events.Envelope{events.New(ctx, blocker, events.UserBlocked{BlockerID: b.BlockerID, BlockedID: b.BlockedID}, now)}
	for _, pair := range [][2]uuid.UUID{{b.BlockerID, b.BlockedID}, {b.BlockedID, b.BlockerID}} {
		_, removed, err := g.RemoveFollow(ctx, pair[0], pair[1])
		if err != nil {
			return uuid.Nil, false, nil, err
		}
		if removed {
			envs = append(envs, events.New(ctx, blocker, events.Unfollowed{FollowerID: pair[0], FollowingID: pair[1]}, now))
		}
		if err := g.RemoveTopFriend(ctx, pair[0], pair[1]); err != nil {
			return uuid.Nil, false, nil, err
		}
	}
	return b.ID, true, envs, nil
}
