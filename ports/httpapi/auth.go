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

// authenticate resolves the bearer credential, if any. A credential that is
// present but invalid is an error even on routes that allow anonymous access.
func (s *Server) authenticate(r *http.Request) (uuid.UUID, bool, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return uuid.Nil, false, nil
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return uuid.Nil, false, domain.Errorf(domain.ErrUnauthenticated, "Authorization must be \"Bearer <token>\"")
	}
	token = strings.TrimSpace(token)
	if strings.HasPrefix(token, domain.APIKeyPrefix) {
		id, err := s.app.Queries.AuthenticateAPIKey.Handle(r.Context(), token)
		if err != nil {
			return uuid.Nil, false, err
		}
		return id, true, nil
	}
	id, err := s.tokens.Verify(token)
	if err != nil {
		return uuid.Nil, false, domain.Errorf(domain.ErrUnauthenticated, "invalid or expired token")
	}
	// A validly signed token for an account that no longer exists is no credential.
	if s.known.has(id) {
		return id, true, nil
	}
	if _, err := s.app.Queries.Me.Handle(r.Context(), id); errors.Is(err, domain.ErrNotFound) {
		return uuid.Nil, false, domain.Errorf(domain.ErrUnauthenticated, "invalid or expired token")
	} else if err != nil {
		return uuid.Nil, false, err
	}
	s.known.add(id)
	return id, true, nil
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

// authed requires a valid credential.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok, err := s.authenticate(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if !ok {
			writeError(w, r, s.log, domain.Errorf(domain.ErrUnauthenticated, "this endpoint requires a bearer token or API key"))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if _, ok := s.limited(w, r, s.writeKeys(r, id.String())...); !ok {
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, id)))
	}
}

// optional accepts anonymous requests and authenticated ones alike.
func (s *Server) optional(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok, err := s.authenticate(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if ok {
			r = r.WithContext(context.WithValue(r.Context(), userKey{}, id))
		}
		h(w, r)
	}
}

func mustUser(r *http.Request) uuid.UUID {
	id, _ := userFrom(r.Context())
	return id
}
