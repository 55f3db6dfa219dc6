package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
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
}

// NewAPIKey makes userID's key called name, with a fresh secret. It returns
// the key, which holds only the secret's hash, and the token to show the user
// once: it is never retrievable again.
func NewAPIKey(id, userID uuid.UUID, name string, now time.Time) (APIKey, string, error) {
	name, err := ValidateAPIKeyName(name)
	if err != nil {
		return APIKey{}, "", err
	}
	if err := requireIDs("api key", id, userID); err != nil {
		return APIKey{}, "", err
	}
	token, _, hash, err := NewAPIKeyToken(id)
	if err != nil {
		return APIKey{}, "", fmt.Errorf("new api key: %w", err)
	}
	return APIKey{ID: id, UserID: userID, Name: name, SecretHash: hash, CreatedAt: now}, token, nil
}

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
