package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 10

// requestError is a client mistake in the request itself (not its meaning).
type requestError struct{ problem Problem }

func (e *requestError) Error() string { return e.problem.Detail }

func badRequest(typ, format string, args ...any) error {
	return &requestError{newProblem(http.StatusBadRequest, typ, fmt.Sprintf(format, args...))}
}

// decodeJSON reads exactly one JSON object into dst, refusing unknown fields,
// trailing data, bodies over MaxBodyBytes and non-JSON content types.
func decodeJSON(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &requestError{newProblem(http.StatusUnsupportedMediaType, ProblemUnsupportedMedia,
				"request body must be application/json")}
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return jsonError(err)
		}
		return badRequest(ProblemMalformedJSON, "request body must contain a single JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return &requestError{newProblem(http.StatusRequestEntityTooLarge, ProblemTooLarge,
			fmt.Sprintf("request body must be at most %d bytes", tooBig.Limit))}
	case errors.Is(err, io.EOF):
		return badRequest(ProblemMalformedJSON, "request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest(ProblemMalformedJSON, "request body is truncated JSON")
	case errors.As(err, &syntax):
		return badRequest(ProblemMalformedJSON, "malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return badRequest(ProblemMalformedJSON, "request body must be a JSON object")
		}
		p := newProblem(http.StatusBadRequest, ProblemMalformedJSON, fmt.Sprintf("%s must be %s", field, jsonKind(typ.Type.Kind())))
		p.Field = field
		return &requestError{p}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p := newProblem(http.StatusBadRequest, ProblemMalformedJSON, fmt.Sprintf("unknown field %q", field))
		p.Field = field
		return &requestError{p}
	}
	return badRequest(ProblemMalformedJSON, "malformed JSON: %v", err)
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Float64:
		return "a number"
	}
	return "of another type"
}

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
