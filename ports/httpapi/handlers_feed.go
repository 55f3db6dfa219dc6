package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, err := s.app.Queries.Feed.Handle(r.Context(), mustUser(r), page)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if len(items) > 0 {
		s.setLinks(w, r, page, items[0].ID, items[len(items)-1].ID, len(items))
	}
	writeJSON(w, http.StatusOK, s.feedView(items))
}

func (s *Server) tagThoughts(w http.ResponseWriter, r *http.Request) {
	s.listThoughts(w, r, func(page domain.Page) ([]query.ThoughtView, error) {
		return s.app.Queries.TagThoughts.Handle(r.Context(), viewer(r), mux.Vars(r)["tag"], page)
	})
}
