package vocab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Reading what other servers send. Their documents come in shapes the specs
// allow and servers use: a property holds one value or an array, an IRI or
// the object it names, content may be in contentMap. Incoming reads those
// loosely into one shape and refuses only what cannot be an activity at
// all; the inbox handler decides what an activity means.

// ErrMalformed wraps every reason an incoming document was refused.
var ErrMalformed = errors.New("malformed ActivityStreams document")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// MaxNesting bounds how deep objects embedded in objects are read (Undo of a
// Like of a Note is three): deeper ones are kept as their IRI only.
const MaxNesting = 4

// Incoming is an activity or object as received.
type Incoming struct {
	ID   string
	Type string
	// Actor is the IRI of the actor (the first, if several).
	Actor string
	// Object is the object, embedded (Embedded true: its properties were
	// read) or named by IRI only; nil when absent.
	Object *Incoming
	// Embedded reports whether this object came as a document rather than
	// an IRI.
	Embedded bool
	// Target is the IRI of the target, if any.
	Target string

	AttributedTo string
	// Content is the HTML content (content, else the first contentMap
	// entry); Summary the content warning of a Note.
	Content   string
	Summary   string
	Sensitive bool
	InReplyTo string
	URL       string
	Published *time.Time
	Updated   *time.Time
	To, Cc    []string
	Tags      []IncomingTag
}

// IncomingTag is a Mention or Hashtag of a Note.
type IncomingTag struct {
	Type string
	Href string
	Name string
}

// ParseActivity reads an activity delivered to an inbox. It must be a JSON
// object with an ActivityStreams @context, an absolute http(s) id on the
// actor's host, a type and an actor.
func ParseActivity(raw []byte) (Incoming, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return Incoming{}, malformed("not a JSON object: %v", err)
	}
	if !HasASContext(top["@context"]) {
		return Incoming{}, malformed("@context lacks ActivityStreams")
	}
	a, err := readObject(top, 0)
	if err != nil {
		return Incoming{}, err
	}
	switch {
	case a.ID == "":
		return Incoming{}, malformed("the activity has no id")
	case !validType(a.Type):
		return Incoming{}, malformed("the activity's type is missing or not a type name")
	case a.Actor == "":
		return Incoming{}, malformed("the activity has no actor")
	case !IsHTTPURL(a.ID) || !IsHTTPURL(a.Actor):
		return Incoming{}, malformed("id and actor must be http(s) IRIs")
	case !SameHost(a.ID, a.Actor):
		return Incoming{}, malformed("the activity id %s is not on the actor's host", a.ID)
	}
	return a, nil
}

// ParseObject reads a fetched object document (a Note fetched by IRI); it
// must have an id and a type.
func ParseObject(raw []byte) (Incoming, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return Incoming{}, malformed("not a JSON object: %v", err)
	}
	if !HasASContext(top["@context"]) {
		return Incoming{}, malformed("@context lacks ActivityStreams")
	}
	o, err := readObject(top, 0)
	if err != nil {
		return Incoming{}, err
	}
	if o.ID == "" || !validType(o.Type) || !IsHTTPURL(o.ID) {
		return Incoming{}, malformed("an object needs an http(s) id and a type")
	}
	return o, nil
}

func readObject(m map[string]json.RawMessage, depth int) (Incoming, error) {
	o := Incoming{Embedded: true}
	str := func(k string) string {
		var s string
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &s) == nil {
			return strings.TrimSpace(s)
		}
		return ""
	}
	o.ID = str("id")
	o.Type = firstType(m["type"])
	o.Actor = firstIRI(m["actor"])
	o.Target = firstIRI(m["target"])
	o.AttributedTo = firstIRI(m["attributedTo"])
	o.Content = str("content")
	if o.Content == "" {
		var cm map[string]string
		if raw, ok := m["contentMap"]; ok && json.Unmarshal(raw, &cm) == nil {
			// The first in a stable order: maps have none.
			best := ""
			for lang := range cm {
				if best == "" || lang < best {
					best = lang
				}
			}
			o.Content = cm[best]
		}
	}
	o.Summary = str("summary")
	if raw, ok := m["sensitive"]; ok {
		_ = json.Unmarshal(raw, &o.Sensitive)
	}
	o.InReplyTo = firstIRI(m["inReplyTo"])
	o.URL = FirstHref(m["url"])
	o.Published = readTime(m["published"])
	o.Updated = readTime(m["updated"])
	o.To = iris(m["to"])
	o.Cc = iris(m["cc"])
	o.Tags = readTags(m["tag"])
	if raw, ok := m["object"]; ok && !isNull(raw) {
		obj, err := readRef(raw, depth+1)
		if err != nil {
			return Incoming{}, err
		}
		o.Object = obj
	}
	return o, nil
}

// readRef reads a property naming one object: an IRI, an embedded object,
// or an array of them (the first is taken).
func readRef(raw json.RawMessage, depth int) (*Incoming, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, malformed("object: %v", err)
		}
		if len(list) == 0 {
			return nil, nil
		}
		raw = list[0]
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return &Incoming{ID: strings.TrimSpace(s)}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, malformed("object is neither an IRI nor an object")
	}
	if depth > MaxNesting {
		var id string
		_ = json.Unmarshal(m["id"], &id)
		return &Incoming{ID: id}, nil
	}
	o, err := readObject(m, depth)
	if err != nil {
		return nil, err
	}
	return &o, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// firstType is the type, or the first of several.
func firstType(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return list[0]
	}
	return ""
}

// firstIRI is the IRI a property names: a string, an object's id, or the
// first of an array of either.
func firstIRI(raw json.RawMessage) string {
	if all := iris(raw); len(all) > 0 {
		return all[0]
	}
	return ""
}

// iris reads a property of IRIs: a string, an object with an id, or an
// array of those.
func iris(raw json.RawMessage) []string {
	if len(raw) == 0 || isNull(raw) {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s = strings.TrimSpace(s); s != "" {
			return []string{s}
		}
		return nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.ID != "" {
		return []string{obj.ID}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []string
	for _, item := range list {
		var s string
		if json.Unmarshal(item, &s) == nil {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
			continue
		}
		if json.Unmarshal(item, &obj) == nil && obj.ID != "" {
			out = append(out, obj.ID)
		}
	}
	return out
}

// FirstHref reads url as servers send it: a string, a Link object, or an
// array of either.
func FirstHref(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var link struct {
		Href string `json:"href"`
	}
	if json.Unmarshal(raw, &link) == nil && link.Href != "" {
		return link.Href
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		for _, item := range list {
			if h := FirstHref(item); h != "" {
				return h
			}
		}
	}
	return ""
}

func readTime(raw json.RawMessage) *time.Time {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

func readTags(raw json.RawMessage) []IncomingTag {
	if len(raw) == 0 || isNull(raw) {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		list = []json.RawMessage{raw}
	}
	var out []IncomingTag
	for _, item := range list {
		var t struct {
			Type json.RawMessage `json:"type"`
			Href string          `json:"href"`
			Name string          `json:"name"`
		}
		if json.Unmarshal(item, &t) != nil {
			continue
		}
		out = append(out, IncomingTag{Type: firstType(t.Type), Href: t.Href, Name: t.Name})
	}
	return out
}

// validType: a type name as ActivityStreams and its extensions spell them
// (Note, as:Public, toot:Emoji), at most 64 characters.
func validType(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ':' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// HasASContext reports whether @context is the ActivityStreams IRI or a
// list holding it.
func HasASContext(raw json.RawMessage) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == ActivityStreamsContext
	}
	var many []json.RawMessage
	if json.Unmarshal(raw, &many) != nil {
		return false
	}
	for _, item := range many {
		if json.Unmarshal(item, &one) == nil && one == ActivityStreamsContext {
			return true
		}
	}
	return false
}

// IsHTTPURL reports whether s is an absolute http or https URL with a host.
func IsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// Host is the lower-case host (with port) of an IRI, "" if it has none.
func Host(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// SameHost reports whether two IRIs are on the same host (and port).
func SameHost(a, b string) bool {
	h := Host(a)
	return h != "" && h == Host(b)
}

// IsPublic reports whether an addressee is the Public collection, in any
// of the forms servers write it.
func IsPublic(addr string) bool {
	return addr == Public || addr == "as:Public" || addr == "Public"
}
