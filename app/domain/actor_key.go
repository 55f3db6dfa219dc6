package domain

import (
	"context"

	"github.com/google/uuid"
)

// KeyPair is an actor's signing key as PEM: the public key as
// SubjectPublicKeyInfo ("PUBLIC KEY", what ActivityPub servers publish in
// publicKeyPem), the private key as PKCS#8 ("PRIVATE KEY").
type KeyPair struct {
	PublicKeyPEM  string
	PrivateKeyPEM string
}

// Empty reports whether k holds no key (a user who has none yet).
func (k KeyPair) Empty() bool { return k.PublicKeyPEM == "" }

// ActorKeyRepository stores the key pairs of local users and of the instance
// actor. The Set methods never replace a key: concurrent first uses of an
// actor agree on the one key stored first.
type ActorKeyRepository interface {
	// UserKey returns the user's key pair, empty if they have none yet; an
	// unknown user is ErrNotFound.
	UserKey(ctx context.Context, userID uuid.UUID) (KeyPair, error)
	// SetUserKeyIfAbsent stores k unless the user has a key already, and
	// returns the key the user has afterwards (k, or the one stored before).
	SetUserKeyIfAbsent(ctx context.Context, userID uuid.UUID, k KeyPair) (KeyPair, error)
	// UsersWithoutKey lists up to limit users with an ID greater than after
	// who have no key yet, in ID order.
	UsersWithoutKey(ctx context.Context, after uuid.UUID, limit int) ([]uuid.UUID, error)
	// InstanceKey returns the instance actor's key pair, empty before it
	// was first created.
	InstanceKey(ctx context.Context) (KeyPair, error)
	// SetInstanceKeyIfAbsent stores k unless the instance actor has a key,
	// and returns the key it has afterwards.
	SetInstanceKeyIfAbsent(ctx context.Context, k KeyPair) (KeyPair, error)
}
