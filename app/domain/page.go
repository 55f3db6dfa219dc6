package domain

import "github.com/google/uuid"

// Page limits.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)

// Page selects a window of a list ordered by ID (IDs are UUIDv7, so time-ordered).
// Results are always returned newest first.
//   - MaxID: only items older than it (the next page).
//   - SinceID: only items newer than it, newest first (may skip a gap).
//   - MinID: the items immediately newer than it (the previous page, no gap).
type Page struct {
	Limit   int
	MaxID   *uuid.UUID
	SinceID *uuid.UUID
	MinID   *uuid.UUID
}

// NewPage validates a page request; limit 0 means the default.
func NewPage(limit int, maxID, sinceID, minID *uuid.UUID) (Page, error) {
	if limit == 0 {
		limit = DefaultPageLimit
	}
	if limit < 1 || limit > MaxPageLimit {
		return Page{}, Invalid("limit", "must be between 1 and %d", MaxPageLimit)
	}
	if sinceID != nil && minID != nil {
		return Page{}, Invalid("min_id", "cannot be combined with since_id")
	}
	return Page{Limit: limit, MaxID: maxID, SinceID: sinceID, MinID: minID}, nil
}

// Ascending reports whether storage must read upwards from MinID (and the caller
// reverse the result to keep newest-first order).
func (p Page) Ascending() bool { return p.MinID != nil }
