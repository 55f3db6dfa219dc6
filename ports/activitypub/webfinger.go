package activitypub

import (
	"errors"
	"html"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// jrd is a JSON Resource Descriptor (RFC 7033).
type jrd struct {
	Subject string    `json:"subject"`
	Aliases []string  `json:"aliases,omitempty"`
	Links   []jrdLink `json:"links"`
}

type jrdLink struct {
	Rel      string `json:"rel"`
	Type     string `json:"type,omitempty"`
	Href     string `json:"href,omitempty"`
	Template string `json:"template,omitempty"`
}

const relProfilePage = "http://webfinger.net/rel/profile-page"

// webfinger resolves acct:name@host (the subject is echoed exactly as asked,
// port and case included, as GoToSocial and Mastodon expect) or an actor's
// URL to the actor. A resource that is not an acct: URI or an http(s) URL,
// or an acct: without both parts, is 400; anything that names no local actor
// is 404.
func (s *Server) webfinger(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*") // RFC 7033 §5: browsers may query it
	q := r.URL.Query()
	resource := q.Get("resource")
	if resource == "" {
		badRequest(w, "the resource parameter is required")
		return
	}
	if len(q["resource"]) > 1 {
		badRequest(w, "give one resource")
		return
	}
	var name, subject string
	switch {
	case hasPrefixFold(resource, "acct:"):
		acct := strings.TrimPrefix(resource[len("acct:"):], "@") // some send acct:@name@host
		at := strings.LastIndexByte(acct, '@')
		if at <= 0 || at == len(acct)-1 {
			badRequest(w, "an acct: resource is acct:name@host")
			return
		}
		if !s.isOurHost(acct[at+1:]) {
			s.writeError(w, r, domain.Errorf(domain.ErrNotFound, "not a local account"))
			return
		}
		name, subject = acct[:at], resource
	case hasPrefixFold(resource, "https://") || hasPrefixFold(resource, "http://"):
		u, err := url.Parse(resource)
		if err != nil || u.Host == "" {
			badRequest(w, "the resource is not a valid URL")
			return
		}
		var ok bool
		if name, ok = s.actorNameOf(u); !ok {
			s.writeError(w, r, domain.Errorf(domain.ErrNotFound, "not a local actor"))
			return
		}
		subject = "acct:" + name + "@" + s.public.Host
	default:
		badRequest(w, "the resource must be an acct: URI or an http(s) URL")
		return
	}

	var id string
	var aliases []string
	p, err := s.app.Queries.UserProfile.Handle(r.Context(), nil, name)
	switch {
	case err == nil:
		id = s.iris.Actor(p.Username)
		if subject != resource { // asked by URL: the canonical account
			subject = "acct:" + p.Username + "@" + s.public.Host
		}
	case errors.Is(err, domain.ErrNotFound) && strings.EqualFold(name, vocab.InstanceActorName(s.public.Hostname())):
		id = s.iris.InstanceActor()
	default:
		s.writeError(w, r, err)
		return
	}
	aliases = append(aliases, id)
	links := []jrdLink{
		{Rel: "self", Type: vocab.MediaTypeActivity, Href: id},
		{Rel: relProfilePage, Type: "text/html", Href: id},
	}
	// RFC 7033 §4.3: rel parameters select the links returned.
	if rels := q["rel"]; len(rels) > 0 {
		links = slices.DeleteFunc(links, func(l jrdLink) bool { return !slices.Contains(rels, l.Rel) })
	}
	writeJSON(w, http.StatusOK, "application/jrd+json; charset=utf-8", jrd{Subject: subject, Aliases: aliases, Links: links})
}

// actorNameOf returns the local actor name a URL of ours names: a user's
// actor or the instance actor (under its WebFinger name).
func (s *Server) actorNameOf(u *url.URL) (string, bool) {
	if !s.isOurHost(u.Host) {
		return "", false
	}
	base := strings.TrimRight(s.public.Path, "/")
	path, ok := strings.CutPrefix(u.Path, base)
	if !ok {
		return "", false
	}
	if path == "/actor" {
		return vocab.InstanceActorName(s.public.Hostname()), true
	}
	name, ok := strings.CutPrefix(path, "/users/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// isOurHost reports whether host (with or without a port) is this server's:
// the name must match; a port, if given, must be ours (Mastodon drops the
// port from handles, so both forms resolve).
func (s *Server) isOurHost(host string) bool {
	name, port := host, ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		name, port = h, p
	}
	if !strings.EqualFold(strings.Trim(name, "[]"), s.public.Hostname()) {
		return false
	}
	if port == "" {
		return true
	}
	ours := s.public.Port()
	if ours == "" {
		ours = map[string]string{"http": "80", "https": "443"}[s.public.Scheme]
	}
	return port == ours
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// hostMeta is the XRD pointing at WebFinger, for the servers that still look
// there first.
func (s *Server) hostMeta(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/xrd+xml; charset=utf-8")
	tmpl := s.iris.Base + "/.well-known/webfinger?resource={uri}"
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">` + "\n" +
		`  <Link rel="lrdd" type="application/jrd+json" template="` + html.EscapeString(tmpl) + `"/>` + "\n" +
		`</XRD>` + "\n"))
}
