package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// KeyGenerator makes new actor key pairs (RSA-2048 in production).
type KeyGenerator interface {
	Generate(ctx context.Context) (domain.KeyPair, error)
}

// EnsureUserKeyHandler gives a local user a signing key pair if they have
// none yet, and returns the user's key pair.
//
// Keys are made on first need (an actor document, a signed request) and by
// the start-up backfill, not at registration: generating an RSA-2048 key
// costs tens to hundreds of milliseconds of CPU, which registration (already
// paying for Argon2) should not add. Two processes making a key for the same
// user at once both generate one; the first stored wins and both return it.
type EnsureUserKeyHandler struct {
	Keys      domain.ActorKeyRepository
	Generator KeyGenerator
}

// Handle returns userID's key pair, creating it if needed. An unknown user
// is ErrNotFound.
func (h EnsureUserKeyHandler) Handle(ctx context.Context, userID uuid.UUID) (domain.KeyPair, error) {
	k, err := h.Keys.UserKey(ctx, userID)
	if err != nil {
		return domain.KeyPair{}, fmt.Errorf("load key of user %s: %w", userID, err)
	}
	if !k.Empty() {
		return k, nil
	}
	gen, err := h.Generator.Generate(ctx)
	if err != nil {
		return domain.KeyPair{}, fmt.Errorf("generate key for user %s: %w", userID, err)
	}
	k, err = h.Keys.SetUserKeyIfAbsent(ctx, userID, gen)
	if err != nil {
		return domain.KeyPair{}, fmt.Errorf("store key of user %s: %w", userID, err)
	}
	return k, nil
}

// BackfillUserKeysHandler gives every user without a key pair one: the
// start-up step for accounts made before federation existed (or whose first
// use has not come yet). It is idempotent and safe to run in several
// processes at once (see EnsureUserKeyHandler).
type BackfillUserKeysHandler struct {
	Keys      domain.ActorKeyRepository
	Generator KeyGenerator
}

// backfillBatch is how many keyless users one round reads.
const backfillBatch = 100

// Handle works until no user lacks a key or ctx is done, and returns how
// many keys this call stored or found stored by another process.
func (h BackfillUserKeysHandler) Handle(ctx context.Context) (int, error) {
	ensure := EnsureUserKeyHandler(h)
	done := 0
	// A cursor rather than "the first keyless users" again: each round moves
	// on, so the loop ends even if a key could not be stored.
	var after uuid.UUID
	for {
		ids, err := h.Keys.UsersWithoutKey(ctx, after, backfillBatch)
		if err != nil {
			return done, fmt.Errorf("list users without a key: %w", err)
		}
		if len(ids) == 0 {
			return done, nil
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return done, err
			}
			_, err := ensure.Handle(ctx, id)
			switch {
			case errors.Is(err, domain.ErrNotFound): // deleted meanwhile
			case err != nil:
				return done, err
			default:
				done++
			}
		}
		after = ids[len(ids)-1]
	}
}

// EnsureInstanceKeyHandler creates the instance actor's key pair once and
// returns it.
type EnsureInstanceKeyHandler struct {
	Keys      domain.ActorKeyRepository
	Generator KeyGenerator
}

// Handle returns the instance actor's key pair, creating it on first use.
func (h EnsureInstanceKeyHandler) Handle(ctx context.Context) (domain.KeyPair, error) {
	k, err := h.Keys.InstanceKey(ctx)
	if err != nil {
		return domain.KeyPair{}, fmt.Errorf("load instance key: %w", err)
	}
	if !k.Empty() {
		return k, nil
	}
	gen, err := h.Generator.Generate(ctx)
	if err != nil {
		return domain.KeyPair{}, fmt.Errorf("generate instance key: %w", err)
	}
	if k, err = h.Keys.SetInstanceKeyIfAbsent(ctx, gen); err != nil {
		return domain.KeyPair{}, fmt.Errorf("store instance key: %w", err)
	}
	return k, nil
}
