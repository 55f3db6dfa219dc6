package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// Issue 9, item 4: registration must not tell whether an email address has
// an account. A taken address registers like a fresh one, and nothing the new
// account can do afterwards (sign in, read itself) differs either.
func TestRegistrationDoesNotRevealEmails(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	rig.Register("alice") // alice@example.com
	register := func(username, email string) apitest.Response {
		return rig.Post("/api/v1/auth/register", "", map[string]string{
			"username": username, "email": email, "password": "mallory's password",
		})
	}
	taken := apitest.Expect(t, register("probe1", "ALICE@example.com"), http.StatusCreated)
	fresh := apitest.Expect(t, register("probe2", "nobody@example.com"), http.StatusCreated)
	for name, resp := range map[string]apitest.Response{"taken": taken, "fresh": fresh} {
		me := apitest.Expect(t, rig.Get("/api/v1/me", resp.Map(t)["token"].(string)), http.StatusOK).Map(t)
		if me["email"] == "" {
			t.Errorf("%s: /me = %v", name, me)
		}
	}
	// Email addresses are not sign-in names, so signing in by one says
	// nothing about who holds it, whatever the password.
	for _, email := range []string{"ALICE@example.com", "nobody@example.com", "alice@example.com"} {
		for _, pw := range []string{"mallory's password", "correct horse"} {
			p := expectProblem(t, rig.Post("/api/v1/auth/login", "", map[string]string{"login": email, "password": pw}), 422)
			if p["field"] != "login" {
				t.Errorf("login by %s: %v", email, p)
			}
		}
	}
	// The owner of the address is unaffected.
	apitest.Expect(t, rig.Post("/api/v1/auth/login", "", map[string]string{"login": "alice", "password": "correct horse"}), http.StatusOK)
	// A taken username is still a conflict: usernames are public anyway.
	expectProblem(t, register("alice", "x@example.com"), http.StatusConflict)
}
