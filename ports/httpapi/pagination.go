package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// parsePage reads limit, max_id, since_id and min_id. Malformed values are 400s
// naming the parameter.
func parsePage(r *http.Request) (domain.Page, error) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > domain.MaxPageLimit {
			return domain.Page{}, paramError("limit", "must be an integer between 1 and %d", domain.MaxPageLimit)
		}
		limit = n
	}
	ids := map[string]*uuid.UUID{}
	for _, name := range []string{"max_id", "since_id", "min_id"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		id, err := uuid.Parse(v)
		if err != nil {
			return domain.Page{}, paramError(name, "must be an ID")
		}
		ids[name] = &id
	}
	if ids["since_id"] != nil && ids["min_id"] != nil {
		return domain.Page{}, paramError("min_id", "cannot be combined with since_id")
	}
	p, err := domain.NewPage(limit, ids["max_id"], ids["since_id"], ids["min_id"])
	if err != nil {
		return domain.Page{}, err
	}
	return p, nil
}

func paramError(name, format string, args ...any) error {
	err := badRequest(ProblemBadRequest, name+" "+format, args...).(*requestError)
	err.problem.Field = name
	return err
}

// setLinks writes the Link header for a newest-first list whose first and last
// IDs are given: rel="next" continues into older items, rel="prev" fetches
// newer ones without a gap.
func (s *Server) setLinks(w http.ResponseWriter, r *http.Request, page domain.Page, first, last uuid.UUID, n int) {
	if n == 0 {
		return
	}
	link := func(param string, id uuid.UUID, rel string) string {
		q := url.Values{}
		for k, vs := range r.URL.Query() {
			if k != "max_id" && k != "since_id" && k != "min_id" {
				q[k] = vs
			}
		}
		q.Set("limit", strconv.Itoa(page.Limit))
		q.Set(param, id.String())
		return "<" + s.public + r.URL.Path + "?" + q.Encode() + `>; rel="` + rel + `"`
	}
	links := []string{}
	if n >= page.Limit {
		links = append(links, link("max_id", last, "next"))
	}
	links = append(links, link("min_id", first, "prev"))
	w.Header().Set("Link", strings.Join(links, ", "))
}
