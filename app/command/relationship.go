package command

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// changeRelationship is the shape every follow and block command shares: in
// one transaction, find the account named username, lock the pair (so a
// follow and a block racing each other cannot leave a follow behind a block),
// let change do what differs, and read userID's relationship with the account
// afterwards, which the command returns.
func changeRelationship(ctx context.Context, uow UnitOfWork, userID uuid.UUID, username string,
	change func(ctx context.Context, tx Tx, other domain.User) error) (domain.Relationship, error) {
	return changeRelationshipWith(ctx, uow, nil, userID, username, change)
}

// changeRelationshipWith is changeRelationship where username may also name
// a remote account, name@host, resolved by remote (before the transaction:
// resolving may fetch the actor). Without remote, such a name names nobody.
func changeRelationshipWith(ctx context.Context, uow UnitOfWork, remote RemoteAccounts, userID uuid.UUID, username string,
	change func(ctx context.Context, tx Tx, other domain.User) error) (domain.Relationship, error) {
	var remoteID uuid.UUID
	if IsRemoteHandle(username) {
		if remote == nil {
			return domain.Relationship{}, errUserNotFound
		}
		id, err := remote.AccountID(ctx, username)
		if err != nil {
			return domain.Relationship{}, err
		}
		remoteID = id
	}
	var rel domain.Relationship
	err := uow.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var other domain.User
		var err error
		if remoteID != uuid.Nil {
			other, err = tx.Users().ByID(ctx, remoteID)
		} else {
			other, err = userNamed(ctx, tx, username)
		}
		if err != nil {
			return err
		}
		if err := tx.Graph().LockPair(ctx, userID, other.ID); err != nil {
			return err
		}
		if err := change(ctx, tx, other); err != nil {
			return err
		}
		rel, err = tx.Graph().Relationship(ctx, userID, other.ID)
		return err
	})
	return rel, err
}

// answerFollowRequest is what accepting and rejecting a follow request share:
// it loads requester's follow of userID and, only if it is still pending,
// lets answer change it and, if answer reports a change, appends answered.
// found is false when there is no follow at all; one already in force is
// left alone. It runs inside changeRelationship, under the pair's lock.
func answerFollowRequest(ctx context.Context, tx Tx, requesterID, userID uuid.UUID, now time.Time,
	answer func(ctx context.Context, g domain.GraphRepository) (changed bool, err error), answered events.Event) (found bool, err error) {
	f, err := tx.Graph().FollowOf(ctx, requesterID, userID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case f.State != domain.FollowPending:
		return true, nil
	}
	changed, err := answer(ctx, tx.Graph())
	if err != nil || !changed {
		return true, err
	}
	return true, tx.Publish(ctx, events.New(ctx, userID, answered, now))
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

// IsRemoteHandle reports whether name is a remote account's name@host (a
// leading '@' allowed) rather than a local username.
func IsRemoteHandle(name string) bool {
	return strings.Contains(strings.TrimPrefix(strings.TrimSpace(name), "@"), "@")
}

// RemoteAccounts finds the accounts standing for remote actors.
type RemoteAccounts interface {
	// AccountID resolves name@host (WebFinger and the actor, cached) to its
	// account's ID; an actor that cannot be resolved is ErrNotFound.
	AccountID(ctx context.Context, handle string) (uuid.UUID, error)
}

// ResolvingAccounts are RemoteAccounts resolved by a RemoteActorResolver.
type ResolvingAccounts struct{ Resolve RemoteActorResolver }

// AccountID resolves handle.
func (r ResolvingAccounts) AccountID(ctx context.Context, handle string) (uuid.UUID, error) {
	a, err := r.Resolve.Handle(ctx, ResolveRemoteActor{Handle: strings.TrimSpace(handle)})
	var invalid *domain.ValidationError
	switch {
	case errors.As(err, &invalid) || errors.Is(err, domain.ErrNotFound):
		return uuid.Nil, errUserNotFound
	case err != nil:
		// Why (a server down, a bad document) is the server's log's, not
		// the client's.
		return uuid.Nil, fmt.Errorf("%w: %w", domain.Errorf(domain.ErrNotFound, "user %s could not be resolved", handle), err)
	}
	return a.UserID, nil
}
