package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

type userKey struct{}

func userFrom(ctx context.Context) (uuid.UUID, bool) {
	id, ok := ctx.Value(userKey{}).(uuid.UUID)
	return id, ok
}

// viewer returns the authenticated user or nil for an anonymous request.
func viewer(r *http.Request) *uuid.UUID {
	if id, ok := userFrom(r.Context()); ok {
		return &id
	}
	return nil
}

// credential is whom a request acts for, and through what.
type credential struct {
	userID uuid.UUID
	// key is the API key used, nil for a session token (which may do
	// anything its user may).
	key *domain.APIKey
}

// permits checks an API key's scopes against the request: reading (GET,
// HEAD) takes the read scope, anything else the write scope.
func (c credential) permits(r *http.Request) error {
	if c.key == nil {
		return nil
	}
	need := domain.ScopeWrite
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		need = domain.ScopeRead
	}
	if !c.key.Allows(need) {
		return domain.Errorf(domain.ErrForbidden, "this API key does not have the %s scope", need)
	}
	return nil
}

// authenticate resolves the bearer credential, if any. A credential that is
// present but invalid is an error even on routes that allow anonymous access.
func (s *Server) authenticate(r *http.Request) (credential, bool, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return credential{}, false, nil
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return credential{}, false, domain.Errorf(domain.ErrUnauthenticated, "Authorization must be \"Bearer <token>\"")
	}
	token = strings.TrimSpace(token)
	if strings.HasPrefix(token, domain.APIKeyPrefix) {
		k, err := s.app.Commands.AuthenticateAPIKey.Handle(r.Context(), command.AuthenticateAPIKey{Token: token})
		if err != nil {
			return credential{}, false, err
		}
		return credential{userID: k.UserID, key: &k}, true, nil
	}
	id, err := s.tokens.Verify(token)
	if err != nil {
		return credential{}, false, domain.Errorf(domain.ErrUnauthenticated, "invalid or expired token")
	}
	// A validly signed token for an account that no longer exists is no credential.
	if s.known.has(id) {
		return credential{userID: id}, true, nil
	}
	if _, err := s.app.Queries.Me.Handle(r.Context(), id); errors.Is(err, domain.ErrNotFound) {
		return credential{}, false, domain.Errorf(domain.ErrUnauthenticated, "invalid or expired token")
	} else if err != nil {
		return credential{}, false, err
	}
	s.known.add(id)
	return credential{userID: id}, true, nil
}

// knownUsers remembers for a short while the users whose tokens were found to
// belong to an existing account, so that a client's stream of requests does
// not look its account up once per request (a round trip and a query on
// every call; ~10% of the work of liking a thought). Only existence is
// cached, never a refusal. The price: an account removed from the database
// keeps working with its tokens for up to knownUserTTL (Thoughts has no
// account deletion today).
type knownUsers struct {
	until sync.Map // uuid.UUID -> time.Time
	n     atomic.Int64
	now   func() time.Time
}

const (
	knownUserTTL = time.Minute
	// maxKnownUsers bounds the memory (~100 bytes an entry): past it the
	// cache starts over.
	maxKnownUsers = 100_000
)

func newKnownUsers() *knownUsers { return &knownUsers{now: time.Now} }

func (k *knownUsers) has(id uuid.UUID) bool {
	v, ok := k.until.Load(id)
	return ok && k.now().Before(v.(time.Time))
}

func (k *knownUsers) add(id uuid.UUID) {
	if k.n.Load() >= maxKnownUsers {
		k.until.Clear()
		k.n.Store(0)
	}
	if _, loaded := k.until.Swap(id, k.now().Add(knownUserTTL)); !loaded {
		k.n.Add(1)
	}
}

// authed requires a valid credential, with the scope the request needs if
// it is an API key.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return s.requireCredential(h, false)
}

// sessionOnly is authed for the routes that manage credentials (API keys):
// an API key, whatever its scopes, is refused, so a leaked key cannot mint
// successors or revoke its owner's other keys.
func (s *Server) sessionOnly(h http.HandlerFunc) http.HandlerFunc {
	return s.requireCredential(h, true)
}

func (s *Server) requireCredential(h http.HandlerFunc, sessionOnly bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cred, ok, err := s.authenticate(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if !ok {
			writeError(w, r, s.log, domain.Errorf(domain.ErrUnauthenticated, "this endpoint requires a bearer token or API key"))
			return
		}
		if sessionOnly && cred.key != nil {
			writeError(w, r, s.log, domain.Errorf(domain.ErrForbidden, "API keys cannot manage API keys; use a signed-in session's token"))
			return
		}
		if err := cred.permits(r); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if _, ok := s.limited(w, r, s.writeKeys(r, cred.userID.String())...); !ok {
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, cred.userID)))
	}
}

// optional accepts anonymous requests and authenticated ones alike (an API
// key needs the read scope: optional routes only read).
func (s *Server) optional(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cred, ok, err := s.authenticate(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if ok {
			if err := cred.permits(r); err != nil {
				writeError(w, r, s.log, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), userKey{}, cred.userID))
		}
		h(w, r)
	}
}

func mustUser(r *http.Request) uuid.UUID {
	id, _ := userFrom(r.Context())
	return id
}
