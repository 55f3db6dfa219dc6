package httpapi_test

import (
	"testing"

	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// Issue 9, item 6: nosniff and no-referrer on every response, no-store on
// every authenticated or token-bearing one.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("alice")
	key := apitest.Expect(t, rig.Post("/api/v1/me/api_keys", u.Token, map[string]string{"name": "cli"}), 201).Map(t)["token"].(string)
	for _, c := range []struct {
		name    string
		req     apitest.Request
		status  int
		noStore bool
	}{
		{"health", apitest.Request{Method: "GET", Path: "/healthz"}, 200, false},
		{"anonymous profile", apitest.Request{Method: "GET", Path: "/api/v1/users/alice"}, 200, false},
		{"openapi", apitest.Request{Method: "GET", Path: "/api/v1/openapi.json"}, 200, false},
		{"unknown route", apitest.Request{Method: "GET", Path: "/nope"}, 404, true},
		{"register", apitest.Request{Method: "POST", Path: "/api/v1/auth/register",
			Body: map[string]string{"username": "bob", "email": "b@example.com", "password": "correct horse"}}, 201, true},
		{"login", apitest.Request{Method: "POST", Path: "/api/v1/auth/login",
			Body: map[string]string{"login": "alice", "password": "correct horse"}}, 200, true},
		{"me by token", apitest.Request{Method: "GET", Path: "/api/v1/me", Token: u.Token}, 200, true},
		{"profile by token", apitest.Request{Method: "GET", Path: "/api/v1/users/alice", Token: u.Token}, 200, true},
		{"profile by key", apitest.Request{Method: "GET", Path: "/api/v1/users/alice", Token: key}, 200, true},
		{"bad token", apitest.Request{Method: "GET", Path: "/api/v1/me", Token: "nope"}, 401, true},
	} {
		resp := apitest.Expect(t, rig.Do(c.req), c.status)
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q", c.name, got)
		}
		if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy = %q", c.name, got)
		}
		if got := resp.Header.Get("Cache-Control"); c.noStore && got != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", c.name, got)
		}
	}
}
