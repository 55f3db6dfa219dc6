package federation

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// SigningKey returns the key fetches are signed with (the instance
// actor's): its key ID and private key.
type SigningKey func(ctx context.Context) (keyID string, key crypto.PrivateKey, err error)

// Fetcher fetches remote actors with signed GETs and resolves handles with
// WebFinger, through the guarded Client.
type Fetcher struct {
	Client *Client
	Key    SigningKey
	// Clock dates the signatures; nil is time.Now.
	Clock func() time.Time
	// WebFingerScheme is the scheme WebFinger is asked over: "https", or
	// "http" for instances on a test network (an http PUBLIC_URL).
	WebFingerScheme string
}

// ErrFetch wraps every reason a remote document was not accepted.
var ErrFetch = errors.New("remote fetch failed")

func fetchErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFetch, fmt.Sprintf(format, args...))
}

// statusError is a response other than 200.
type statusError struct {
	iri  string
	code int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%v: GET %s: status %d", ErrFetch, e.iri, e.code)
}
func (e *statusError) Unwrap() error { return ErrFetch }

// permanent: asking again will not help (a 4xx other than 408 and 429).
func (e *statusError) permanent() bool {
	return e.code >= 400 && e.code < 500 && e.code != 408 && e.code != 429
}

// errContentType: the response was not of a type asked for.
var errContentType = errors.New("unexpected Content-Type")

const acceptActivity = vocab.MediaTypeActivity + ", " + vocab.MediaTypeLD

// getSigned GETs iri signed with the instance key and returns the body of
// a 200 whose Content-Type is one of accepted. Redirects are not useful
// here: the signature names the first URL, so a server that checks it
// refuses the next.
func (f *Fetcher) get(ctx context.Context, iri, accept string, signed bool, accepted ...string) ([]byte, error) {
	u, err := url.Parse(iri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fetchErr("%q is not an http(s) URL", iri)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fetchErr("%v", err)
	}
	req.Header.Set("Accept", accept)
	if signed {
		keyID, key, err := f.Key(ctx)
		if err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
		now := time.Now()
		if f.Clock != nil {
			now = f.Clock()
		}
		if err := SignRequest(req, nil, keyID, key, now); err != nil {
			return nil, err
		}
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w", ErrFetch, iri, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{iri: iri, code: resp.StatusCode}
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(accepted, mt) {
		return nil, fmt.Errorf("%w: GET %s: %w %q", ErrFetch, iri, errContentType, resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w", ErrFetch, iri, err)
	}
	return body, nil
}

// remoteActor is the part of an actor document Thoughts reads. Fields that
// servers send in several shapes are decoded loosely.
type remoteActor struct {
	Context                   json.RawMessage `json:"@context"`
	ID                        string          `json:"id"`
	Type                      string          `json:"type"`
	PreferredUsername         string          `json:"preferredUsername"`
	Name                      string          `json:"name"`
	Summary                   string          `json:"summary"`
	URL                       json.RawMessage `json:"url"`
	Inbox                     string          `json:"inbox"`
	Outbox                    string          `json:"outbox"`
	Followers                 string          `json:"followers"`
	Following                 string          `json:"following"`
	ManuallyApprovesFollowers bool            `json:"manuallyApprovesFollowers"`
	PublicKey                 json.RawMessage `json:"publicKey"`
	Endpoints                 struct {
		SharedInbox string `json:"sharedInbox"`
	} `json:"endpoints"`
}

type remoteKey struct {
	ID           string `json:"id"`
	Owner        string `json:"owner"`
	PublicKeyPEM string `json:"publicKeyPem"`
}

// actorHTML sanitises actor summaries: they are shown as HTML. A policy is
// built once and never changed, so sharing it is safe.
var actorHTML = NewSanitizer()

var actorTypes = []string{"Person", "Service", "Application", "Group", "Organization"}

// FetchActor fetches the actor at iri, signed, and checks it as Mastodon
// does: an ActivityStreams document whose id is the IRI asked for, of an
// actor type, with a preferredUsername, an inbox, and a public key it owns
// on its own host.
func (f *Fetcher) FetchActor(ctx context.Context, iri string) (domain.RemoteActor, error) {
	body, err := f.get(ctx, iri, acceptActivity, true, "application/activity+json", "application/ld+json")
	if err != nil {
		return domain.RemoteActor{}, err
	}
	return parseActor(iri, body)
}

func parseActor(iri string, body []byte) (domain.RemoteActor, error) {
	var doc remoteActor
	if err := json.Unmarshal(body, &doc); err != nil {
		return domain.RemoteActor{}, fetchErr("actor %s: %v", iri, err)
	}
	if !vocab.HasASContext(doc.Context) {
		return domain.RemoteActor{}, fetchErr("actor %s: @context lacks ActivityStreams", iri)
	}
	if doc.ID != iri {
		return domain.RemoteActor{}, fetchErr("actor fetched at %s has id %q", iri, doc.ID)
	}
	if !slices.Contains(actorTypes, doc.Type) {
		return domain.RemoteActor{}, fetchErr("actor %s: type %q is not an actor", iri, doc.Type)
	}
	if doc.PreferredUsername == "" {
		return domain.RemoteActor{}, fetchErr("actor %s: no preferredUsername", iri)
	}
	id, _ := url.Parse(iri)
	host := strings.ToLower(id.Host)
	if !vocab.IsHTTPURL(doc.Inbox) {
		return domain.RemoteActor{}, fetchErr("actor %s: inbox %q", iri, doc.Inbox)
	}
	key, err := ownedKey(doc.PublicKey, iri, host)
	if err != nil {
		return domain.RemoteActor{}, fetchErr("actor %s: %v", iri, err)
	}
	a := domain.RemoteActor{
		IRI: iri, Host: host, Username: doc.PreferredUsername, Type: doc.Type,
		DisplayName: doc.Name, Summary: actorHTML.HTML(doc.Summary), URL: vocab.FirstHref(doc.URL),
		Inbox: doc.Inbox, Outbox: doc.Outbox, Followers: doc.Followers, Following: doc.Following,
		Locked: doc.ManuallyApprovesFollowers, KeyID: key.ID, PublicKeyPEM: key.PublicKeyPEM,
	}
	if vocab.IsHTTPURL(doc.Endpoints.SharedInbox) {
		a.SharedInbox = doc.Endpoints.SharedInbox
	}
	return a, nil
}

// ownedKey picks the key (publicKey is one object or several) owned by the
// actor, on the actor's host, that parses.
func ownedKey(raw json.RawMessage, owner, host string) (remoteKey, error) {
	var keys []remoteKey
	if err := json.Unmarshal(raw, &keys); err != nil {
		var one remoteKey
		if err := json.Unmarshal(raw, &one); err != nil {
			return remoteKey{}, errors.New("no publicKey")
		}
		keys = []remoteKey{one}
	}
	for _, k := range keys {
		u, err := url.Parse(k.ID)
		if err != nil || k.Owner != owner || !strings.EqualFold(u.Host, host) {
			continue
		}
		if _, err := ParsePublicKey(k.PublicKeyPEM); err != nil {
			return remoteKey{}, fmt.Errorf("key %s: %w", k.ID, err)
		}
		return k, nil
	}
	return remoteKey{}, errors.New("no public key owned by the actor on its host")
}

// WebFinger resolves name@host to the IRI of its actor: the href of the
// JRD's self link of an ActivityStreams type. WebFinger is not signed (no
// server asks it to be).
func (f *Fetcher) WebFinger(ctx context.Context, username, host string) (string, error) {
	scheme := f.WebFingerScheme
	if scheme == "" {
		scheme = "https"
	}
	q := url.Values{"resource": {"acct:" + username + "@" + host}}
	u := scheme + "://" + host + "/.well-known/webfinger?" + q.Encode()
	body, err := f.get(ctx, u, "application/jrd+json, application/json", false, "application/jrd+json", "application/json")
	if err != nil {
		return "", err
	}
	var jrd struct {
		Links []struct {
			Rel  string `json:"rel"`
			Type string `json:"type"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if err := json.Unmarshal(body, &jrd); err != nil {
		return "", fetchErr("webfinger %s@%s: %v", username, host, err)
	}
	for _, l := range jrd.Links {
		mt, _, err := mime.ParseMediaType(l.Type)
		if l.Rel == "self" && err == nil && (mt == "application/activity+json" || mt == "application/ld+json") && vocab.IsHTTPURL(l.Href) {
			return l.Href, nil
		}
	}
	return "", fetchErr("webfinger %s@%s: no ActivityPub self link", username, host)
}
