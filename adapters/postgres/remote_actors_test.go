package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/domain"
)

func TestRemoteActors(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	r := postgres.NewRemoteActors(db.Pool)
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	bob := domain.RemoteActor{
		IRI: "https://remote.example/users/bob", Host: "remote.example", Username: "Bob", Type: "Person",
		DisplayName: "Bob", Summary: "<p>hi</p>", URL: "https://remote.example/@bob",
		Inbox: "https://remote.example/users/bob/inbox", SharedInbox: "https://remote.example/inbox",
		Outbox: "o", Followers: "f", Following: "g", Locked: true,
		KeyID: "https://remote.example/users/bob#main-key", PublicKeyPEM: "pem", FetchedAt: at,
	}
	if _, err := r.ByIRI(ctx, bob.IRI); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("empty cache: %v", err)
	}
	if err := r.Save(ctx, bob); err != nil {
		t.Fatal(err)
	}
	got, err := r.ByIRI(ctx, bob.IRI)
	if err != nil || !got.FetchedAt.Equal(at) {
		t.Fatalf("ByIRI: %+v, %v", got, err)
	}
	got.FetchedAt = at
	if got != bob {
		t.Errorf("ByIRI = %+v, want %+v", got, bob)
	}
	if got, err := r.ByHandle(ctx, "bob", "remote.example"); err != nil || got.IRI != bob.IRI {
		t.Errorf("ByHandle: %+v, %v", got, err)
	}
	bob.DisplayName, bob.FetchedAt = "Robert", at.Add(time.Hour)
	if err := r.Save(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.ByIRI(ctx, bob.IRI); got.DisplayName != "Robert" {
		t.Errorf("after update: %q", got.DisplayName)
	}
	// The actor moved to another IRI with its key: the old row goes.
	moved := bob
	moved.IRI = "https://remote.example/users/robert"
	if err := r.Save(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ByIRI(ctx, bob.IRI); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("old IRI kept: %v", err)
	}
}
