package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
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
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return jsonError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return badRequest(ProblemMalformedJSON, "request body must contain a single JSON object")
	}
	// The decoder takes null for any struct and leaves it as it was: a
	// "null" body would pass as an empty object (found by FuzzDecodeJSON).
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return badRequest(ProblemMalformedJSON, "request body must be a JSON object")
	}
	if field, bad := invalidTextField(body); bad {
		return domain.Invalid(field, "must be valid UTF-8 text (no invalid bytes or unpaired surrogate escapes)")
	}
	return nil
}

// invalidTextField finds the top-level field of a decoded JSON object whose
// value holds bytes that are not UTF-8 or a \u escape of an unpaired UTF-16
// surrogate. encoding/json replaces both with U+FFFD without a word, which
// would store text the client never wrote; refusing it names the field.
func invalidTextField(body []byte) (string, bool) {
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\ud`)) && !bytes.Contains(body, []byte(`\uD`)) {
		return "", false // the common case: nothing to look at closely
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return "", false // not an object: the decoder already said what it needed
	}
	names := slices.Sorted(maps.Keys(fields))
	for _, name := range names {
		if !validJSONText(fields[name]) {
			return name, true
		}
	}
	return "", false
}

// validJSONText reports whether raw, syntactically valid JSON, is UTF-8 and
// pairs every surrogate escape (high then low).
func validJSONText(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	surrogate := func(at int) (rune, bool) {
		if at+6 > len(raw) || raw[at] != '\\' || raw[at+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(raw[at+2:at+6]), 16, 16)
		return rune(v), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := surrogate(i)
		if !ok {
			i++ // another escape: skip the escaped character (it may be a backslash)
			continue
		}
		switch {
		case utf16.IsSurrogate(r) && r < 0xDC00:
			low, ok := surrogate(i + 6)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return false
			}
			i += 11
		case utf16.IsSurrogate(r):
			return false
		default:
			i += 5
		}
	}
	return true
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

// bodyID parses an optional ID field of a request body. IDs travel as strings
// and are parsed here rather than by the JSON decoder, whose error would name
// neither the field nor anything but the UUID parser's internals.
func bodyID(field string, v *string) (*uuid.UUID, error) {
	if v == nil {
		return nil, nil
	}
	id, err := uuid.Parse(*v)
	if err != nil || len(*v) != 36 {
		p := newProblem(http.StatusBadRequest, ProblemBadRequest, field+" must be an ID: a UUID like 01a23333-f208-7727-bfa8-f3e36e6af28b")
		p.Field = field
		return nil, &requestError{p}
	}
	return &id, nil
}

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
