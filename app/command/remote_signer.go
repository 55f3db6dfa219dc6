package command

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/thoughts-project/thoughts/app/domain"
)

// ErrFetchPermanent marks a fetch that asking again will not cure: the
// object is gone, refused, or not what was asked for.
var ErrFetchPermanent = errors.New("remote object unavailable")

// RemoteKeyLookup finds cached actors by the id of their key.
type RemoteKeyLookup interface {
	// ByKeyID returns the cached actor whose key is keyID, or ErrNotFound.
	ByKeyID(ctx context.Context, keyID string) (domain.RemoteActor, error)
}

// RemoteSignerHandler names the actor a signature's key belongs to: from
// the cache of remote actors, else by resolving the key's owner (fetched,
// stored, and given an account, through ResolveRemoteActor). Refresh asks
// for the owner to be fetched again even if cached: the verifier does so
// once when a signature does not verify with the cached key, since the
// owner may have rotated it.
type RemoteSignerHandler struct {
	Keys    RemoteKeyLookup
	Owners  KeyOwnerFetcher
	Resolve ResolveRemoteActorHandler
}

// Handle returns the actor owning keyID.
func (h RemoteSignerHandler) Handle(ctx context.Context, keyID string, refresh bool) (domain.RemoteActor, error) {
	cached, err := h.Keys.ByKeyID(ctx, keyID)
	switch {
	case err == nil && !refresh:
		return cached, nil
	case err != nil && !errors.Is(err, domain.ErrNotFound):
		return domain.RemoteActor{}, fmt.Errorf("load key %s: %w", keyID, err)
	}
	owner := cached.IRI
	if owner == "" {
		if base, _, ok := strings.Cut(keyID, "#"); ok {
			// Mastodon's actor#main-key: the owner is the document.
			owner = base
		} else if owner, err = h.Owners.FetchKeyOwner(ctx, keyID); err != nil {
			return domain.RemoteActor{}, fmt.Errorf("owner of key %s: %w", keyID, err)
		}
	}
	a, err := h.Resolve.Handle(ctx, ResolveRemoteActor{IRI: owner, Refresh: refresh})
	if err == nil && a.KeyID != keyID && !refresh {
		// A cached owner with another key: it may have a new one.
		a, err = h.Resolve.Handle(ctx, ResolveRemoteActor{IRI: owner, Refresh: true})
	}
	if err != nil {
		return domain.RemoteActor{}, fmt.Errorf("resolve owner %s of key %s: %w", owner, keyID, err)
	}
	if a.KeyID != keyID {
		return domain.RemoteActor{}, fmt.Errorf("key %s is not the key of %s", keyID, a.IRI)
	}
	return a, nil
}
