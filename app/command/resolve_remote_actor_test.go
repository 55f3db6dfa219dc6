package command_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

// remoteCache is an in-memory RemoteActorRepository.
type remoteCache map[string]domain.RemoteActor

func (c remoteCache) ByIRI(_ context.Context, iri string) (domain.RemoteActor, error) {
	if a, ok := c[iri]; ok {
		return a, nil
	}
	return domain.RemoteActor{}, domain.ErrNotFound
}

func (c remoteCache) ByHandle(_ context.Context, name, host string) (domain.RemoteActor, error) {
	for _, a := range c {
		if strings.EqualFold(a.Username, name) && a.Host == host {
			return a, nil
		}
	}
	return domain.RemoteActor{}, domain.ErrNotFound
}

func (c remoteCache) Save(_ context.Context, a domain.RemoteActor) (domain.RemoteActor, error) {
	if old, ok := c[a.IRI]; ok {
		a.UserID = old.UserID
	} else {
		a.UserID = uuid.New()
	}
	c[a.IRI] = a
	return a, nil
}

// remoteNet is a fake RemoteActorFetcher: actors by IRI, handles by
// name@host, and a switch to make the network fail.
type remoteNet struct {
	actors  map[string]domain.RemoteActor
	handles map[string]string
	down    bool
	fetches int
}

func (n *remoteNet) FetchActor(_ context.Context, iri string) (domain.RemoteActor, error) {
	n.fetches++
	if n.down {
		return domain.RemoteActor{}, errors.New("connection refused")
	}
	if a, ok := n.actors[iri]; ok {
		return a, nil
	}
	return domain.RemoteActor{}, errors.New("404")
}

func (n *remoteNet) WebFinger(_ context.Context, name, host string) (string, error) {
	if n.down {
		return "", errors.New("connection refused")
	}
	if iri, ok := n.handles[name+"@"+host]; ok {
		return iri, nil
	}
	return "", errors.New("404")
}

func TestResolveRemoteActor(t *testing.T) {
	t.Parallel()
	const bobIRI = "https://remote.example/users/bob"
	bob := domain.RemoteActor{IRI: bobIRI, Host: "remote.example", Username: "bob", DisplayName: "Bob"}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	setup := func() (command.ResolveRemoteActorHandler, remoteCache, *remoteNet, *time.Time) {
		clock := now
		cache := remoteCache{}
		net := &remoteNet{actors: map[string]domain.RemoteActor{bobIRI: bob},
			handles: map[string]string{"bob@remote.example": bobIRI, "eve@remote.example": bobIRI}}
		h := command.ResolveRemoteActorHandler{Actors: cache, Fetcher: net, Clock: func() time.Time { return clock }}
		return h, cache, net, &clock
	}
	ctx := context.Background()

	t.Run("by handle: WebFinger, fetch, cache; then from the cache", func(t *testing.T) {
		t.Parallel()
		h, cache, net, _ := setup()
		a, err := h.Handle(ctx, command.ResolveRemoteActor{Handle: "@bob@Remote.Example"})
		if err != nil || a.IRI != bobIRI || !a.FetchedAt.Equal(now) {
			t.Fatalf("%+v, %v", a, err)
		}
		if _, ok := cache[bobIRI]; !ok {
			t.Error("not cached")
		}
		if _, err := h.Handle(ctx, command.ResolveRemoteActor{Handle: "bob@remote.example"}); err != nil || net.fetches != 1 {
			t.Errorf("second resolve: %v, %d fetches", err, net.fetches)
		}
		if _, err := h.Handle(ctx, command.ResolveRemoteActor{IRI: bobIRI}); err != nil || net.fetches != 1 {
			t.Errorf("by IRI: %v, %d fetches", err, net.fetches)
		}
	})

	t.Run("stale or refreshed: fetched again; a failed refresh keeps the cached copy", func(t *testing.T) {
		t.Parallel()
		h, _, net, clock := setup()
		if _, err := h.Handle(ctx, command.ResolveRemoteActor{IRI: bobIRI}); err != nil {
			t.Fatal(err)
		}
		*clock = now.Add(25 * time.Hour)
		net.actors[bobIRI] = domain.RemoteActor{IRI: bobIRI, Host: "remote.example", Username: "bob", DisplayName: "Robert"}
		if a, err := h.Handle(ctx, command.ResolveRemoteActor{IRI: bobIRI}); err != nil || a.DisplayName != "Robert" || net.fetches != 2 {
			t.Errorf("stale: %+v, %v, %d fetches", a, err, net.fetches)
		}
		net.down = true
		*clock = now.Add(50 * time.Hour)
		if a, err := h.Handle(ctx, command.ResolveRemoteActor{IRI: bobIRI}); err != nil || a.DisplayName != "Robert" {
			t.Errorf("stale while the server is down: %+v, %v", a, err)
		}
		if _, err := h.Handle(ctx, command.ResolveRemoteActor{IRI: bobIRI, Refresh: true}); err == nil {
			t.Error("an explicit refresh that failed succeeded")
		}
	})

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		h, _, _, _ := setup()
		for name, cmd := range map[string]command.ResolveRemoteActor{
			"no handle or IRI":        {},
			"handle without host":     {Handle: "bob"},
			"handle with two @":       {Handle: "bob@a@b"},
			"unknown handle":          {Handle: "nobody@remote.example"},
			"unknown IRI":             {IRI: "https://remote.example/users/nobody"},
			"WebFinger names another": {Handle: "eve@remote.example"},
		} {
			if a, err := h.Handle(ctx, cmd); err == nil {
				t.Errorf("%s: resolved %+v", name, a)
			}
		}
	})
}
