package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/ports/internal/httpx"
)

const correlationHeader = "X-Correlation-ID"

// validCorrelationID accepts what proxies and tracing systems commonly send,
// capped in length so a client cannot bloat every log line.
var validCorrelationID = regexp.MustCompile(`^[A-Za-z0-9._:\-]{1,128}$`)

// withCorrelationID takes a valid X-Correlation-ID from the request or makes one,
// echoes it on the response and puts it in the context, from where it reaches
// logs and the events the request causes.
func (s *Server) withCorrelationID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(correlationHeader)
		if !validCorrelationID.MatchString(id) {
			id = uuid.Must(uuid.NewV7()).String()
		}
		w.Header().Set(correlationHeader, id)
		next.ServeHTTP(w, r.WithContext(withUnavailable(events.WithCorrelationID(r.Context(), id), s.unavailable)))
	})
}

// withSecurityHeaders sets the headers every response carries: no MIME
// sniffing (a JSON body is never run as a script or page), no Referer sent
// from anything a client renders, and no caching of a response to a request
// that carried credentials: it is the caller's own view (their notifications,
// liked flags, keys). Handlers that issue credentials to an anonymous request
// (register, login) set no-store themselves.
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Header.Get("Authorization") != "" {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) withAccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &httpx.StatusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		if rec.Status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "http request",
			"method", r.Method, "path", r.URL.Path, "status", rec.Status,
			"bytes", rec.Bytes, "duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic in handler", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeProblem(w, r, newProblem(http.StatusInternalServerError, ProblemInternal, "internal error; quote the correlation ID to the operator"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// errRequestTimeout is the cause of a request context that withDeadline
// ended.
var errRequestTimeout = errors.New("request deadline passed")

// withDeadline ends each request's context after d (0: never), with
// errRequestTimeout as its cause.
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeoutCause(r.Context(), d, errRequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// unboundedRoutes run without the request deadline: deleting an account
// erases everything it made in one transaction, which for a large account
// may take longer than any other request should, and must be able to
// finish (a retry would only start again from nothing).
var unboundedRoutes = map[string]bool{http.MethodDelete + " /api/v1/me": true}

// withRouteDeadline applies the request deadline (Config.RequestTimeout) to
// every route but the unbounded ones.
func (s *Server) withRouteDeadline(next http.Handler) http.Handler {
	bounded := withDeadline(s.timeout, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route := mux.CurrentRoute(r); route != nil {
			if path, err := route.GetPathTemplate(); err == nil && unboundedRoutes[r.Method+" "+path] {
				next.ServeHTTP(w, r)
				return
			}
		}
		bounded.ServeHTTP(w, r)
	})
}

// timedOut reports whether ctx is a request context withDeadline ended.
func timedOut(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errRequestTimeout)
}

func withBodyLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeProblem(w, r, newProblem(http.StatusRequestEntityTooLarge, ProblemTooLarge,
				fmt.Sprintf("request body must be at most %d bytes", MaxBodyBytes)))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}
