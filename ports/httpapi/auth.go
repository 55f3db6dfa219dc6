package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

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
	if _, err := s.app.Queries.Me.Handle(r.Context(), id); errors.Is(err, domain.ErrNotFound) {
		return uuid.Nil, false, domain.Errorf(domain.ErrUnauthenticated, "invalid or expired token")
	} else if err != nil {
		return uuid.Nil, false, err
	}
	return id, true, nil
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
