package activitypub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A request whose deadline (the API's REQUEST_TIMEOUT) cut its work short is
// answered 503 with Retry-After, so the sending server retries, not 500; a
// failure with the deadline still ahead stays a 500.
func TestDeadlineIsAnswered503(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	stmtErr := fmt.Errorf("insert inbox activity: %w", ctx.Err())

	w := httptest.NewRecorder()
	s.writeError(w, httptest.NewRequest(http.MethodPost, "/inbox", nil).WithContext(ctx), stmtErr)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("past the deadline: %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}

	w = httptest.NewRecorder()
	s.writeError(w, httptest.NewRequest(http.MethodPost, "/inbox", nil), errors.New("boom"))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("before the deadline: %d, want 500", w.Code)
	}
}
