package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/thoughts-project/thoughts/ports/internal/httpx"
)

func TestStatusRecorder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBytes  int
	}{
		{"nothing written", func(http.ResponseWriter, *http.Request) {}, 0, 0},
		{"body only", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) }, http.StatusOK, 5},
		{"status only", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, http.StatusNoContent, 0},
		{"status then body", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte("short"))
			_, _ = w.Write([]byte(" and stout"))
		}, http.StatusTeapot, 15},
		{"second status ignored", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusNotFound, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := httptest.NewRecorder()
			rec := &httpx.StatusRecorder{ResponseWriter: resp}
			tt.handler(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Status != tt.wantStatus || rec.Bytes != tt.wantBytes {
				t.Errorf("recorded %d, %d bytes; want %d, %d", rec.Status, rec.Bytes, tt.wantStatus, tt.wantBytes)
			}
			if rec.Bytes != resp.Body.Len() {
				t.Errorf("counted %d bytes, %d written", rec.Bytes, resp.Body.Len())
			}
			if tt.wantStatus != 0 && resp.Code != tt.wantStatus {
				t.Errorf("client got %d, want %d", resp.Code, tt.wantStatus)
			}
			if rec.Unwrap() != resp {
				t.Error("Unwrap does not return the wrapped writer")
			}
		})
	}
}
