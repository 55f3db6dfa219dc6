package federation

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

const instanceKeyID = "https://social.example/actor#main-key"

// remoteServer is another server on loopback: it serves WebFinger and an
// actor, and like GoToSocial it answers 401 to a GET that is not signed by
// the instance key.
type remoteServer struct {
	*httptest.Server
	mu      sync.Mutex
	actor   map[string]any
	ctype   string
	sawUA   string
	refused int
}

func newRemote(t *testing.T) *remoteServer {
	t.Helper()
	rs := &remoteServer{ctype: "application/activity+json; charset=utf-8"}
	verifier := Verifier{Keys: oneKey(instanceKeyID, publicKey(t, "test-key-rsa.pub"))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/webfinger", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("resource") != "acct:bob@"+r.Host {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/jrd+json")
		json.NewEncoder(w).Encode(map[string]any{"subject": "acct:bob@" + r.Host, "links": []map[string]string{
			{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": rs.URL + "/@bob"},
			{"rel": "self", "type": `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, "href": rs.URL + "/users/bob"},
		}})
	})
	mux.HandleFunc("GET /users/bob", func(w http.ResponseWriter, r *http.Request) {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		rs.sawUA = r.Header.Get("User-Agent")
		if _, err := verifier.Verify(r, nil); err != nil {
			rs.refused++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", rs.ctype)
		json.NewEncoder(w).Encode(rs.actor)
	})
	rs.Server = httptest.NewServer(mux)
	t.Cleanup(rs.Close)
	rs.actor = rs.validActor(t)
	return rs
}

func (rs *remoteServer) validActor(t *testing.T) map[string]any {
	pem, err := os.ReadFile("testdata/cavage-test.pub")
	if err != nil {
		t.Fatal(err)
	}
	id := rs.URL + "/users/bob"
	return map[string]any{
		"@context": []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":       id, "type": "Person", "preferredUsername": "bob", "name": "Bob",
		"summary": `<p onclick="x()">hi<script>alert(1)</script> <a href="javascript:alert(1)">x</a></p>`,
		"url":     map[string]any{"type": "Link", "href": rs.URL + "/@bob"},
		"inbox":   id + "/inbox", "outbox": id + "/outbox", "followers": id + "/followers", "following": id + "/following",
		"manuallyApprovesFollowers": true,
		"publicKey":                 map[string]any{"id": id + "#main-key", "owner": id, "publicKeyPem": string(pem)},
		"endpoints":                 map[string]any{"sharedInbox": rs.URL + "/inbox"},
	}
}

// key is a copy of the actor's valid publicKey with field set to value
// (none when field is "").
func (rs *remoteServer) key(field, value string) map[string]any {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	k := map[string]any{}
	for name, v := range rs.actor["publicKey"].(map[string]any) {
		k[name] = v
	}
	if field != "" {
		k[field] = value
	}
	return k
}

func (rs *remoteServer) set(k string, v any) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if v == nil {
		delete(rs.actor, k)
	} else {
		rs.actor[k] = v
	}
}

func testFetcher(t *testing.T) *Fetcher {
	key := rsaPrivate(t, "test-key-rsa.key")
	return &Fetcher{
		Client:          NewClient(ClientConfig{AllowPrivate: true, UserAgent: "Thoughts/test (+https://social.example)"}),
		Key:             func(context.Context) (string, crypto.PrivateKey, error) { return instanceKeyID, key, nil },
		WebFingerScheme: "http",
	}
}

func TestFetchActor(t *testing.T) {
	t.Parallel()
	rs := newRemote(t)
	f := testFetcher(t)
	ctx := context.Background()

	iri, err := f.WebFinger(ctx, "bob", strings.TrimPrefix(rs.URL, "http://"))
	if err != nil || iri != rs.URL+"/users/bob" {
		t.Fatalf("WebFinger = %q, %v", iri, err)
	}
	a, err := f.FetchActor(ctx, iri)
	if err != nil {
		t.Fatalf("FetchActor: %v", err)
	}
	host := strings.TrimPrefix(rs.URL, "http://")
	if a.IRI != iri || a.Host != host || a.Username != "bob" || a.Type != "Person" || a.DisplayName != "Bob" ||
		a.Inbox != iri+"/inbox" || a.SharedInbox != rs.URL+"/inbox" || !a.Locked || a.KeyID != iri+"#main-key" ||
		a.URL != rs.URL+"/@bob" || a.Handle() != "bob@"+host {
		t.Errorf("actor %+v", a)
	}
	if a.Summary != "<p>hi x</p>" {
		t.Errorf("summary not sanitised: %q", a.Summary)
	}
	if rs.sawUA != "Thoughts/test (+https://social.example)" || rs.refused != 0 {
		t.Errorf("User-Agent %q, %d refused", rs.sawUA, rs.refused)
	}

	// The remote refuses an unsigned fetch, as GoToSocial does.
	resp, err := http.Get(iri)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned fetch: %d", resp.StatusCode)
	}

	if _, err := f.WebFinger(ctx, "nobody", host); !errors.Is(err, ErrFetch) {
		t.Errorf("unknown handle: %v", err)
	}
}

func TestFetchActorRefusesBadDocuments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, spoil := range map[string]func(rs *remoteServer){
		"id is not the URL":          func(rs *remoteServer) { rs.set("id", rs.URL+"/users/mallory") },
		"not an actor":               func(rs *remoteServer) { rs.set("type", "Note") },
		"no preferredUsername":       func(rs *remoteServer) { rs.set("preferredUsername", nil) },
		"no inbox":                   func(rs *remoteServer) { rs.set("inbox", nil) },
		"no ActivityStreams context": func(rs *remoteServer) { rs.set("@context", "https://example.org/ns") },
		"key owned by another actor": func(rs *remoteServer) {
			rs.set("publicKey", rs.key("owner", "https://elsewhere.example/users/bob"))
		},
		"key on another host": func(rs *remoteServer) {
			rs.set("publicKey", rs.key("id", "https://victim.example/users/alice#main-key"))
		},
		"not an ActivityStreams type": func(rs *remoteServer) { rs.ctype = "text/html" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rs := newRemote(t)
			spoil(rs)
			if a, err := testFetcher(t).FetchActor(ctx, rs.URL+"/users/bob"); !errors.Is(err, ErrFetch) {
				t.Errorf("accepted %+v: %v", a, err)
			}
		})
	}
}

func TestFetchActorKeyLists(t *testing.T) {
	t.Parallel()
	rs := newRemote(t)
	k := rs.key("", "")
	other := map[string]any{"id": "https://elsewhere.example/k", "owner": "https://elsewhere.example/u", "publicKeyPem": "x"}
	rs.set("publicKey", []any{other, k})
	a, err := testFetcher(t).FetchActor(context.Background(), rs.URL+"/users/bob")
	if err != nil || a.KeyID != k["id"] {
		t.Errorf("key from a list: %+v, %v", a, err)
	}
}
