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
