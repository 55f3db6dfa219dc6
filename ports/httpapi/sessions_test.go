package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/ports/httpapi"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

type sessionView struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	UserAgent  string    `json:"user_agent"`
	IPPrefix   string    `json:"ip_prefix"`
	Current    bool      `json:"current"`
}

func listSessions(t *testing.T, rig *apitest.Rig, token string) []sessionView {
	t.Helper()
	var out []sessionView
	apitest.Expect(t, rig.Get("/api/v1/me/sessions", token), http.StatusOK).JSON(t, &out)
	return out
}

func newKey(t *testing.T, rig *apitest.Rig, token string, scopes ...string) (id, secret string) {
	t.Helper()
	body := map[string]any{"name": "k"}
	if scopes != nil {
		body["scopes"] = scopes
	}
	k := apitest.Expect(t, rig.Post("/api/v1/me/api_keys", token, body), http.StatusCreated).Map(t)
	return k["id"].(string), k["token"].(string)
}

// Issue 9, item 7: sign-in starts a session that is listed, and revoking a
// session or signing out refuses its token from the next request on.
func TestSessionsListRevokeAndLogout(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice := rig.Register("alice")
	bob := rig.Register("bob")
	phone := apitest.Expect(t, rig.Do(apitest.Request{Method: "POST", Path: "/api/v1/auth/login",
		Body:   map[string]string{"login": "alice", "password": "correct horse"},
		Header: map[string]string{"User-Agent": "  Thoughts for Phone/1.0\t"}}), http.StatusOK).Map(t)["token"].(string)
	laptop := rig.Login("alice")

	// Every token works, and is now in this process's cache.
	for _, tok := range []string{alice.Token, phone, laptop} {
		apitest.Expect(t, rig.Get("/api/v1/me", tok), http.StatusOK)
	}
	ss := listSessions(t, rig, phone)
	if len(ss) != 3 {
		t.Fatalf("sessions = %+v, want 3", ss)
	}
	current := 0
	for _, s := range ss {
		if s.Current {
			current++
			if s.ID != apitest.SessionID(t, phone) || s.UserAgent != "Thoughts for Phone/1.0" {
				t.Errorf("current session = %+v", s)
			}
		}
		if s.IPPrefix != "127.0.0.0/24" || s.CreatedAt.IsZero() || s.LastSeenAt.Before(s.CreatedAt) {
			t.Errorf("session = %+v", s)
		}
	}
	if current != 1 || ss[0].ID != apitest.SessionID(t, laptop) {
		t.Errorf("sessions = %+v: want newest first, exactly one current", ss)
	}

	// Revoking the registration's session: its token is refused at once,
	// although this process had just seen it live.
	apitest.Expect(t, rig.Delete("/api/v1/me/sessions/"+apitest.SessionID(t, alice.Token), phone), http.StatusNoContent)
	expectProblem(t, rig.Get("/api/v1/me", alice.Token), http.StatusUnauthorized)
	expectProblem(t, rig.Delete("/api/v1/me/sessions/"+apitest.SessionID(t, alice.Token), phone), http.StatusNotFound)
	// Another user's session, an unknown one and a malformed ID are not found.
	expectProblem(t, rig.Delete("/api/v1/me/sessions/"+apitest.SessionID(t, bob.Token), phone), http.StatusNotFound)
	expectProblem(t, rig.Delete("/api/v1/me/sessions/"+uuid.NewString(), phone), http.StatusNotFound)
	expectProblem(t, rig.Delete("/api/v1/me/sessions/nope", phone), http.StatusNotFound)
	apitest.Expect(t, rig.Get("/api/v1/me", bob.Token), http.StatusOK)

	// Signing out ends the current session only.
	apitest.Expect(t, rig.Post("/api/v1/auth/logout", laptop, nil), http.StatusNoContent)
	expectProblem(t, rig.Get("/api/v1/me", laptop), http.StatusUnauthorized)
	expectProblem(t, rig.Post("/api/v1/auth/logout", laptop, nil), http.StatusUnauthorized)
	ss = listSessions(t, rig, phone)
	if len(ss) != 1 || !ss[0].Current {
		t.Errorf("after revocations: %+v", ss)
	}

	// No API key manages sessions or signs out, whatever its scopes.
	_, key := newKey(t, rig, phone)
	expectProblem(t, rig.Get("/api/v1/me/sessions", key), http.StatusForbidden)
	expectProblem(t, rig.Delete("/api/v1/me/sessions/"+apitest.SessionID(t, phone), key), http.StatusForbidden)
	expectProblem(t, rig.Post("/api/v1/auth/logout", key, nil), http.StatusForbidden)
	apitest.Expect(t, rig.Get("/api/v1/me", phone), http.StatusOK)
}

// A session this process never saw is checked in the database at once: one
// revoked elsewhere (here: straight in the database) is refused. (A revoked
// session this process had cached is dropped by the database's announcement:
// service.TestRevocationReachesOtherProcessesAtOnce.)
func TestSessionRevokedElsewhereIsRefusedUncached(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	rig.Register("alice")
	tok := rig.Login("alice")
	if _, err := rig.DB.Pool.Exec(t.Context(), `UPDATE sessions SET revoked_at = now() WHERE id = $1`, apitest.SessionID(t, tok)); err != nil {
		t.Fatal(err)
	}
	expectProblem(t, rig.Get("/api/v1/me", tok), http.StatusUnauthorized)
}

// Issue 9, item 7: changing the password needs the current one, validates
// the new one as registration does, and ends every other session and every
// API key unless told to keep the keys.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice := rig.Register("alice")
	other := rig.Login("alice")
	_, key := newKey(t, rig, alice.Token)
	apitest.Expect(t, rig.Get("/api/v1/me", other), http.StatusOK)
	apitest.Expect(t, rig.Get("/api/v1/me", key), http.StatusOK)
	change := func(token string, body map[string]any) apitest.Response {
		return rig.Post("/api/v1/me/password", token, body)
	}

	expectProblem(t, change(alice.Token, map[string]any{"current_password": "wrong horse", "new_password": "battery staple"}), http.StatusForbidden)
	for _, weak := range []string{"short", "\x00\x00\x00\x00\x00\x00\x00\x00", ""} {
		p := expectProblem(t, change(alice.Token, map[string]any{"current_password": "correct horse", "new_password": weak}), http.StatusUnprocessableEntity)
		if p["field"] != "new_password" {
			t.Errorf("weak %q: %v", weak, p)
		}
	}
	expectProblem(t, change(alice.Token, map[string]any{"new_password": "battery staple"}), http.StatusUnprocessableEntity)
	expectProblem(t, change(key, map[string]any{"current_password": "correct horse", "new_password": "battery staple"}), http.StatusForbidden)
	// Nothing changed so far.
	apitest.Expect(t, rig.Get("/api/v1/me", other), http.StatusOK)

	apitest.Expect(t, change(alice.Token, map[string]any{"current_password": "correct horse", "new_password": "battery staple"}), http.StatusNoContent)
	apitest.Expect(t, rig.Get("/api/v1/me", alice.Token), http.StatusOK)
	expectProblem(t, rig.Get("/api/v1/me", other), http.StatusUnauthorized)
	expectProblem(t, rig.Get("/api/v1/me", key), http.StatusUnauthorized)
	expectProblem(t, rig.Post("/api/v1/auth/login", "", map[string]string{"login": "alice", "password": "correct horse"}), http.StatusUnauthorized)
	third := apitest.Expect(t, rig.Post("/api/v1/auth/login", "", map[string]string{"login": "alice", "password": "battery staple"}), http.StatusOK).Map(t)["token"].(string)
	if ss := listSessions(t, rig, alice.Token); len(ss) != 2 {
		t.Errorf("sessions after the change = %+v, want the changer's and the new sign-in", ss)
	}

	// keep_api_keys spares the keys, not the other sessions.
	_, kept := newKey(t, rig, alice.Token)
	apitest.Expect(t, change(alice.Token, map[string]any{"current_password": "battery staple", "new_password": "correct horse", "keep_api_keys": true}), http.StatusNoContent)
	apitest.Expect(t, rig.Get("/api/v1/me", kept), http.StatusOK)
	expectProblem(t, rig.Get("/api/v1/me", third), http.StatusUnauthorized)
}

// Wrong current passwords are limited per account like failed sign-ins;
// right ones cost nothing.
func TestChangePasswordIsRateLimited(t *testing.T) {
	t.Parallel()
	limits := httpapi.RateLimits{LoginPerAccount: httpapi.Rate{Burst: 3, Every: time.Hour}}
	rig := apitest.New(t, apitest.Options{RateLimits: &limits})
	alice := rig.Register("alice")
	wrong := map[string]any{"current_password": "wrong horse", "new_password": "battery staple"}
	for range 3 {
		expectProblem(t, rig.Post("/api/v1/me/password", alice.Token, wrong), http.StatusForbidden)
	}
	resp := expectProblem(t, rig.Post("/api/v1/me/password", alice.Token, wrong), http.StatusTooManyRequests)
	_ = resp
	// Account deletion draws on the same budget.
	expectProblem(t, rig.Do(apitest.Request{Method: "DELETE", Path: "/api/v1/me", Token: alice.Token,
		Body: map[string]any{"password": "wrong horse"}}), http.StatusTooManyRequests)
	// Another account is not affected.
	bob := rig.Register("bob")
	apitest.Expect(t, rig.Post("/api/v1/me/password", bob.Token, map[string]any{"current_password": "correct horse", "new_password": "battery staple"}), http.StatusNoContent)
	if !strings.Contains(rig.Get("/api/v1/me", alice.Token).Header.Get("Cache-Control"), "no-store") {
		t.Error("no Cache-Control: no-store on an authenticated response")
	}
}
