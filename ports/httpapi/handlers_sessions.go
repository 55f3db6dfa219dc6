package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

// client is what a sign-in records of the request's client.
func (s *Server) client(r *http.Request) command.Client {
	return command.Client{UserAgent: r.UserAgent(), Addr: s.clientAddr(r)}
}

type sessionJSON struct {
	ID         uuid.UUID `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	UserAgent  string    `json:"user_agent"`
	IPPrefix   string    `json:"ip_prefix"`
	// Current marks the session of the token that asked.
	Current bool `json:"current"`
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	cred := mustCredential(r)
	ss, err := s.app.Queries.Sessions.Handle(r.Context(), cred.userID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]sessionJSON, 0, len(ss))
	for _, x := range ss {
		out = append(out, sessionJSON{ID: x.ID, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt,
			UserAgent: x.UserAgent, IPPrefix: x.IPPrefix, Current: x.ID == cred.sessionID})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.endSession(w, r, id)
}

// logout ends the session of the token that asks.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.endSession(w, r, mustCredential(r).sessionID)
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	err := s.app.Commands.RevokeSession.Handle(r.Context(), command.RevokeSession{UserID: mustUser(r), SessionID: id})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.sessions.forget(id)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var req changePasswordRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	cred := mustCredential(r)
	s.passwordChecked(w, r, cred, func() error {
		return s.app.Commands.ChangePassword.Handle(r.Context(), command.ChangePassword{
			UserID: cred.userID, SessionID: cred.sessionID,
			Current: req.CurrentPassword, New: req.NewPassword, KeepAPIKeys: req.KeepAPIKeys,
		})
	})
}

func (s *Server) deleteMe(w http.ResponseWriter, r *http.Request) {
	var req deleteMeRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	cred := mustCredential(r)
	s.passwordChecked(w, r, cred, func() error {
		return s.app.Commands.DeleteAccount.Handle(r.Context(), command.DeleteAccount{UserID: cred.userID, Password: req.Password})
	})
}

// passwordChecked runs a command that checks the caller's password (change
// it, delete the account) under the password rate limit, refunding the
// attempt unless the password was wrong, and answers 204 once it succeeded:
// every session of the user is then dropped from this process's cache.
func (s *Server) passwordChecked(w http.ResponseWriter, r *http.Request, cred credential, run func() error) {
	taken, ok := s.limited(w, r, s.passwordKeys(r, cred.userID.String())...)
	if !ok {
		return
	}
	err := run()
	s.refundUnlessWrongPassword(taken, err)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.sessions.forgetUser(cred.userID)
	w.WriteHeader(http.StatusNoContent)
}

// refundUnlessWrongPassword gives back the per-account token of a request
// that did not guess a wrong password.
func (s *Server) refundUnlessWrongPassword(t *taken, err error) {
	if !errors.Is(err, domain.ErrForbidden) && s.limits.passwordUser != nil {
		t.refund(s.limits.passwordUser)
	}
}
