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

// TestNotifyHandler runs the notification rules against the fake store:
// which event notifies whom, once per event, and which rules need a
// transaction (only the follow request's, which reads before it inserts).
func TestNotifyHandler(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	alice, bob, carol := store.addUser("alice", false), store.addUser("bob", false), store.addUser("carol", true)
	post := func(author domain.User, content string, parent *domain.Thought) domain.Thought {
		d := domain.ThoughtDraft{Content: content}
		if parent != nil {
			d.InReplyToID = &parent.ID
		}
		th, err := domain.NewThought(uuid.Must(uuid.NewV7()), author.ID, d, fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		if parent != nil {
			th.InReplyToAuthorID = &parent.AuthorID
		}
		store.thoughts[th.ID] = th
		return th
	}
	th := post(alice, "hello", nil)
	reply := post(bob, "@alice @carol @nobody hi", &th)
	h := command.NotifyHandler{UoW: store, Clock: clock}
	ctx := context.Background()

	steps := []struct {
		name  string
		actor domain.User
		event events.Event
		want  string // the notifications afterwards, as type:recipient
		txs   int    // transactions used by the step
	}{
		{"like", bob, events.LikeAdded{UserID: bob.ID, ThoughtID: th.ID}, "[like:alice]", 0},
		{"own like", alice, events.LikeAdded{UserID: alice.ID, ThoughtID: th.ID}, "[like:alice]", 0},
		{"boost", carol, events.BoostAdded{UserID: carol.ID, ThoughtID: th.ID}, "[like:alice boost:alice]", 0},
		{"like of an unknown thought", bob, events.LikeAdded{UserID: bob.ID, ThoughtID: uuid.New()}, "[like:alice boost:alice]", 0},
		{"request to an open account", bob, events.FollowRequested{FollowerID: bob.ID, FollowingID: alice.ID}, "[like:alice boost:alice]", 1},
		{"request to a locked account", bob, events.FollowRequested{FollowerID: bob.ID, FollowingID: carol.ID},
			"[like:alice boost:alice follow_request:carol]", 1},
		{"follow", bob, events.FollowAccepted{FollowerID: bob.ID, FollowingID: alice.ID},
			"[like:alice boost:alice follow_request:carol follow:alice]", 0},
		// The parent's author gets the reply, not also a mention.
		{"reply with mentions", bob, events.ThoughtCreated{ThoughtID: reply.ID, UserID: bob.ID, InReplyToID: &th.ID},
			"[like:alice boost:alice follow_request:carol follow:alice reply:alice mention:carol]", 0},
		{"deletion", alice, events.ThoughtDeleted{ThoughtID: th.ID, UserID: alice.ID},
			"[follow_request:carol follow:alice reply:alice mention:carol]", 0},
	}
	names := map[uuid.UUID]string{alice.ID: "alice", bob.ID: "bob", carol.ID: "carol"}
	current := func() string {
		var got []string
		for _, n := range store.notifications {
			got = append(got, fmt.Sprintf("%s:%s", n.Type, names[n.RecipientID]))
		}
		return fmt.Sprint(got)
	}
	for _, s := range steps {
		env := events.New(ctx, s.actor.ID, s.event, fixedNow)
		before := store.txs
		// Delivered twice, as at-least-once delivery may: stored once.
		for range 2 {
			if err := h.Handle(ctx, env); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		if got := current(); got != s.want {
			t.Errorf("%s: notifications %s, want %s", s.name, got, s.want)
		}
		if got := store.txs - before; got != 2*s.txs {
			t.Errorf("%s: %d transactions for two deliveries, want %d", s.name, got, 2*s.txs)
		}
	}
	for _, n := range store.notifications {
		if n.ActorID == uuid.Nil || n.EventID == uuid.Nil || !n.CreatedAt.Equal(fixedNow) {
			t.Errorf("notification %+v lacks its actor, event or time", n)
		}
	}

	noID := events.Envelope{Event: events.LikeAdded{UserID: bob.ID, ThoughtID: reply.ID}}
	if err := h.Handle(ctx, noID); !errors.Is(err, events.ErrUndecodable) {
		t.Errorf("event without an ID: %v, want ErrUndecodable", err)
	}
}
