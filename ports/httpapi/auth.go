package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

type credentialKey struct{}

func credentialFrom(ctx context.Context) (credential, bool) {
	c, ok := ctx.Value(credentialKey{}).(credential)
	return c, ok
}

func userFrom(ctx context.Context) (uuid.UUID, bool) {
	c, ok := credentialFrom(ctx)
	return c.userID, ok
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
	// sessionID is the session of an access token (JWT); uuid.Nil for an
	// API key.
	sessionID uuid.UUID
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

// errBadToken is the one answer for every access token refused: forged,
// expired, without a session, of a revoked session or a deleted account.
var errBadToken = domain.Errorf(domain.ErrUnauthenticated, "invalid or expired token")

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
	// A token without a session (issued before sessions existed) is
	// refused by Verify: it could not be revoked.
	userID, sessionID, err := s.tokens.Verify(token)
	if err != nil {
		return credential{}, false, errBadToken
	}
	if !sessionCheck {
		// A benchmark-only build (tag bench_no_session_check,
		// sessioncheck.go): the verified JWT alone is trusted.
		return credential{userID: userID, sessionID: sessionID}, true, nil
	}
	live, gen := s.sessions.live(userID, sessionID)
	if !live {
		live, err = s.app.Commands.AuthenticateSession.Handle(r.Context(),
			command.AuthenticateSession{UserID: userID, SessionID: sessionID})
		if err != nil {
			return credential{}, false, err
		}
		if !live {
			return credential{}, false, errBadToken
		}
		s.sessions.add(userID, sessionID, gen)
	}
	return credential{userID: userID, sessionID: sessionID}, true, nil
}

// authed requires a valid credential, with the scope the request needs if
// it is an API key.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return s.requireCredential(h, false)
}

// sessionOnly is authed for the routes that manage credentials and the
// account (API keys, sessions, password, deletion): an API key, whatever its
// scopes, is refused, so a leaked key cannot mint successors, revoke its
// owner's other credentials, change the password or delete the account.
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
			writeError(w, r, s.log, domain.Errorf(domain.ErrForbidden, "API keys cannot manage API keys, sessions, the password or the account; use a signed-in session's token"))
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
		h(w, r.WithContext(context.WithValue(r.Context(), credentialKey{}, cred)))
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
			r = r.WithContext(context.WithValue(r.Context(), credentialKey{}, cred))
		}
		h(w, r)
	}
}

func mustUser(r *http.Request) uuid.UUID {
	id, _ := userFrom(r.Context())
	return id
}

// mustCredential is the credential of a request that passed requireCredential.
func mustCredential(r *http.Request) credential {
	c, _ := credentialFrom(r.Context())
	return c
}
