package activitypub

import (
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// loadNote reads the thought a Note route (or, with activity, its Create's
// route) names; ok is false when the response was written. A username in
// other case is redirected to the canonical IRI.
func (s *Server) loadNote(w http.ResponseWriter, r *http.Request, activity bool) (query.NoteView, bool) {
	vars := mux.Vars(r)
	w.Header().Set("Vary", "Accept, Signature, Signature-Input")
	id, err := uuid.Parse(vars["id"])
	if err != nil {
		s.writeError(w, r, domain.Errorf(domain.ErrNotFound, "thought not found"))
		return query.NoteView{}, false
	}
	// Signatures are checked only when the thought is not for anyone:
	// checking one may mean fetching the signer's key.
	v, err := s.fed.NoteForHost.Handle(r.Context(), vars["username"], id, "")
	if errors.Is(err, domain.ErrNotFound) {
		if host := s.signerHost(r); host != "" {
			v, err = s.fed.NoteForHost.Handle(r.Context(), vars["username"], id, host)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return query.NoteView{}, false
	}
	if v.Author.Username != vars["username"] {
		target := s.iris.Thought(v.Author.Username, v.ID)
		if activity {
			target = s.iris.ThoughtActivity(v.Author.Username, v.ID)
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return query.NoteView{}, false
	}
	if v.Deleted() {
		if wantsActivity(r) {
			writeActivity(w, r, http.StatusGone, s.iris.Tombstone(v.ThoughtView))
		} else {
			s.writePage(w, http.StatusGone, gonePage, nil)
		}
		return query.NoteView{}, false
	}
	return v, true
}

// note serves a public or unlisted thought as a Note, or as a small HTML page
// to a browser. A followers-only thought is served only to a signed fetch by
// a server one of whose accounts follows the author (404 to anyone else); a
// deleted thought is a 410 Tombstone.
func (s *Server) note(w http.ResponseWriter, r *http.Request) {
	v, ok := s.loadNote(w, r, false)
	if !ok {
		return
	}
	if !wantsActivity(r) {
		s.writePage(w, http.StatusOK, notePage, map[string]any{
			"ID":        s.iris.Thought(v.Author.Username, v.ID),
			"Author":    "@" + v.Author.Username + "@" + s.public.Host,
			"AuthorURL": s.iris.Actor(v.Author.Username),
			"Warning":   v.ContentWarning,
			"Content":   template.HTML(vocab.TextToHTML(v.Content)), // escaped by TextToHTML
			"Published": v.CreatedAt.UTC().Format(time.RFC3339),
			"APIURL":    s.iris.Base + "/api/v1/thoughts/" + v.ID.String(),
		})
		return
	}
	writeActivity(w, r, http.StatusOK, s.iris.Note(v.ThoughtView, v.InReplyToAuthor))
}

// noteActivity serves the Create of a thought.
func (s *Server) noteActivity(w http.ResponseWriter, r *http.Request) {
	v, ok := s.loadNote(w, r, true)
	if !ok {
		return
	}
	writeActivity(w, r, http.StatusOK, s.iris.CreateNote(v.ThoughtView, s.iris.Note(v.ThoughtView, v.InReplyToAuthor)))
}
