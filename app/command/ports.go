// Package command holds the use cases that change state, one per file. Each runs
// in one transaction and appends its domain events to the outbox in that same
// transaction, so a committed change always has its events and a rolled-back
// one never does.
package command

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// UnitOfWork runs a function inside one database transaction.
type UnitOfWork interface {
	// InTx commits when fn returns nil and rolls back otherwise.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is what a command may touch inside its transaction.
type Tx interface {
	Users() domain.UserRepository
	Thoughts() TxThoughts
	APIKeys() domain.APIKeyRepository
	Sessions() domain.SessionRepository
	Accounts() AccountEraser
	Notifications() TxNotifications
	Interactions() domain.InteractionRepository
	Graph() domain.GraphRepository
	Entities() domain.EntityRepository
	// Inbox and Federated serve the inbox handler (inbox.go).
	Inbox() InboxRepository
	Federated() FederatedRepository
	// Publish appends events to the outbox in this transaction.
	Publish(ctx context.Context, envs ...events.Envelope) error
}

// TxThoughts is the thought repository plus the visibility check commands need.
type TxThoughts interface {
	domain.ThoughtRepository
	// VisibleTo returns the thought if viewer may see it, else ErrNotFound.
	VisibleTo(ctx context.Context, viewer, id uuid.UUID) (domain.Thought, error)
}

// PasswordHasher hashes and checks passwords. Password work is bounded: when
// too much is under way, each method fails with an error wrapping
// domain.ErrUnavailable (the client may retry shortly).
type PasswordHasher interface {
	Hash(password string) (string, error)
	// Verify reports whether password matches encoded, in constant time.
	Verify(password, encoded string) (bool, error)
	// VerifyDummy spends the same work as Verify against a fixed hash, so an
	// unknown user costs as much time as a wrong password; it fails only as
	// Verify does when the work is refused, so an unknown user looks the
	// same under load too.
	VerifyDummy(password string) error
}

// TokenIssuer issues access tokens, each bound to a session: it is good only
// while the session is live.
type TokenIssuer interface {
	Issue(userID, sessionID uuid.UUID) (token string, expiresAt time.Time, err error)
}

// Client is what a sign-in records of the client: shown to the account's
// owner in their list of sessions.
type Client struct {
	UserAgent string
	Addr      netip.Addr
}

// Clock returns the current time.
type Clock func() time.Time

// SystemClock is the real clock, in UTC with microsecond precision (what
// PostgreSQL stores).
func SystemClock() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// AuthResult is what registration and login return.
type AuthResult struct {
	Token     string
	ExpiresAt time.Time
	User      domain.User
	Session   domain.Session
}

// startSession stores a new session for u in tx and issues its token.
func startSession(ctx context.Context, tx Tx, tokens TokenIssuer, u domain.User, c Client, now time.Time) (AuthResult, error) {
	s, err := domain.NewSession(newID(), u.ID, c.UserAgent, c.Addr, now)
	if err != nil {
		return AuthResult{}, err
	}
	if err := tx.Sessions().Create(ctx, s); err != nil {
		return AuthResult{}, err
	}
	token, exp, err := tokens.Issue(u.ID, s.ID)
	if err != nil {
		return AuthResult{}, fmt.Errorf("issue token: %w", err)
	}
	return AuthResult{Token: token, ExpiresAt: exp, User: u, Session: s}, nil
}
