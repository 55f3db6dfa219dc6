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
// without exp, iat, sub or sid.
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

// claims are the registered claims plus sid, the session the token belongs
// to: the token is good only while that session is live.
type claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid,omitempty"`
}

// Issue signs a token for userID's session sessionID, valid for the
// configured lifetime (and only while the session is live).
func (j *JWT) Issue(userID, sessionID uuid.UUID) (string, time.Time, error) {
	if userID == uuid.Nil || sessionID == uuid.Nil {
		return "", time.Time{}, errors.New("sign token: user and session are required")
	}
	now := j.now()
	exp := now.Add(j.ttl)
	claims := claims{RegisteredClaims: jwt.RegisteredClaims{
		Subject:   userID.String(),
		Issuer:    j.issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
		ID:        uuid.NewString(),
	}, SessionID: sessionID.String()}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(j.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp.UTC(), nil
}

// ErrInvalidToken covers every reason a token is refused.
var ErrInvalidToken = errors.New("invalid token")

// Verify checks signature, algorithm, expiry and required claims, and returns
// the user ID in sub and the session ID in sid. A token without sid (issued
// before sessions existed) is refused: it could not be revoked.
func (j *JWT) Verify(token string) (userID, sessionID uuid.UUID, err error) {
	parsed, err := jwt.ParseWithClaims(token, &claims{}, func(*jwt.Token) (any, error) {
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
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	c, ok := parsed.Claims.(*claims)
	if !ok || c.IssuedAt == nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: missing iat", ErrInvalidToken)
	}
	userID, err = uuid.Parse(c.Subject)
	if err != nil || userID == uuid.Nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: bad sub", ErrInvalidToken)
	}
	sessionID, err = uuid.Parse(c.SessionID)
	if err != nil || sessionID == uuid.Nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: missing or bad sid", ErrInvalidToken)
	}
	return userID, sessionID, nil
}
