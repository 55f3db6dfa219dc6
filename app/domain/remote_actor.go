package domain

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// RemoteActor is an actor of another server, as we last fetched it.
type RemoteActor struct {
	IRI      string
	Host     string // lower case, with the port if any
	Username string // preferredUsername
	Type     string // Person, Service, Application, Group, Organization
	// DisplayName and Summary are as the server sent them; Summary is HTML
	// that must be sanitised before it is shown.
	DisplayName string
	Summary     string
	URL         string
	Inbox       string
	SharedInbox string
	Outbox      string
	Followers   string
	Following   string
	Locked      bool
	// KeyID and PublicKeyPEM are the actor's signing key.
	KeyID        string
	PublicKeyPEM string
	FetchedAt    time.Time
	// UserID is the users row that stands for the actor locally (follows,
	// likes, thoughts and notifications refer to it); set by Save.
	UserID uuid.UUID
}

// Handle is the actor's name@host.
func (a RemoteActor) Handle() string { return a.Username + "@" + a.Host }

// RemoteActorRepository caches remote actors.
type RemoteActorRepository interface {
	// ByIRI returns the cached actor, ErrNotFound if none.
	ByIRI(ctx context.Context, iri string) (RemoteActor, error)
	// ByHandle returns the cached actor name@host (case-insensitive), ErrNotFound if none.
	ByHandle(ctx context.Context, username, host string) (RemoteActor, error)
	// Save stores a, replacing what was cached under its IRI, and creates or
	// updates the account that stands for it (name, display name, bio,
	// locked); it returns a with UserID set. A deleted account stays deleted.
	Save(ctx context.Context, a RemoteActor) (RemoteActor, error)
}
