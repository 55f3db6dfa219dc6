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

// TestNotifyHandlerBatch: HandleBatch applies the same rules as Handle, in
// the batch's order, with one statement per run of likes and boosts; a batch
// delivered twice stores nothing twice.
func TestNotifyHandlerBatch(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	alice, bob, carol := store.addUser("alice", false), store.addUser("bob", false), store.addUser("carol", true)
	th, err := domain.NewThought(uuid.Must(uuid.NewV7()), alice.ID, domain.ThoughtDraft{Content: "hello"}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	store.thoughts[th.ID] = th
	reply, err := domain.NewThought(uuid.Must(uuid.NewV7()), bob.ID, domain.ThoughtDraft{Content: "@alice @carol hi", InReplyToID: &th.ID}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	reply.InReplyToAuthorID = &alice.ID
	store.thoughts[reply.ID] = reply
	h := command.NotifyHandler{UoW: store, Clock: clock}
	ctx := context.Background()
	names := map[uuid.UUID]string{alice.ID: "alice", bob.ID: "bob", carol.ID: "carol"}
	current := func() string {
		var got []string
		for _, n := range store.notifications {
			got = append(got, fmt.Sprintf("%s:%s", n.Type, names[n.RecipientID]))
		}
		return fmt.Sprint(got)
	}
	batch := []events.Envelope{
		events.New(ctx, bob.ID, events.LikeAdded{UserID: bob.ID, ThoughtID: th.ID}, fixedNow),
		events.New(ctx, alice.ID, events.LikeAdded{UserID: alice.ID, ThoughtID: th.ID}, fixedNow), // own like
		events.New(ctx, carol.ID, events.BoostAdded{UserID: carol.ID, ThoughtID: th.ID}, fixedNow),
		events.New(ctx, bob.ID, events.LikeAdded{UserID: bob.ID, ThoughtID: uuid.New()}, fixedNow), // unknown thought
		events.New(ctx, bob.ID, events.FollowRequested{FollowerID: bob.ID, FollowingID: carol.ID}, fixedNow),
		events.New(ctx, carol.ID, events.LikeAdded{UserID: carol.ID, ThoughtID: reply.ID}, fixedNow),
		events.New(ctx, bob.ID, events.ThoughtCreated{ThoughtID: reply.ID, UserID: bob.ID, InReplyToID: &th.ID}, fixedNow),
	}
	want := "[like:alice boost:alice follow_request:carol like:bob reply:alice mention:carol]"
	for range 2 {
		if err := h.HandleBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if got := current(); got != want {
			t.Errorf("after the batch: %s, want %s", got, want)
		}
	}
	// A deletion in the middle of a batch: the likes before it are deleted
	// with it, a like after it finds the thought gone.
	late := events.New(ctx, carol.ID, events.LikeAdded{UserID: carol.ID, ThoughtID: th.ID}, fixedNow)
	deleted := th
	deleted.DeletedAt = &fixedNow
	store.thoughts[th.ID] = deleted
	if err := h.HandleBatch(ctx, []events.Envelope{events.New(ctx, alice.ID, events.ThoughtDeleted{ThoughtID: th.ID, UserID: alice.ID}, fixedNow), late}); err != nil {
		t.Fatal(err)
	}
	if got, want := current(), "[follow_request:carol like:bob reply:alice mention:carol]"; got != want {
		t.Errorf("after the deletion: %s, want %s", got, want)
	}
	noID := events.Envelope{Event: events.LikeAdded{UserID: bob.ID, ThoughtID: reply.ID}}
	if err := h.HandleBatch(ctx, []events.Envelope{batch[0], noID}); !errors.Is(err, events.ErrUndecodable) {
		t.Errorf("batch with an event without an ID: %v, want ErrUndecodable", err)
	}
}
