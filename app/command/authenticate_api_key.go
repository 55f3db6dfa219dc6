package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// AuthenticateAPIKey resolves an API key token to the key (its user and
// scopes).
type AuthenticateAPIKey struct {
	Token string
}

// APIKeyUsage is what authenticating with an API key needs, used outside a
// transaction. Every request presenting a key reads it and records its use;
// a transaction around the two would cost two more round trips per request
// and guard nothing: a key revoked in between is refused from its next use
// on, as it would be had the revocation come a moment later.
type APIKeyUsage interface {
	// ByID loads a key, revoked or not; ErrNotFound if there is none.
	ByID(ctx context.Context, id uuid.UUID) (domain.APIKey, error)
	// Touch records that the key was just used.
	Touch(ctx context.Context, keyID uuid.UUID) error
}

// AuthenticateAPIKeyHandler authenticates API keys. Recording a key's last
// use is a write, which is why this is a command and not a query.
type AuthenticateAPIKeyHandler struct {
	Keys APIKeyUsage
}

// errBadAPIKey is the one answer for a malformed token, an unknown key, a
// wrong secret and a revoked key: a client learns nothing about which.
var errBadAPIKey = domain.Errorf(domain.ErrUnauthenticated, "invalid or revoked API key")

// Handle returns the key if the token is a live key, comparing the
// secret in constant time, and records the use. A token that is not a live
// key is ErrUnauthenticated and records nothing.
func (h AuthenticateAPIKeyHandler) Handle(ctx context.Context, cmd AuthenticateAPIKey) (domain.APIKey, error) {
	id, secretHash, ok := domain.ParseAPIKeyToken(cmd.Token)
	if !ok {
		return domain.APIKey{}, errBadAPIKey
	}
	k, err := h.Keys.ByID(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.APIKey{}, errBadAPIKey
	}
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("load api key %s: %w", id, err)
	}
	if !k.Matches(secretHash) || k.RevokedAt != nil {
		return domain.APIKey{}, errBadAPIKey
	}
	if err := h.Keys.Touch(ctx, id); err != nil {
		return domain.APIKey{}, fmt.Errorf("record use of api key %s: %w", id, err)
	}
	return k, nil
}
