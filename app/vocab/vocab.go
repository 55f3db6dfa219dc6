// Package vocab is the ActivityStreams vocabulary Thoughts speaks: plain
// structs for the documents it publishes, the IRIs of its local objects, and
// the rendering of local users and thoughts as Person and Note. It is used by
// the ActivityPub port (serving) and, later, by federation delivery (sending),
// so both say the same thing. No JSON-LD processing: like Mastodon, Thoughts
// writes one fixed @context and, reading, checks keys.
package vocab

import "time"

// Well-known IRIs.
const (
	// ActivityStreamsContext is the ActivityStreams 2.0 JSON-LD context.
	ActivityStreamsContext = "https://www.w3.org/ns/activitystreams"
	// SecurityContext defines publicKey and publicKeyPem.
	SecurityContext = "https://w3id.org/security/v1"
	// Public is the special collection addressing everyone.
	Public = "https://www.w3.org/ns/activitystreams#Public"
)

// Media types of ActivityStreams documents.
const (
	MediaTypeActivity = "application/activity+json"
	// MediaTypeLD is the JSON-LD form the ActivityPub spec also requires servers
	// to answer.
	MediaTypeLD = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
)

// Context is the @context of every document Thoughts publishes: the
// ActivityStreams and security contexts, plus the extension terms it uses
// that ActivityStreams lacks (as Mastodon declares them).
var Context = []any{
	ActivityStreamsContext,
	SecurityContext,
	map[string]string{
		"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
		"sensitive":                 "as:sensitive",
		"Hashtag":                   "as:Hashtag",
	},
}

// Actor is a Person (a local user) or an Application (the instance actor).
type Actor struct {
	Context                   any        `json:"@context,omitempty"`
	ID                        string     `json:"id"`
	Type                      string     `json:"type"`
	PreferredUsername         string     `json:"preferredUsername"`
	Name                      string     `json:"name"`
	Summary                   string     `json:"summary"`
	URL                       string     `json:"url"`
	Inbox                     string     `json:"inbox"`
	Outbox                    string     `json:"outbox"`
	Followers                 string     `json:"followers,omitempty"`
	Following                 string     `json:"following,omitempty"`
	ManuallyApprovesFollowers bool       `json:"manuallyApprovesFollowers"`
	Published                 *time.Time `json:"published,omitempty"`
	PublicKey                 PublicKey  `json:"publicKey"`
	Endpoints                 *Endpoints `json:"endpoints,omitempty"`
}

// PublicKey is an actor's signing key as the security vocabulary publishes it.
type PublicKey struct {
	ID           string `json:"id"`
	Owner        string `json:"owner"`
	PublicKeyPEM string `json:"publicKeyPem"`
}

// Endpoints lists an actor's server-wide endpoints.
type Endpoints struct {
	SharedInbox string `json:"sharedInbox"`
}

// Note is a thought.
type Note struct {
	Context      any    `json:"@context,omitempty"`
	ID           string `json:"id"`
	Type         string `json:"type"`
	AttributedTo string `json:"attributedTo"`
	// Summary is the content warning, null when there is none (Mastodon
	// reads a present summary as a warning).
	Summary *string `json:"summary"`
	Content string  `json:"content"`
	// MediaType says Content is HTML; the plain text is in Source.
	MediaType string     `json:"mediaType"`
	Source    *Source    `json:"source,omitempty"`
	URL       string     `json:"url"`
	Published time.Time  `json:"published"`
	Updated   *time.Time `json:"updated,omitempty"`
	InReplyTo *string    `json:"inReplyTo"`
	To        []string   `json:"to"`
	Cc        []string   `json:"cc"`
	Sensitive bool       `json:"sensitive"`
	Tag       []Tag      `json:"tag"`
}

// Source is the text a Note's HTML content was made from.
type Source struct {
	Content   string `json:"content"`
	MediaType string `json:"mediaType"`
}

// Tag is a Mention or a Hashtag on a Note.
type Tag struct {
	Type string `json:"type"`
	Href string `json:"href"`
	Name string `json:"name"`
}

// Tombstone stands where a deleted object was.
type Tombstone struct {
	Context    any        `json:"@context,omitempty"`
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	FormerType string     `json:"formerType,omitempty"`
	Deleted    *time.Time `json:"deleted,omitempty"`
}

// Activity is an activity whose object is embedded (a Create of a Note) or
// an IRI.
type Activity struct {
	Context   any       `json:"@context,omitempty"`
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Actor     string    `json:"actor"`
	Published time.Time `json:"published"`
	To        []string  `json:"to"`
	Cc        []string  `json:"cc"`
	Object    any       `json:"object"`
}

// OrderedCollection is a collection's entry point: its total and its first
// page (an IRI).
type OrderedCollection struct {
	Context    any    `json:"@context,omitempty"`
	ID         string `json:"id"`
	Type       string `json:"type"`
	TotalItems int    `json:"totalItems"`
	First      string `json:"first,omitempty"`
}

// OrderedCollectionPage is one page of a collection, newest first.
type OrderedCollectionPage struct {
	Context      any    `json:"@context,omitempty"`
	ID           string `json:"id"`
	Type         string `json:"type"`
	PartOf       string `json:"partOf"`
	TotalItems   int    `json:"totalItems"`
	OrderedItems []any  `json:"orderedItems"`
	Next         string `json:"next,omitempty"`
	Prev         string `json:"prev,omitempty"`
}
