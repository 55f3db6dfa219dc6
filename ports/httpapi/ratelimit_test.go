package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/ports/httpapi"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// Buckets that refill once an hour: a test never sees a refill, so what is
// refused is exactly what went over the burst.
func hourly(burst int) httpapi.Rate { return httpapi.Rate{Burst: burst, Every: time.Hour} }

func expectLimited(t *testing.T, resp apitest.Response, limit int) {
	t.Helper()
	expectProblem(t, resp, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
	}
	if got := resp.Header.Get("RateLimit-Limit"); got != strconv.Itoa(limit) {
		t.Errorf("RateLimit-Limit = %q, want %d", got, limit)
	}
	if got := resp.Header.Get("RateLimit-Remaining"); got != "0" {
		t.Errorf("RateLimit-Remaining = %q, want 0", got)
	}
	if s, err := strconv.Atoi(resp.Header.Get("RateLimit-Reset")); err != nil || s < 1 {
		t.Errorf("RateLimit-Reset = %q", resp.Header.Get("RateLimit-Reset"))
	}
}

// Issue 9, item 3: wrong passwords are limited per account, whether the
// account exists or not; a success costs nothing; the right password does not
// get through a spent limit.
func TestLoginFailuresAreLimitedPerAccount(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t, apitest.Options{RateLimits: &httpapi.RateLimits{
		LoginPerIP: hourly(100), LoginPerAccount: hourly(3),
	}})
	rig.Register("alice")
	rig.Register("bob")
	login := func(name, pw string) apitest.Response {
		return rig.Post("/api/v1/auth/login", "", map[string]string{"login": name, "password": pw})
	}
	for i := range 5 { // successes do not count
		resp := apitest.Expect(t, login("bob", "correct horse"), http.StatusOK)
		if got := resp.Header.Get("RateLimit-Limit"); got == "" {
			t.Errorf("login %d: no RateLimit-Limit", i)
		}
	}
	for _, name := range []string{"alice", "nobody"} {
		for i := range 3 {
			resp := login(name, "wrong password")
			expectProblem(t, resp, http.StatusUnauthorized)
			if got, want := resp.Header.Get("RateLimit-Remaining"), strconv.Itoa(2-i); got != want {
				t.Errorf("%s attempt %d: RateLimit-Remaining = %q, want %s", name, i+1, got, want)
			}
		}
		expectLimited(t, login(name, "wrong password"), 3)
		// Case and the @ of a mention do not make another account.
		expectLimited(t, login("@"+name, "wrong password"), 3)
	}
	expectLimited(t, login("ALICE", "correct horse"), 3)
	apitest.Expect(t, login("bob", "correct horse"), http.StatusOK)
}

// Issue 9, item 3: every sign-in attempt from one address counts.
func TestLoginIsLimitedPerAddress(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t, apitest.Options{RateLimits: &httpapi.RateLimits{LoginPerIP: hourly(4), LoginPerAccount: hourly(100)}})
	rig.Register("alice")
	for i := range 4 {
		name := fmt.Sprintf("user%d", i)
		expectProblem(t, rig.Post("/api/v1/auth/login", "", map[string]string{"login": name, "password": "wrong password"}), 401)
	}
	expectLimited(t, rig.Post("/api/v1/auth/login", "", map[string]string{"login": "alice", "password": "correct horse"}), 4)
}

func TestRegistrationIsLimitedPerAddress(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t, apitest.Options{RateLimits: &httpapi.RateLimits{RegisterPerIP: hourly(2)}})
	rig.Register("alice")
	rig.Register("bob")
	expectLimited(t, rig.Post("/api/v1/auth/register", "", map[string]string{
		"username": "carol", "email": "c@example.com", "password": "correct horse"}), 2)
}

// Writes are limited per account and per address; reads are not.
func TestWritesAreLimited(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t, apitest.Options{RateLimits: &httpapi.RateLimits{
		RegisterPerIP: hourly(100), WritePerAccount: hourly(3), WritePerIP: hourly(5),
	}})
	alice, bob, carol := rig.Register("alice"), rig.Register("bob"), rig.Register("carol")
	var id string
	for i := range 3 {
		resp := apitest.Expect(t, rig.Post("/api/v1/thoughts", alice.Token, map[string]any{"content": "hello"}), http.StatusCreated)
		id = resp.Map(t)["id"].(string)
		if got, want := resp.Header.Get("RateLimit-Remaining"), strconv.Itoa(2-i); got != want {
			t.Errorf("write %d: RateLimit-Remaining = %q, want %s", i+1, got, want)
		}
	}
	expectLimited(t, rig.Post("/api/v1/thoughts", alice.Token, map[string]any{"content": "one too many"}), 3)
	expectLimited(t, rig.Patch("/api/v1/me", alice.Token, map[string]any{"bio": "x"}), 3)
	for range 10 {
		apitest.Expect(t, rig.Get("/api/v1/thoughts/"+id, alice.Token), http.StatusOK)
	}
	// Another account writes on from the same address, until the address's
	// own limit (5, of which alice used 3) is spent.
	apitest.Expect(t, rig.Post("/api/v1/thoughts/"+id+"/like", bob.Token, nil), http.StatusOK)
	apitest.Expect(t, rig.Post("/api/v1/thoughts/"+id+"/like", carol.Token, nil), http.StatusOK)
	expectLimited(t, rig.Post("/api/v1/thoughts/"+id+"/boost", carol.Token, nil), 5)
}
