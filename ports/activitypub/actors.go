package activitypub

import (
	"html/template"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app/vocab"
)

// actor serves a local user: their Person document to ActivityPub clients,
// a small HTML profile to everyone else. A name in other case is redirected
// to the canonical URL, so the document's id is always the URL it came from.
func (s *Server) actor(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["username"]
	w.Header().Set("Vary", "Accept")
	p, err := s.app.Queries.UserProfile.Handle(r.Context(), nil, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if p.Username != name {
		http.Redirect(w, r, s.iris.Actor(p.Username), http.StatusMovedPermanently)
		return
	}
	if !wantsActivity(r) {
		s.writePage(w, http.StatusOK, profilePage, map[string]any{
			"Name":     cmpOr(p.DisplayName, p.Username),
			"Handle":   "@" + p.Username + "@" + s.public.Host,
			"Bio":      template.HTML(vocab.TextToHTML(p.Bio)), // escaped by TextToHTML
			"ActorID":  s.iris.Actor(p.Username),
			"APIURL":   s.iris.Base + "/api/v1/users/" + p.Username,
			"Thoughts": p.Thoughts, "Followers": p.Followers, "Following": p.Following,
		})
		return
	}
	key, err := s.fed.EnsureUserKey.Handle(r.Context(), p.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "max-age=180")
	writeActivity(w, r, http.StatusOK, s.iris.Person(p, key.PublicKeyPEM))
}

// instanceActor serves the instance actor, whatever the client accepts: it
// is no one's profile page.
func (s *Server) instanceActor(w http.ResponseWriter, r *http.Request) {
	key, err := s.instancePublicKey(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "max-age=180")
	writeActivity(w, r, http.StatusOK, s.iris.Instance(s.public.Hostname(), key))
}

// instancePublicKey loads (once per process; it never changes) the instance
// actor's public key, creating the actor on first use.
func (s *Server) instancePublicKey(r *http.Request) (string, error) {
	s.instanceMu.Lock()
	defer s.instanceMu.Unlock()
	if s.instanceKey != "" {
		return s.instanceKey, nil
	}
	k, err := s.fed.EnsureInstanceKey.Handle(r.Context())
	if err != nil {
		return "", err
	}
	s.instanceKey = k.PublicKeyPEM
	return s.instanceKey, nil
}

// instanceOutbox is the instance actor's outbox: it publishes nothing.
func (s *Server) instanceOutbox(w http.ResponseWriter, r *http.Request) {
	writeActivity(w, r, http.StatusOK, vocab.OrderedCollection{
		Context: vocab.Context, ID: s.iris.InstanceActor() + "/outbox", Type: "OrderedCollection",
	})
}

// writePage renders an HTML page for browsers, with a policy that lets it
// load nothing.
func (s *Server) writePage(w http.ResponseWriter, status int, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	if err := t.Execute(w, data); err != nil {
		s.log.Error("render page", "err", err)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var profilePage = template.Must(template.New("profile").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Name}} ({{.Handle}})</title>
<link rel="alternate" type="application/activity+json" href="{{.ActorID}}">
</head><body>
<h1>{{.Name}}</h1>
<p>{{.Handle}}</p>
{{.Bio}}
<p>{{.Thoughts}} thoughts · {{.Followers}} followers · {{.Following}} following</p>
<p>Follow {{.Handle}} from your own server, or read the profile through the <a href="{{.APIURL}}">API</a>.</p>
</body></html>
`))

var notePage = template.Must(template.New("note").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Author}}: thought</title>
<link rel="alternate" type="application/activity+json" href="{{.ID}}">
</head><body>
<p><a href="{{.AuthorURL}}">{{.Author}}</a></p>
{{if .Warning}}<p><strong>{{.Warning}}</strong></p>{{end}}
{{.Content}}
<p><time datetime="{{.Published}}">{{.Published}}</time> · <a href="{{.APIURL}}">API</a></p>
</body></html>
`))

var gonePage = template.Must(template.New("gone").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Deleted</title></head>
<body><p>This thought was deleted.</p></body></html>
`))
