package command_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

var fixedNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

func TestPostThoughtCommitsItsEvent(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	h := command.PostThoughtHandler{UoW: store, Clock: clock}
	author := uuid.New()
	ctx := events.WithCorrelationID(context.Background(), "corr-post")
	th, err := h.Handle(ctx, command.PostThought{AuthorID: author, Draft: domain.ThoughtDraft{Content: "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(store.outbox) != 1 {
		t.Fatalf("outbox = %v", store.outbox)
	}
	env := store.outbox[0]
	created, ok := env.Event.(events.ThoughtCreated)
	if !ok || created.ThoughtID != th.ID || created.UserID != author || created.InReplyToID != nil {
		t.Errorf("event = %#v", env.Event)
	}
	if env.CorrelationID != "corr-post" || env.ActorID != author || !env.OccurredAt.Equal(fixedNow) {
		t.Errorf("envelope = %+v", env)
	}
}

func TestPostThoughtRefusals(t *testing.T) {
	t.Parallel()
	author, other := uuid.New(), uuid.New()
	deletedAt := fixedNow
	parents := map[string]domain.Thought{
		"deleted": {ID: uuid.New(), AuthorID: other, Visibility: domain.VisibilityPublic, DeletedAt: &deletedAt},
		"hidden":  {ID: uuid.New(), AuthorID: other, Visibility: domain.VisibilityFollowers, Content: "x"},
	}
	cases := []struct {
		name  string
		draft domain.ThoughtDraft
		want  error
		field string
	}{
		{"empty", domain.ThoughtDraft{Content: ""}, nil, "content"},
		{"unknown parent", domain.ThoughtDraft{Content: "x", InReplyToID: ptr(uuid.New())}, nil, "in_reply_to_id"},
		{"invisible parent", domain.ThoughtDraft{Content: "x", InReplyToID: ptr(parents["hidden"].ID)}, nil, "in_reply_to_id"},
		{"deleted parent", domain.ThoughtDraft{Content: "x", InReplyToID: ptr(parents["deleted"].ID)}, domain.ErrUnprocessable, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			store := newFakeStore()
			for _, p := range parents {
				store.thoughts[p.ID] = p
			}
			_, err := command.PostThoughtHandler{UoW: store, Clock: clock}.Handle(context.Background(), command.PostThought{AuthorID: author, Draft: c.draft})
			var verr *domain.ValidationError
			switch {
			case c.field != "" && (!errors.As(err, &verr) || verr.Field != c.field):
				t.Errorf("err = %v, want validation of %s", err, c.field)
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("err = %v, want %v", err, c.want)
			}
			if len(store.outbox) != 0 || len(store.thoughts) != len(parents) {
				t.Errorf("a refused post left %d events and %d thoughts", len(store.outbox), len(store.thoughts)-len(parents))
			}
		})
	}
}

func TestEditAndDeleteAreTheAuthors(t *testing.T) {
	t.Parallel()
	author, other := uuid.New(), uuid.New()
	store := newFakeStore()
	th, err := command.PostThoughtHandler{UoW: store, Clock: clock}.Handle(context.Background(),
		command.PostThought{AuthorID: author, Draft: domain.ThoughtDraft{Content: "original", ContentWarning: "cw"}})
	if err != nil {
		t.Fatal(err)
	}
	edit := command.EditThoughtHandler{UoW: store, Clock: clock}
	del := command.DeleteThoughtHandler{UoW: store, Clock: clock}
	text := "changed"
	if _, err := edit.Handle(context.Background(), command.EditThought{UserID: other, ThoughtID: th.ID, Edit: domain.ThoughtEdit{Content: &text}}); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("edit by another user: %v", err)
	}
	if err := del.Handle(context.Background(), command.DeleteThought{UserID: other, ThoughtID: th.ID}); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("delete by another user: %v", err)
	}
	if len(store.outbox) != 1 || store.thoughts[th.ID].Content != "original" {
		t.Fatalf("refused changes took effect: %d events, content %q", len(store.outbox), store.thoughts[th.ID].Content)
	}
	edited, err := edit.Handle(context.Background(), command.EditThought{UserID: author, ThoughtID: th.ID, Edit: domain.ThoughtEdit{Content: &text}})
	if err != nil || edited.Content != "changed" || edited.EditedAt == nil || edited.ContentWarning != "cw" {
		t.Fatalf("edit = %+v, %v", edited, err)
	}
	if err := del.Handle(context.Background(), command.DeleteThought{UserID: author, ThoughtID: th.ID}); err != nil {
		t.Fatal(err)
	}
	tomb := store.thoughts[th.ID]
	if !tomb.Deleted() || tomb.Content != "" || tomb.ContentWarning != "" {
		t.Errorf("tombstone = %+v", tomb)
	}
	if err := del.Handle(context.Background(), command.DeleteThought{UserID: author, ThoughtID: th.ID}); !errors.Is(err, domain.ErrGone) {
		t.Errorf("second delete: %v", err)
	}
	var types []string
	for _, env := range store.outbox {
		types = append(types, env.Event.EventType())
	}
	if want := "[ThoughtCreated ThoughtUpdated ThoughtDeleted]"; fmt.Sprint(types) != want {
		t.Errorf("events = %v, want %s", types, want)
	}
}

func ptr[T any](v T) *T { return &v }
