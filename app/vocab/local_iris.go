package vocab

import (
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// Reading local IRIs back: what a remote activity names of ours.

// local returns the path of iri under Base, split at '/', with ok false when
// iri is not ours (or has a query or fragment).
func (i IRIs) local(iri string) ([]string, bool) {
	rest, ok := strings.CutPrefix(iri, i.Base+"/")
	if !ok || strings.ContainsAny(rest, "?#") {
		return nil, false
	}
	parts := strings.Split(rest, "/")
	for k, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil || u == "" {
			return nil, false
		}
		parts[k] = u
	}
	return parts, true
}

// IsLocal reports whether iri is on this server.
func (i IRIs) IsLocal(iri string) bool { return SameHost(iri, i.Base+"/") }

// LocalUsername returns the username of a local actor IRI
// (BASE/users/NAME).
func (i IRIs) LocalUsername(iri string) (string, bool) {
	p, ok := i.local(iri)
	if !ok || len(p) != 2 || p[0] != "users" {
		return "", false
	}
	return strings.ToLower(p[1]), true
}

// LocalThought returns the id of a local thought's IRI
// (BASE/users/NAME/thoughts/ID).
func (i IRIs) LocalThought(iri string) (uuid.UUID, bool) {
	p, ok := i.local(iri)
	if !ok || len(p) != 4 || p[0] != "users" || p[2] != "thoughts" {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(p[3])
	return id, err == nil
}

// LocalFollow returns the follow id of the IRI of a Follow we sent
// (BASE/users/NAME/follows/ID), which a remote Accept or Reject quotes.
func (i IRIs) LocalFollow(iri string) (uuid.UUID, bool) {
	p, ok := i.local(iri)
	if !ok || len(p) != 4 || p[0] != "users" || p[2] != "follows" {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(p[3])
	return id, err == nil
}
