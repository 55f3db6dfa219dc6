package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

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
	saved, err := r.Save(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if saved.UserID == (uuid.UUID{}) {
		t.Fatal("Save set no account")
	}
	bob.UserID = saved.UserID
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
	// The account stands for the actor: remote, named name@host, and a
	// local account may hold the same username.
	users := postgres.UsersForTest(db.Pool)
	acc, err := users.ByID(ctx, saved.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if !acc.Remote() || acc.Acct() != "Bob@remote.example" || acc.ActorIRI != bob.IRI || !acc.Locked || acc.PasswordHash != "" {
		t.Errorf("account = %+v", acc)
	}
	if _, err := users.ByUsername(ctx, "bob"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a remote account is found by local username: %v", err)
	}
	local, err := domain.NewUser(uuid.New(), "bob", "bob@example.com", "hash", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Create(ctx, local); err != nil {
		t.Fatalf("local bob beside remote Bob: %v", err)
	}

	bob.DisplayName, bob.FetchedAt = "Robert", at.Add(time.Hour)
	if again, err := r.Save(ctx, bob); err != nil || again.UserID != saved.UserID {
		t.Fatalf("second save: %+v, %v", again, err)
	}
	if got, _ := r.ByIRI(ctx, bob.IRI); got.DisplayName != "Robert" {
		t.Errorf("after update: %q", got.DisplayName)
	}
	if acc, _ := users.ByID(ctx, saved.UserID); acc.DisplayName != "Robert" {
		t.Errorf("account after update: %q", acc.DisplayName)
	}
	// The actor moved to another IRI with its key: the row and the account
	// follow it.
	moved := bob
	moved.IRI = "https://remote.example/users/robert"
	if m, err := r.Save(ctx, moved); err != nil || m.UserID != saved.UserID {
		t.Fatalf("move: %+v, %v", m, err)
	}
	if _, err := r.ByIRI(ctx, bob.IRI); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("old IRI kept: %v", err)
	}
	// A deleted account stays deleted when its actor is seen again.
	if err := users.Delete(ctx, saved.UserID, at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if m, err := r.Save(ctx, moved); err != nil || m.UserID != saved.UserID {
		t.Fatalf("save after delete: %+v, %v", m, err)
	}
	if _, err := users.ByID(ctx, saved.UserID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("deleted account came back: %v", err)
	}
}
