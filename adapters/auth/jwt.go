package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// MinSecretLen is the shortest accepted HS256 key, in bytes.
const MinSecretLen = 32

// JWT issues and verifies HS256 access tokens. The algorithm is pinned:
// tokens signed with "none" or any other algorithm are rejected, as are tokens
// without exp, iat or sub.
type JWT struct {
	secret []byte
	ttl    time.Duration
	issuer string
	now    func() time.Time
}

// NewJWT returns a signer with the given key, lifetime and issuer (PUBLIC_URL).
func NewJWT(secret []byte, ttl time.Duration, issuer string) (*JWT, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("JWT secret must be at least %d bytes, got %d", MinSecretLen, len(secret))
	}
	if ttl <= 0 {
		return nil, errors.New("JWT lifetime must be positive")
	}
	return &JWT{secret: secret, ttl: ttl, issuer: issuer, now: time.Now}, nil
}

// Issue signs a token for userID, valid for the configured lifetime.
func (j *JWT) Issue(userID uuid.UUID) (string, time.Time, error) {
	now := j.now()
	exp := now.Add(j.ttl)
	claims := jwt.RegisteredClaims{
		Subject:   userID.String(),
		Issuer:    j.issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
		ID:        uuid.NewString(),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(j.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp.UTC(), nil
}

// ErrInvalidToken covers every reason a token is refused.
var ErrInvalidToken = errors.New("invalid token")

// Verify checks signature, algorithm, expiry and required claims, and returns
// the user ID in sub.
func (j *JWT) Verify(token string) (uuid.UUID, error) {
	parsed, err := jwt.ParseWithClaims(token, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) {
		return j.secret, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(j.issuer),
		jwt.WithTimeFunc(j.now),
		jwt.WithLeeway(30*time.Second),
	)
	if err != nil {
		return uuid.Nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	claims, ok := parsed.Claims.(*jwt.RegisteredClaims)
	if !ok || claims.IssuedAt == nil {
		return uuid.Nil, fmt.Errorf("%w: missing iat", ErrInvalidToken)
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil {
		return uuid.Nil, fmt.Errorf("%w: bad sub", ErrInvalidToken)
	}
	return id, nil
}
