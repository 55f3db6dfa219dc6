// Package domain holds Thoughts' entities, value objects, validation rules and
// the repository interfaces the application uses. It imports only the standard
// library and uuid.
package domain

import (
	"errors"
	"fmt"
)

// Sentinel errors. Ports translate them to protocol status codes in one place.
var (
	// ErrNotFound: the thing does not exist, or the caller may not know it exists.
	ErrNotFound = errors.New("not found")
	// ErrGone: the thing existed and was deleted (a tombstone remains).
	ErrGone = errors.New("gone")
	// ErrConflict: the change clashes with existing state (a taken username).
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated: credentials are missing or wrong.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the caller is known but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnprocessable: the request is well formed but the state forbids it.
	ErrUnprocessable = errors.New("unprocessable")
	// ErrUnavailable: the server cannot take this on now (it is at capacity);
	// the same request may succeed shortly.
	ErrUnavailable = errors.New("unavailable")
)

// ValidationError says which field of a request is invalid and why.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// Invalid builds a *ValidationError for field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// DetailedError attaches a client-safe message to a sentinel error, so a port can
// say what went wrong without leaking internals.
type DetailedError struct {
	Kind   error
	Detail string
}

func (e *DetailedError) Error() string { return e.Kind.Error() + ": " + e.Detail }
func (e *DetailedError) Unwrap() error { return e.Kind }

// Errorf wraps kind (one of the sentinels) with a client-safe detail.
func Errorf(kind error, format string, args ...any) error {
	return &DetailedError{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}
