package httpapi

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

func (s *Server) postThought(w http.ResponseWriter, r *http.Request) {
	var req postThoughtRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	inReplyTo, err := bodyID("in_reply_to_id", req.InReplyToID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	vis, err := domain.ParseVisibility(req.Visibility)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	t, err := s.app.Commands.PostThought.Handle(r.Context(), command.PostThought{
		AuthorID: mustUser(r),
		Draft: domain.ThoughtDraft{Content: req.Content, ContentWarning: req.ContentWarning, Sensitive: req.Sensitive,
			Visibility: vis, InReplyToID: inReplyTo},
	})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.writeThought(w, r, t.ID, http.StatusCreated)
}

// writeThought answers with the thought as the caller now sees it.
func (s *Server) writeThought(w http.ResponseWriter, r *http.Request, id uuid.UUID, status int) {
	v, err := s.app.Queries.Thought.Handle(r.Context(), viewer(r), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", s.public+"/api/v1/thoughts/"+id.String())
	}
	writeJSON(w, status, s.thoughtView(v))
}

func (s *Server) getThought(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.writeThought(w, r, id, http.StatusOK)
}

func (s *Server) editThought(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req editThoughtRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	_, err = s.app.Commands.EditThought.Handle(r.Context(), command.EditThought{
		UserID: mustUser(r), ThoughtID: id,
		Edit: domain.ThoughtEdit{Content: req.Content, ContentWarning: req.ContentWarning, Sensitive: req.Sensitive},
	})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.writeThought(w, r, id, http.StatusOK)
}

func (s *Server) deleteThought(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.app.Commands.DeleteThought.Handle(r.Context(), command.DeleteThought{UserID: mustUser(r), ThoughtID: id}); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type contextJSON struct {
	Ancestors   []thoughtJSON `json:"ancestors"`
	Descendants []thoughtJSON `json:"descendants"`
}

func (s *Server) thoughtContext(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	c, err := s.app.Queries.ThoughtContext.Handle(r.Context(), viewer(r), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, contextJSON{Ancestors: s.thoughtViews(c.Ancestors), Descendants: s.thoughtViews(c.Descendants)})
}

func (s *Server) userThoughts(w http.ResponseWriter, r *http.Request) {
	s.listThoughts(w, r, func(page domain.Page) ([]query.ThoughtView, error) {
		return s.app.Queries.UserThoughts.Handle(r.Context(), viewer(r), mux.Vars(r)["username"], page)
	})
}

// listThoughts answers a keyset-paginated list of thoughts, newest first, with
// its Link header.
func (s *Server) listThoughts(w http.ResponseWriter, r *http.Request, list func(domain.Page) ([]query.ThoughtView, error)) {
	page, err := parsePage(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	vs, err := list(page)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if len(vs) > 0 {
		s.setLinks(w, r, page, vs[0].ID, vs[len(vs)-1].ID, len(vs))
	}
	writeJSON(w, http.StatusOK, s.thoughtViews(vs))
}
