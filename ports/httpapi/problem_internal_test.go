package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUnavailableDependencyIs503: an error Config.Unavailable recognises
// (the database down) is answered 503 with Retry-After and a problem body
// that shows none of the error's internals; any other unexpected error
// stays a 500.
func TestUnavailableDependencyIs503(t *testing.T) {
	t.Parallel()
	errDown := errors.New("dial tcp 10.1.2.3:5432: connect: connection refused")
	s := &Server{log: slog.New(slog.DiscardHandler), unavailable: func(err error) bool { return errors.Is(err, errDown) }}
	for _, tc := range []struct {
		err    error
		status int
		typ    string
	}{
		{fmt.Errorf("like thought: %w", errDown), http.StatusServiceUnavailable, ProblemUnavailable},
		{errors.New("something else"), http.StatusInternalServerError, ProblemInternal},
	} {
		h := s.withCorrelationID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeError(w, r, s.log, tc.err) }))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/thoughts/x/like", nil))
		var p Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if rec.Code != tc.status || p.Type != tc.typ {
			t.Errorf("%v: %d %s, want %d %s", tc.err, rec.Code, p.Type, tc.status, tc.typ)
		}
		if strings.Contains(rec.Body.String(), "10.1.2.3") || strings.Contains(rec.Body.String(), "dial") {
			t.Errorf("%v: the answer shows internals: %s", tc.err, rec.Body)
		}
		if tc.status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
			t.Errorf("%v: 503 without Retry-After", tc.err)
		}
	}
}
