package httpapi

import (
	"cmp"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

type authResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userJSON  `json:"user"`
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.limited(w, r, limitKey{s.limits.registerIP, s.clientKey(r)}); !ok {
		return
	}
	var req registerRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.app.Commands.Register.Handle(r.Context(), command.Register{
		Username: req.Username, Email: req.Email, Password: req.Password, Client: s.client(r)})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", s.public+"/api/v1/users/"+res.User.Username)
	w.Header().Set("Cache-Control", "no-store") // the body holds a token
	writeJSON(w, http.StatusCreated, authResponse{Token: res.Token, ExpiresAt: res.ExpiresAt, User: s.userView(res.User)})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	login := cmp.Or(req.Login, req.Username, req.Email)
	taken, ok := s.limited(w, r, s.loginKeys(r, login)...)
	if !ok {
		return
	}
	res, err := s.app.Commands.Login.Handle(r.Context(), command.Login{Login: login, Password: req.Password, Client: s.client(r)})
	if !errors.Is(err, domain.ErrUnauthenticated) {
		taken.refund(s.limits.loginAccount) // only failed guesses count against an account
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // the body holds a token
	writeJSON(w, http.StatusOK, authResponse{Token: res.Token, ExpiresAt: res.ExpiresAt, User: s.userView(res.User)})
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) {
	u, err := s.app.Queries.Me.Handle(r.Context(), mustUser(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, s.userView(u))
}

func (s *Server) patchMe(w http.ResponseWriter, r *http.Request) {
	var req patchMeRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	u, err := s.app.Commands.UpdateProfile.Handle(r.Context(), command.UpdateProfile{
		UserID: mustUser(r),
		Change: domain.ProfileChange{DisplayName: req.DisplayName, Bio: req.Bio, Locked: req.Locked},
	})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, s.userView(u))
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	p, err := s.profile(r, mux.Vars(r)["username"])
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := s.profileView(p)
	if me := viewer(r); me != nil {
		rel, err := s.app.Queries.Relationship.Handle(r.Context(), *me, p.ID)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		view := relationshipView(rel)
		out.Relationship = &view
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.app.Queries.APIKeys.Handle(r.Context(), mustUser(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]apiKeyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, apiKeyView(k))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var req createAPIKeyRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	cmd := command.CreateAPIKey{UserID: mustUser(r), Name: req.Name}
	if req.Scopes != nil {
		cmd.Scopes = append([]string{}, *req.Scopes...) // non-nil: an empty list is a choice, and refused
	}
	k, token, err := s.app.Commands.CreateAPIKey.Handle(r.Context(), cmd)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := apiKeyView(k)
	out.Token = token
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.app.Commands.RevokeAPIKey.Handle(r.Context(), command.RevokeAPIKey{UserID: mustUser(r), KeyID: id}); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// pathID parses a UUID path variable; a malformed one names nothing that
// exists, so it is a 404, and so is the nil UUID (nothing is stored under it,
// and domain constructors refuse it as a caller's bug).
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(mux.Vars(r)[name])
	if err != nil || id == uuid.Nil {
		return uuid.Nil, domain.Errorf(domain.ErrNotFound, "no such %s", name)
	}
	return id, nil
}

// profile loads a local user's profile by username, or a remote account's
// by name@host (resolved through WebFinger if unknown or stale).
func (s *Server) profile(r *http.Request, name string) (query.Profile, error) {
	if !command.IsRemoteHandle(name) {
		return s.app.Queries.UserProfile.Handle(r.Context(), viewer(r), name)
	}
	if s.app.Commands.ResolveAccount == nil {
		return query.Profile{}, domain.Errorf(domain.ErrNotFound, "user not found")
	}
	id, err := s.app.Commands.ResolveAccount.AccountID(r.Context(), name)
	if err != nil {
		return query.Profile{}, err
	}
	return s.app.Queries.ProfileByID.Handle(r.Context(), viewer(r), id)
}
