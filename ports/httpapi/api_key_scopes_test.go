package httpapi_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// Issue 9, item 5: the cap on live API keys holds under concurrent creation.
func TestAPIKeyCapHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("alice")
	const tries, maxKeys = 80, 50
	statuses := make([]int, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			statuses[i] = rig.Post("/api/v1/me/api_keys", u.Token, map[string]string{"name": "k"}).Status
		})
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusUnprocessableEntity:
		default:
			t.Errorf("status %d", s)
		}
	}
	var keys []map[string]any
	apitest.Expect(t, rig.Get("/api/v1/me/api_keys", u.Token), http.StatusOK).JSON(t, &keys)
	if created != maxKeys || len(keys) != maxKeys {
		t.Errorf("%d created, %d live; want exactly %d", created, len(keys), maxKeys)
	}
}

// Issue 9, item 5: API keys carry scopes (read: GET; write: everything
// else), and no key can manage keys.
func TestAPIKeyScopes(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("alice")
	create := func(body map[string]any) map[string]any {
		return apitest.Expect(t, rig.Post("/api/v1/me/api_keys", u.Token, body), http.StatusCreated).Map(t)
	}
	scopes := func(k map[string]any) string {
		out := ""
		for _, s := range k["scopes"].([]any) {
			out += s.(string) + " "
		}
		return out
	}
	both := create(map[string]any{"name": "default"})
	ro := create(map[string]any{"name": "reader", "scopes": []string{"read"}})
	wo := create(map[string]any{"name": "writer", "scopes": []string{"write"}})
	if scopes(both) != "read write " || scopes(ro) != "read " || scopes(wo) != "write " {
		t.Errorf("scopes: %v / %v / %v", both["scopes"], ro["scopes"], wo["scopes"])
	}
	var listed []map[string]any
	apitest.Expect(t, rig.Get("/api/v1/me/api_keys", u.Token), http.StatusOK).JSON(t, &listed)
	if len(listed) != 3 || scopes(listed[0]) != "write " {
		t.Errorf("listed = %v", listed)
	}
	token := func(k map[string]any) string { return k["token"].(string) }
	post := func(tok string) apitest.Response {
		return rig.Post("/api/v1/thoughts", tok, map[string]any{"content": "via key"})
	}

	apitest.Expect(t, rig.Get("/api/v1/me", token(both)), http.StatusOK)
	id := apitest.Expect(t, post(token(both)), http.StatusCreated).Map(t)["id"].(string)

	apitest.Expect(t, rig.Get("/api/v1/me", token(ro)), http.StatusOK)
	apitest.Expect(t, rig.Get("/api/v1/thoughts/"+id, token(ro)), http.StatusOK)
	expectProblem(t, post(token(ro)), http.StatusForbidden)
	expectProblem(t, rig.Patch("/api/v1/me", token(ro), map[string]any{"bio": "x"}), http.StatusForbidden)
	expectProblem(t, rig.Delete("/api/v1/thoughts/"+id, token(ro)), http.StatusForbidden)

	expectProblem(t, rig.Get("/api/v1/me", token(wo)), http.StatusForbidden)
	expectProblem(t, rig.Get("/api/v1/thoughts/"+id, token(wo)), http.StatusForbidden)
	apitest.Expect(t, rig.Post("/api/v1/thoughts/"+id+"/like", token(wo), nil), http.StatusOK)

	// No key manages keys, whatever its scopes.
	for _, k := range []map[string]any{both, ro, wo} {
		expectProblem(t, rig.Get("/api/v1/me/api_keys", token(k)), http.StatusForbidden)
		expectProblem(t, rig.Post("/api/v1/me/api_keys", token(k), map[string]any{"name": "more"}), http.StatusForbidden)
		expectProblem(t, rig.Delete("/api/v1/me/api_keys/"+k["id"].(string), token(k)), http.StatusForbidden)
	}
	for _, bad := range []any{[]string{}, []string{"admin"}, []string{"read", "READ"}, "read"} {
		resp := rig.Post("/api/v1/me/api_keys", u.Token, map[string]any{"name": "bad", "scopes": bad})
		if resp.Status != 422 && resp.Status != 400 {
			t.Errorf("scopes %v: %d %s", bad, resp.Status, resp.Body)
		} else if p := resp.Map(t); p["field"] != "scopes" {
			t.Errorf("scopes %v: %v", bad, p)
		}
	}
}
