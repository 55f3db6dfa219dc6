package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/thoughts-project/thoughts/app/domain"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Field names the invalid request field, for validation problems.
	Field string `json:"field,omitempty"`
	// CorrelationID lets a client quote the request to an operator.
	CorrelationID string `json:"correlation_id,omitempty"`
}

// Problem types: stable URNs a client can switch on.
const (
	ProblemValidation       = "urn:thoughts:problem:validation"
	ProblemBadRequest       = "urn:thoughts:problem:bad-request"
	ProblemMalformedJSON    = "urn:thoughts:problem:malformed-json"
	ProblemUnauthenticated  = "urn:thoughts:problem:unauthenticated"
	ProblemForbidden        = "urn:thoughts:problem:forbidden"
	ProblemNotFound         = "urn:thoughts:problem:not-found"
	ProblemMethodNotAllowed = "urn:thoughts:problem:method-not-allowed"
	ProblemConflict         = "urn:thoughts:problem:conflict"
	ProblemGone             = "urn:thoughts:problem:gone"
	ProblemTooLarge         = "urn:thoughts:problem:request-too-large"
	ProblemUnsupportedMedia = "urn:thoughts:problem:unsupported-media-type"
	ProblemUnprocessable    = "urn:thoughts:problem:unprocessable"
	ProblemInternal         = "urn:thoughts:problem:internal"
	ProblemUnavailable      = "urn:thoughts:problem:unavailable"
	ProblemTooManyRequests  = "urn:thoughts:problem:too-many-requests"
)

func newProblem(status int, typ, detail string) Problem {
	return Problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail}
}

// writeProblem sends p as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.Instance = r.URL.Path
	p.CorrelationID = w.Header().Get(correlationHeader)
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="thoughts"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeError is the one place errors become HTTP statuses. Domain errors carry
// client-safe details; anything else is logged and answered with a bare 500.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var verr *domain.ValidationError
	var derr *domain.DetailedError
	detail := ""
	if errors.As(err, &derr) {
		detail = derr.Detail
	}
	var rerr *requestError
	var p Problem
	switch {
	case errors.As(err, &rerr):
		p = rerr.problem
	case errors.As(err, &verr):
		p = newProblem(http.StatusUnprocessableEntity, ProblemValidation, verr.Error())
		p.Field = verr.Field
	case errors.Is(err, domain.ErrNotFound):
		p = newProblem(http.StatusNotFound, ProblemNotFound, cmp.Or(detail, "not found"))
	case errors.Is(err, domain.ErrGone):
		p = newProblem(http.StatusGone, ProblemGone, cmp.Or(detail, "deleted"))
	case errors.Is(err, domain.ErrConflict):
		p = newProblem(http.StatusConflict, ProblemConflict, cmp.Or(detail, "conflict"))
	case errors.Is(err, domain.ErrUnauthenticated):
		p = newProblem(http.StatusUnauthorized, ProblemUnauthenticated, cmp.Or(detail, "authentication required"))
	case errors.Is(err, domain.ErrForbidden):
		p = newProblem(http.StatusForbidden, ProblemForbidden, cmp.Or(detail, "forbidden"))
	case errors.Is(err, domain.ErrUnprocessable):
		p = newProblem(http.StatusUnprocessableEntity, ProblemUnprocessable, cmp.Or(detail, "cannot be done"))
	case errors.Is(err, domain.ErrUnavailable):
		// At capacity: answered at once, so a client backs off instead of
		// piling onto a queue.
		w.Header().Set("Retry-After", "1")
		p = newProblem(http.StatusServiceUnavailable, ProblemUnavailable, cmp.Or(detail, "busy; retry shortly"))
	case timedOut(r.Context()):
		// The request's deadline passed and cut its work short (a lock or
		// pool wait, a slow statement); its transaction was rolled back
		// unless its COMMIT had already reached the server.
		logger.WarnContext(r.Context(), "request stopped at its deadline", "err", err, "method", r.Method, "path", r.URL.Path)
		w.Header().Set("Retry-After", "2")
		p = newProblem(http.StatusServiceUnavailable, ProblemUnavailable, "the request took too long and was stopped; retry shortly")
	case unavailable(r.Context(), err):
		// A dependency (the database) is down or restarting: the same
		// request may work in a moment. Answered as soon as the failure is
		// known, without its internals.
		logger.WarnContext(r.Context(), "request failed: dependency unavailable", "err", err, "method", r.Method, "path", r.URL.Path)
		w.Header().Set("Retry-After", "2")
		p = newProblem(http.StatusServiceUnavailable, ProblemUnavailable, "temporarily unavailable; retry shortly")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads this answer.
		p = newProblem(499, ProblemBadRequest, "client closed request")
		p.Title = "Client Closed Request"
	default:
		logger.ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method, "path", r.URL.Path)
		p = newProblem(http.StatusInternalServerError, ProblemInternal, "internal error; quote the correlation ID to the operator")
	}
	writeProblem(w, r, p)
}

type unavailableKey struct{}

// withUnavailable puts the API's Config.Unavailable into ctx, for writeError.
func withUnavailable(ctx context.Context, f func(error) bool) context.Context {
	if f == nil {
		return ctx
	}
	return context.WithValue(ctx, unavailableKey{}, f)
}

// unavailable reports whether err means a dependency is unavailable, by the
// request's Config.Unavailable.
func unavailable(ctx context.Context, err error) bool {
	f, _ := ctx.Value(unavailableKey{}).(func(error) bool)
	return f != nil && f(err)
}
