package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/thoughts-project/thoughts/app/command"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

// search answers GET /search?q=&type=thoughts|users|tags&limit=&offset=.
// Results are ranked, not time-ordered, so they page by offset; rel="next"
// links to the following page while pages come back full.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	q := params.Get("q")
	if q == "" {
		writeError(w, r, s.log, paramError("q", "is required: the text to search for"))
		return
	}
	if !utf8.ValidString(q) {
		writeError(w, r, s.log, paramError("q", "must be UTF-8 text, percent-encoded byte by byte (%%C3%%A9 for é)"))
		return
	}
	typ := query.SearchType(params.Get("type"))
	switch typ {
	case "":
		typ = query.SearchThoughts
	case query.SearchThoughts, query.SearchUsers, query.SearchTags:
	default:
		writeError(w, r, s.log, paramError("type", "must be one of thoughts, users, tags"))
		return
	}
	limit, offset := domain.DefaultPageLimit, 0
	if v := params.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > domain.MaxPageLimit {
			writeError(w, r, s.log, paramError("limit", "must be an integer between 1 and %d", domain.MaxPageLimit))
			return
		}
		limit = n
	}
	if v := params.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > query.MaxSearchOffset {
			writeError(w, r, s.log, paramError("offset", "must be an integer between 0 and %d", query.MaxSearchOffset))
			return
		}
		offset = n
	}
	res, err := s.app.Queries.Search.Handle(r.Context(), viewer(r), query.Search{Query: q, Type: typ, Limit: limit, Offset: offset})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if typ == query.SearchUsers && offset == 0 && command.IsRemoteHandle(q) && !strings.ContainsAny(strings.TrimSpace(q), " \t") {
		res.Users = s.withResolved(r, strings.TrimSpace(q), res.Users)
	}
	if n := res.Len(); n == limit && offset+limit <= query.MaxSearchOffset {
		next := url.Values{}
		for k, vs := range params {
			next[k] = vs
		}
		next.Set("limit", strconv.Itoa(limit))
		next.Set("offset", strconv.Itoa(offset+limit))
		w.Header().Set("Link", "<"+s.public+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
	}
	switch typ {
	case query.SearchUsers:
		writeJSON(w, http.StatusOK, summariesView(res.Users))
	case query.SearchTags:
		writeJSON(w, http.StatusOK, s.tagsView(res.Tags))
	default:
		writeJSON(w, http.StatusOK, s.thoughtViews(res.Thoughts))
	}
}

// withResolved puts the remote account named by handle (name@host, resolved
// through WebFinger if unknown) first in users. One that cannot be resolved
// leaves users as they are: a search finds what it can.
func (s *Server) withResolved(r *http.Request, handle string, users []query.UserSummary) []query.UserSummary {
	if s.app.Commands.ResolveAccount == nil {
		return users
	}
	id, err := s.app.Commands.ResolveAccount.AccountID(r.Context(), handle)
	if err != nil {
		s.log.InfoContext(r.Context(), "search: remote account not resolved", "handle", handle, "err", err)
		return users
	}
	p, err := s.app.Queries.ProfileByID.Handle(r.Context(), viewer(r), id)
	if err != nil {
		return users
	}
	out := []query.UserSummary{{ID: p.ID, Username: p.Username, DisplayName: p.DisplayName}}
	for _, u := range users {
		if u.ID != p.ID {
			out = append(out, u)
		}
	}
	return out
}
