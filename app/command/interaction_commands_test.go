package command_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// interactionFixture is a store with one thought of each kind by author.
type interactionFixture struct {
	store                          *fakeStore
	author, fan                    domain.User
	public, followersOnly, deleted domain.Thought
}

func newInteractionFixture(t *testing.T) interactionFixture {
	t.Helper()
	f := interactionFixture{store: newFakeStore()}
	f.author, f.fan = f.store.addUser("author", false), f.store.addUser("fan", false)
	mk := func(vis domain.Visibility) domain.Thought {
		th, err := domain.NewThought(uuid.Must(uuid.NewV7()), f.author.ID, domain.ThoughtDraft{Content: "x", Visibility: vis}, fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		f.store.thoughts[th.ID] = th
		return th
	}
	f.public, f.followersOnly = mk(domain.VisibilityPublic), mk(domain.VisibilityFollowers)
	f.deleted, _ = mk(domain.VisibilityPublic).Tombstone(fixedNow)
	f.store.thoughts[f.deleted.ID] = f.deleted
	return f
}

func eventTypes(envs []events.Envelope) string {
	var types []string
	for _, env := range envs {
		types = append(types, env.Event.EventType())
	}
	return fmt.Sprint(types)
}

func TestLikeThought(t *testing.T) {
	t.Parallel()
	f := newInteractionFixture(t)
	like := command.LikeThoughtHandler{UoW: f.store, Clock: clock}
	unlike := command.UnlikeThoughtHandler{UoW: f.store, Clock: clock}
	ctx := context.Background()
	cases := []struct {
		name    string
		user    uuid.UUID
		thought uuid.UUID
		err     error
	}{
		{"unknown thought", f.fan.ID, uuid.New(), domain.ErrNotFound},
		{"followers-only, not a follower", f.fan.ID, f.followersOnly.ID, domain.ErrNotFound},
		{"tombstone", f.fan.ID, f.deleted.ID, domain.ErrGone},
		{"nil thought ID", f.fan.ID, uuid.Nil, errAny},
	}
	for _, c := range cases {
		err := like.Handle(ctx, command.LikeThought{UserID: c.user, ThoughtID: c.thought})
		if c.err == errAny && err == nil || c.err != errAny && !errors.Is(err, c.err) {
			t.Errorf("%s: like = %v, want %v", c.name, err, c.err)
		}
	}
	if len(f.store.outbox) != 0 || len(f.store.likes) != 0 {
		t.Fatalf("refused likes left %d events, %d likes", len(f.store.outbox), len(f.store.likes))
	}
	for _, th := range []domain.Thought{f.public, f.public, f.followersOnly} {
		// The author sees their followers-only thought and may like it, and
		// their own public one: liking your own thought is allowed.
		if err := like.Handle(ctx, command.LikeThought{UserID: f.author.ID, ThoughtID: th.ID}); err != nil {
			t.Fatalf("like of %s by its author: %v", th.Visibility, err)
		}
	}
	if err := like.Handle(ctx, command.LikeThought{UserID: f.fan.ID, ThoughtID: f.public.ID}); err != nil {
		t.Fatal(err)
	}
	if got, want := eventTypes(f.store.outbox), "[LikeAdded LikeAdded LikeAdded]"; got != want || len(f.store.likes) != 3 {
		t.Fatalf("events %s and %d likes, want %s (liking twice appends nothing) and 3", got, len(f.store.likes), want)
	}
	ev := f.store.outbox[2].Event.(events.LikeAdded)
	if stored := f.store.likes[interaction{f.fan.ID, f.public.ID}]; ev.LikeID != stored.ID || ev.UserID != f.fan.ID || ev.ThoughtID != f.public.ID {
		t.Errorf("event %+v, stored like %+v", ev, stored)
	}

	for range 2 {
		if err := unlike.Handle(ctx, command.UnlikeThought{UserID: f.fan.ID, ThoughtID: f.public.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if err := unlike.Handle(ctx, command.UnlikeThought{UserID: f.fan.ID, ThoughtID: f.deleted.ID}); !errors.Is(err, domain.ErrGone) {
		t.Errorf("unlike of a tombstone = %v, want ErrGone", err)
	}
	if got, want := eventTypes(f.store.outbox[3:]), "[LikeRemoved]"; got != want {
		t.Errorf("unlike twice appended %s, want %s", got, want)
	}
}

func TestBoostThought(t *testing.T) {
	t.Parallel()
	f := newInteractionFixture(t)
	boost := command.BoostThoughtHandler{UoW: f.store, Clock: clock}
	unboost := command.UnboostThoughtHandler{UoW: f.store, Clock: clock}
	ctx := context.Background()
	cases := []struct {
		name    string
		user    uuid.UUID
		thought uuid.UUID
		err     error
	}{
		{"unknown thought", f.fan.ID, uuid.New(), domain.ErrNotFound},
		// Not seen is not found, before it is judged shareable.
		{"followers-only, not a follower", f.fan.ID, f.followersOnly.ID, domain.ErrNotFound},
		{"followers-only, by its author", f.author.ID, f.followersOnly.ID, domain.ErrUnprocessable},
		{"tombstone", f.fan.ID, f.deleted.ID, domain.ErrGone},
	}
	for _, c := range cases {
		if err := boost.Handle(ctx, command.BoostThought{UserID: c.user, ThoughtID: c.thought}); !errors.Is(err, c.err) {
			t.Errorf("%s: boost = %v, want %v", c.name, err, c.err)
		}
	}
	if len(f.store.outbox) != 0 || len(f.store.boosts) != 0 {
		t.Fatalf("refused boosts left %d events, %d boosts", len(f.store.outbox), len(f.store.boosts))
	}
	for range 2 {
		if err := boost.Handle(ctx, command.BoostThought{UserID: f.fan.ID, ThoughtID: f.public.ID}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := unboost.Handle(ctx, command.UnboostThought{UserID: f.fan.ID, ThoughtID: f.public.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := eventTypes(f.store.outbox), "[BoostAdded BoostRemoved]"; got != want {
		t.Errorf("events = %s, want %s", got, want)
	}
	if err := unboost.Handle(ctx, command.UnboostThought{UserID: f.fan.ID, ThoughtID: f.deleted.ID}); !errors.Is(err, domain.ErrGone) {
		t.Errorf("unboost of a tombstone = %v, want ErrGone", err)
	}
}

// errAny stands for "some error" in tables where the kind does not matter.
var errAny = errors.New("any error")
