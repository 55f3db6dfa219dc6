package activitypub

import (
	"context"
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// collectionPageSize is the number of items on one page of a collection.
const collectionPageSize = 20

// Collections are paged like Mastodon's: the collection itself holds the
// total and the first page's IRI; ?page=true is the newest page, and pages
// link on with max_id (older) and min_id (newer), keyset cursors of the API.

// pageRequest reads ?page=true&max_id=…|min_id=…; isPage is false for the
// collection itself.
func pageRequest(r *http.Request) (page domain.Page, isPage bool, err error) {
	q := r.URL.Query()
	if q.Get("page") != "true" {
		return domain.Page{}, false, nil
	}
	parse := func(name string) (*uuid.UUID, error) {
		v := q.Get(name)
		if v == "" {
			return nil, nil
		}
		id, err := uuid.Parse(v)
		if err != nil {
			return nil, domain.Invalid(name, "is not a valid ID")
		}
		return &id, nil
	}
	maxID, err := parse("max_id")
	if err != nil {
		return domain.Page{}, true, err
	}
	minID, err := parse("min_id")
	if err != nil {
		return domain.Page{}, true, err
	}
	page, err = domain.NewPage(collectionPageSize, maxID, nil, minID)
	return page, true, err
}

// pageLinks returns the IRIs of the pages around one whose items run from
// first (newest) to last (oldest) cursor.
func pageLinks(base string, n int, first, last uuid.UUID) (next, prev string) {
	if n == 0 {
		return "", ""
	}
	if n == collectionPageSize {
		next = base + "?page=true&max_id=" + url.QueryEscape(last.String())
	}
	prev = base + "?page=true&min_id=" + url.QueryEscape(first.String())
	return next, prev
}

// outbox is a user's public and unlisted thoughts as Creates.
func (s *Server) outbox(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["username"]
	p, err := s.app.Queries.UserProfile.Handle(r.Context(), nil, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := s.iris.Outbox(p.Username)
	page, isPage, err := pageRequest(r)
	switch {
	case err != nil:
		s.writeError(w, r, err)
		return
	case !isPage:
		writeActivity(w, r, http.StatusOK, vocab.OrderedCollection{
			Context: vocab.Context, ID: id, Type: "OrderedCollection", TotalItems: p.Thoughts, First: id + "?page=true",
		})
		return
	}
	notes, err := s.fed.Outbox.Handle(r.Context(), p.Username, page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]any, 0, len(notes))
	for _, n := range notes {
		items = append(items, s.iris.CreateNote(n.ThoughtView, s.iris.Note(n.ThoughtView, n.InReplyToAuthor)))
	}
	out := vocab.OrderedCollectionPage{
		Context: vocab.Context, ID: id + "?" + r.URL.RawQuery, Type: "OrderedCollectionPage", PartOf: id,
		TotalItems: p.Thoughts, OrderedItems: items,
	}
	if len(notes) > 0 {
		out.Next, out.Prev = pageLinks(id, len(notes), notes[0].ID, notes[len(notes)-1].ID)
	}
	writeActivity(w, r, http.StatusOK, out)
}

func (s *Server) followers(w http.ResponseWriter, r *http.Request) {
	s.userCollection(w, r, s.iris.Followers, func(p query.Profile) int { return p.Followers },
		s.app.Queries.Followers.Handle)
}

func (s *Server) following(w http.ResponseWriter, r *http.Request) {
	s.userCollection(w, r, s.iris.Following, func(p query.Profile) int { return p.Following },
		s.app.Queries.Following.Handle)
}

// userCollection serves a followers or following collection: the total
// always, the members (actor IRIs) only for an unlocked account; a locked
// account chose who sees it, so its members are not listed to everyone.
func (s *Server) userCollection(w http.ResponseWriter, r *http.Request, iri func(string) string, total func(query.Profile) int,
	list func(ctx context.Context, username string, page domain.Page) ([]query.ListedUser, error)) {
	name := mux.Vars(r)["username"]
	p, err := s.app.Queries.UserProfile.Handle(r.Context(), nil, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := iri(p.Username)
	page, isPage, err := pageRequest(r)
	switch {
	case err != nil:
		s.writeError(w, r, err)
		return
	case !isPage || p.Locked:
		c := vocab.OrderedCollection{Context: vocab.Context, ID: id, Type: "OrderedCollection", TotalItems: total(p)}
		if !p.Locked {
			c.First = id + "?page=true"
		}
		writeActivity(w, r, http.StatusOK, c)
		return
	}
	users, err := list(r.Context(), p.Username, page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]any, 0, len(users))
	for _, u := range users {
		items = append(items, s.iris.Actor(u.Username))
	}
	out := vocab.OrderedCollectionPage{
		Context: vocab.Context, ID: id + "?" + r.URL.RawQuery, Type: "OrderedCollectionPage", PartOf: id,
		TotalItems: total(p), OrderedItems: items,
	}
	if len(users) > 0 {
		out.Next, out.Prev = pageLinks(id, len(users), users[0].Cursor, users[len(users)-1].Cursor)
	}
	writeActivity(w, r, http.StatusOK, out)
}
