package query

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/thoughts-project/thoughts/app/domain"
)

// SearchType says what a search looks for.
type SearchType string

// The search types.
const (
	SearchThoughts SearchType = "thoughts"
	SearchUsers    SearchType = "users"
	SearchTags     SearchType = "tags"
)

// Search limits.
const (
	MaxSearchQueryLen = 200
	// MaxSearchOffset bounds how deep offset pagination may go.
	MaxSearchOffset = 1000
)

// Search is a search request. Results are ranked (not time-ordered), so they
// page by Limit and Offset rather than by keyset.
type Search struct {
	Query  string
	Type   SearchType
	Limit  int
	Offset int
}

// SearchResults holds the results of the one type searched.
type SearchResults struct {
	Thoughts []ThoughtView
	Users    []UserSummary
	Tags     []string
}

// Len is the number of results.
func (r SearchResults) Len() int { return len(r.Thoughts) + len(r.Users) + len(r.Tags) }

// SearchReads is what SearchHandler reads.
type SearchReads interface {
	// SearchThoughts full-text searches the live thoughts viewer may see
	// (leaving out what TagThoughts leaves out), most relevant first.
	SearchThoughts(ctx context.Context, viewer Viewer, q string, limit, offset int) ([]ThoughtView, error)
	// SearchUsers finds users whose username or display name starts with
	// prefix (case-insensitively), leaving out users blocking or blocked by
	// viewer.
	SearchUsers(ctx context.Context, viewer Viewer, prefix string, limit, offset int) ([]UserSummary, error)
	// SearchTags finds tags starting with prefix (lowercase), in name order,
	// that the viewer would see a thought under.
	SearchTags(ctx context.Context, viewer Viewer, prefix string, limit, offset int) ([]string, error)
}

// SearchHandler searches thoughts, users or tags.
type SearchHandler struct{ Reads SearchReads }

// Handle validates and runs the search:
//   - thoughts: full text, most relevant first, among what viewer may see;
//   - users: username or display-name prefix, case-insensitive;
//   - tags: tag-name prefix ("#go" and "go" alike).
//
// Users blocking or blocked by the viewer, and their thoughts, are left out.
func (h SearchHandler) Handle(ctx context.Context, viewer Viewer, s Search) (SearchResults, error) {
	q := strings.TrimSpace(s.Query)
	if q == "" {
		return SearchResults{}, domain.Invalid("q", "is required")
	}
	if !utf8.ValidString(q) || strings.ContainsRune(q, 0) {
		return SearchResults{}, domain.Invalid("q", "must be valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(q); n > MaxSearchQueryLen {
		return SearchResults{}, domain.Invalid("q", "must be at most %d characters (got %d)", MaxSearchQueryLen, n)
	}
	if s.Limit < 1 || s.Limit > domain.MaxPageLimit {
		return SearchResults{}, domain.Invalid("limit", "must be between 1 and %d", domain.MaxPageLimit)
	}
	if s.Offset < 0 || s.Offset > MaxSearchOffset {
		return SearchResults{}, domain.Invalid("offset", "must be between 0 and %d", MaxSearchOffset)
	}
	var res SearchResults
	var err error
	switch s.Type {
	case SearchThoughts, "":
		res.Thoughts, err = h.Reads.SearchThoughts(ctx, viewer, q, s.Limit, s.Offset)
	case SearchUsers, SearchTags:
		// "@bob" and "#go" are how users and tags are written in thoughts.
		prefix := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(q, "@"), "#"))
		if prefix == "" {
			return SearchResults{}, domain.Invalid("q", "needs at least one character besides @ or #")
		}
		if s.Type == SearchUsers {
			res.Users, err = h.Reads.SearchUsers(ctx, viewer, prefix, s.Limit, s.Offset)
		} else {
			res.Tags, err = h.Reads.SearchTags(ctx, viewer, prefix, s.Limit, s.Offset)
		}
	default:
		return SearchResults{}, domain.Invalid("type", "must be one of thoughts, users, tags")
	}
	if err != nil {
		return SearchResults{}, fmt.Errorf("search %s for %q: %w", s.Type, q, err)
	}
	return res, nil
}
