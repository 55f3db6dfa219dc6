package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxAPIKeyNameLen bounds the label a user gives an API key.
const MaxAPIKeyNameLen = 100

// APIKey is a long-lived credential. Only a hash of its secret is stored; the
// secret is shown once, when the key is created.
type APIKey struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	Name       string
	SecretHash []byte
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	// Scopes say what the key may do; never empty, sorted.
	Scopes []APIKeyScope
}

// NewAPIKey makes userID's key called name, with a fresh secret and the
// scopes asked for (nil: DefaultAPIKeyScopes). It returns the key, which
// holds only the secret's hash, and the token to show the user once: it is
// never retrievable again.
func NewAPIKey(id, userID uuid.UUID, name string, scopes []string, now time.Time) (APIKey, string, error) {
	name, err := ValidateAPIKeyName(name)
	if err != nil {
		return APIKey{}, "", err
	}
	granted := DefaultAPIKeyScopes()
	if scopes != nil {
		if granted, err = ParseAPIKeyScopes(scopes); err != nil {
			return APIKey{}, "", err
		}
	}
	if err := requireIDs("api key", id, userID); err != nil {
		return APIKey{}, "", err
	}
	token, _, hash, err := NewAPIKeyToken(id)
	if err != nil {
		return APIKey{}, "", fmt.Errorf("new api key: %w", err)
	}
	return APIKey{ID: id, UserID: userID, Name: name, SecretHash: hash, CreatedAt: now, Scopes: granted}, token, nil
}

// APIKeyScope is a permission an API key carries. No scope lets a key manage
// API keys (or sessions): that takes a signed-in session, so a leaked key
// cannot mint itself successors or revoke its owner's other keys.
type APIKeyScope string

// The API key scopes.
const (
	// ScopeRead: reading (GET and HEAD requests).
	ScopeRead APIKeyScope = "read"
	// ScopeWrite: changing things (every other method).
	ScopeWrite APIKeyScope = "write"
)

// DefaultAPIKeyScopes are a new key's scopes when none are asked for.
func DefaultAPIKeyScopes() []APIKeyScope { return []APIKeyScope{ScopeRead, ScopeWrite} }

// ParseAPIKeyScopes validates requested scopes: at least one, each known,
// none twice. The result is sorted.
func ParseAPIKeyScopes(names []string) ([]APIKeyScope, error) {
	if len(names) == 0 {
		return nil, Invalid("scopes", "must list at least one of read, write")
	}
	var out []APIKeyScope
	for _, n := range names {
		s := APIKeyScope(n)
		if s != ScopeRead && s != ScopeWrite {
			return nil, Invalid("scopes", "%q is not a scope: use read, write", n)
		}
		if slices.Contains(out, s) {
			return nil, Invalid("scopes", "%q is listed twice", n)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// Allows reports whether the key carries scope s.
func (k APIKey) Allows(s APIKeyScope) bool { return slices.Contains(k.Scopes, s) }

// ValidateAPIKeyName checks the user-given label of a key.
func ValidateAPIKeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Invalid("name", "is required")
	}
	if utf8.RuneCountInString(name) > MaxAPIKeyNameLen {
		return "", Invalid("name", "must be at most %d characters", MaxAPIKeyNameLen)
	}
	if hasControl(name) {
		return "", Invalid("name", "must not contain control characters")
	}
	return name, nil
}

// APIKeyPrefix starts every API key token, so it is recognisable in logs and by
// secret scanners, and distinguishable from a JWT.
const APIKeyPrefix = "thk_"

// NewAPIKeyToken makes the token for key id: "thk_<id>_<secret>", where the
// secret is 32 random bytes. It returns the token and the SHA-256 of the secret,
// which is all that is stored. (A fast hash is right here: the secret has 256
// bits of entropy, unlike a password.)
func NewAPIKeyToken(id uuid.UUID) (token string, keyID uuid.UUID, secretHash []byte, err error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", uuid.Nil, nil, fmt.Errorf("read random: %w", err)
	}
	enc := base64.RawURLEncoding.EncodeToString(secret)
	sum := sha256.Sum256([]byte(enc))
	return APIKeyPrefix + hex.EncodeToString(id[:]) + "_" + enc, id, sum[:], nil
}

// ParseAPIKeyToken splits a token into its key ID and the SHA-256 of its secret.
func ParseAPIKeyToken(token string) (keyID uuid.UUID, secretHash []byte, ok bool) {
	rest, found := strings.CutPrefix(token, APIKeyPrefix)
	if !found {
		return uuid.Nil, nil, false
	}
	idHex, secret, found := strings.Cut(rest, "_")
	if !found || len(idHex) != 32 || len(secret) != 43 {
		return uuid.Nil, nil, false
	}
	raw, err := hex.DecodeString(idHex)
	if err != nil {
		return uuid.Nil, nil, false
	}
	id, err := uuid.FromBytes(raw)
	if err != nil {
		return uuid.Nil, nil, false
	}
	sum := sha256.Sum256([]byte(secret))
	return id, sum[:], true
}

// Matches compares the stored hash with the presented one in constant time.
func (k APIKey) Matches(secretHash []byte) bool {
	return subtle.ConstantTimeCompare(k.SecretHash, secretHash) == 1
}
