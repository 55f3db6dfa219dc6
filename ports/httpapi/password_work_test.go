package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// Issue 9, item 3: password work is bounded. When every turn is taken and
// the queue is full, login and registration answer 503 with Retry-After at
// once, the same for a known and an unknown login.
func TestPasswordWorkAtCapacityAnswers503(t *testing.T) {
	t.Parallel()
	gate := auth.NewWorkGate(auth.WorkLimits{Concurrent: 1, Queue: 0})
	rig := apitest.New(t, apitest.Options{PasswordGate: gate})
	rig.Register("alice")

	release, err := gate.Enter() // every turn taken, nowhere to wait
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]map[string]string{
		"known login":   {"login": "alice", "password": "correct horse"},
		"unknown login": {"login": "nobody", "password": "correct horse"},
	} {
		start := time.Now()
		resp := rig.Post("/api/v1/auth/login", "", body)
		p := expectProblem(t, resp, http.StatusServiceUnavailable)
		if resp.Header.Get("Retry-After") == "" || p["type"] != "urn:thoughts:problem:unavailable" {
			t.Errorf("%s: Retry-After %q, problem %v", name, resp.Header.Get("Retry-After"), p)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: refused after %v, not at once", name, d)
		}
	}
	resp := rig.Post("/api/v1/auth/register", "", map[string]string{"username": "bob", "email": "b@example.com", "password": "correct horse"})
	expectProblem(t, resp, http.StatusServiceUnavailable)
	release()

	apitest.Expect(t, rig.Post("/api/v1/auth/login", "", map[string]string{"login": "alice", "password": "correct horse"}), http.StatusOK)
	rig.Register("bob")
}
