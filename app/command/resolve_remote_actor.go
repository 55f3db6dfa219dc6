package command

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/thoughts-project/thoughts/app/domain"
)

// RemoteActorFetcher fetches actors from other servers.
type RemoteActorFetcher interface {
	// FetchActor fetches and validates the actor document at iri (a signed
	// GET: GoToSocial and Mastodon under authorized fetch refuse others).
	FetchActor(ctx context.Context, iri string) (domain.RemoteActor, error)
	// WebFinger resolves name@host to the actor's IRI.
	WebFinger(ctx context.Context, username, host string) (string, error)
}

// DefaultRemoteActorMaxAge is how long a cached remote actor is used before
// it is fetched again.
const DefaultRemoteActorMaxAge = 24 * time.Hour

// ResolveRemoteActor names a remote actor by IRI or by name@host (a leading
// '@' is allowed). Refresh fetches it even when the cached copy is fresh.
type ResolveRemoteActor struct {
	IRI     string
	Handle  string
	Refresh bool
}

// ResolveRemoteActorHandler returns remote actors from the cache, fetching
// (and caching) them when unknown, stale or asked to refresh. A failed
// refresh of a known actor falls back to the cached copy: a server that is
// down for a while does not make its actors unknown.
type ResolveRemoteActorHandler struct {
	Actors  domain.RemoteActorRepository
	Fetcher RemoteActorFetcher
	Clock   Clock
	// MaxAge is how long a cached copy is fresh; 0 is
	// DefaultRemoteActorMaxAge.
	MaxAge time.Duration
}

// Handle resolves cmd.
func (h ResolveRemoteActorHandler) Handle(ctx context.Context, cmd ResolveRemoteActor) (domain.RemoteActor, error) {
	iri := cmd.IRI
	var wantName string // set when resolving a handle: the actor must bear it
	var cached domain.RemoteActor
	var err error
	switch {
	case iri != "":
		cached, err = h.Actors.ByIRI(ctx, iri)
	case cmd.Handle != "":
		name, host, ok := strings.Cut(strings.TrimPrefix(cmd.Handle, "@"), "@")
		if !ok || name == "" || host == "" || strings.Contains(host, "@") {
			return domain.RemoteActor{}, domain.Invalid("handle", "must be name@host")
		}
		host = strings.ToLower(host)
		wantName = name
		cached, err = h.Actors.ByHandle(ctx, name, host)
		if errors.Is(err, domain.ErrNotFound) {
			if iri, err = h.Fetcher.WebFinger(ctx, name, host); err != nil {
				return domain.RemoteActor{}, fmt.Errorf("webfinger %s@%s: %w", name, host, err)
			}
			cached, err = h.Actors.ByIRI(ctx, iri)
		}
	default:
		return domain.RemoteActor{}, domain.Invalid("actor", "an IRI or a handle is required")
	}
	known := err == nil
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return domain.RemoteActor{}, fmt.Errorf("load remote actor: %w", err)
	}
	maxAge := h.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultRemoteActorMaxAge
	}
	if known && !cmd.Refresh && h.Clock().Sub(cached.FetchedAt) < maxAge {
		return cached, nil
	}
	if known {
		iri = cached.IRI
	}
	fetched, err := h.Fetcher.FetchActor(ctx, iri)
	if err != nil {
		if known && !cmd.Refresh {
			return cached, nil
		}
		return domain.RemoteActor{}, fmt.Errorf("fetch actor %s: %w", iri, err)
	}
	if wantName != "" && !strings.EqualFold(fetched.Username, wantName) {
		return domain.RemoteActor{}, fmt.Errorf("%s: WebFinger named %s, whose preferredUsername is %q",
			cmd.Handle, iri, fetched.Username)
	}
	fetched.FetchedAt = h.Clock()
	saved, err := h.Actors.Save(ctx, fetched)
	if err != nil {
		return domain.RemoteActor{}, fmt.Errorf("store actor %s: %w", fetched.IRI, err)
	}
	return saved, nil
}
