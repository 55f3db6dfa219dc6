package activitypub_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/thoughts-project/thoughts/adapters/federation"
	"github.com/thoughts-project/thoughts/ports/httpapi"
)

func TestActorDocument(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	alice := r.register("alice")
	expect(t, r.do(http.MethodPatch, "/api/v1/me", alice.token, "", map[string]any{
		"display_name": "Alice <A>", "bio": "hello & welcome", "locked": true,
	}), http.StatusOK)
	host := strings.TrimPrefix(r.base, "http://")

	// The actor is where WebFinger's self link points, and its id is that URL.
	wf := expect(t, r.get(webfingerURL("acct:alice@"+host), ""), http.StatusOK).json(t)
	href := wf["links"].([]any)[0].(map[string]any)["href"].(string)

	for _, accept := range []string{acceptAP, acceptLD, "application/activity+json, text/html;q=0.5"} {
		resp := expect(t, r.get(href, accept), http.StatusOK)
		ct := resp.header.Get("Content-Type")
		if (accept == acceptLD && ct != acceptLD) || (accept != acceptLD && !strings.HasPrefix(ct, "application/activity+json")) {
			t.Errorf("Accept %q: Content-Type %q", accept, ct)
		}
		if !slices.Contains(resp.header.Values("Vary"), "Accept") {
			t.Errorf("Accept %q: no Vary: Accept", accept)
		}
		doc := resp.json(t)
		id := r.base + "/users/alice"
		checks := map[string]any{
			"id": href, "type": "Person", "preferredUsername": "alice", "name": "Alice <A>",
			"summary": "<p>hello &amp; welcome</p>", "url": id, "inbox": id + "/inbox", "outbox": id + "/outbox",
			"followers": id + "/followers", "following": id + "/following", "manuallyApprovesFollowers": true,
		}
		for k, want := range checks {
			if doc[k] != want {
				t.Errorf("%s = %v, want %v", k, doc[k], want)
			}
		}
		ctx := doc["@context"].([]any)
		if ctx[0] != "https://www.w3.org/ns/activitystreams" || ctx[1] != "https://w3id.org/security/v1" {
			t.Errorf("@context %v", ctx)
		}
		if doc["endpoints"].(map[string]any)["sharedInbox"] != r.base+"/inbox" {
			t.Errorf("endpoints %v", doc["endpoints"])
		}
		pk := doc["publicKey"].(map[string]any)
		if pk["id"] != id+"#main-key" || pk["owner"] != id {
			t.Errorf("publicKey id/owner %v %v", pk["id"], pk["owner"])
		}
		if _, err := federation.ParsePublicKey(pk["publicKeyPem"].(string)); err != nil {
			t.Errorf("publicKeyPem: %v", err)
		}
	}

	// A browser, or a client asking for no ActivityStreams type, gets a page.
	for _, accept := range []string{"", "text/html,application/xhtml+xml,*/*;q=0.8", "application/json", "application/activity+json;q=0"} {
		resp := expect(t, r.get("/users/alice", accept), http.StatusOK)
		if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Accept %q: Content-Type %q", accept, ct)
		}
		body := string(resp.body)
		if !strings.Contains(body, "Alice &lt;A&gt;") || !strings.Contains(body, "@alice@"+host) || strings.Contains(body, "<A>") {
			t.Errorf("Accept %q: page\n%s", accept, body)
		}
	}

	// Another case of the name redirects to the canonical id; unknown is 404.
	resp := expect(t, r.get("/users/ALICE", acceptAP), http.StatusMovedPermanently)
	if resp.header.Get("Location") != r.base+"/users/alice" {
		t.Errorf("Location %q", resp.header.Get("Location"))
	}
	expect(t, r.get("/users/nobody", acceptAP), http.StatusNotFound)
	expect(t, r.get("/users/nobody", ""), http.StatusNotFound)
}

func TestActorKeyIsStable(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.register("alice")
	first := expect(t, r.get("/users/alice", acceptAP), http.StatusOK).json(t)["publicKey"]
	second := expect(t, r.get("/users/alice", acceptAP), http.StatusOK).json(t)["publicKey"]
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Error("the key changed between fetches")
	}
	if n := r.keyGen.count(); n != 1 {
		t.Errorf("%d keys generated for one user", n)
	}
}

func TestInstanceActor(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	doc := expect(t, r.get("/actor", acceptAP), http.StatusOK).json(t)
	hostname := strings.Split(strings.TrimPrefix(r.base, "http://"), ":")[0]
	if doc["id"] != r.base+"/actor" || doc["type"] != "Application" || doc["preferredUsername"] != hostname {
		t.Errorf("instance actor %v", doc)
	}
	pk := doc["publicKey"].(map[string]any)
	if pk["id"] != r.base+"/actor#main-key" || pk["owner"] != r.base+"/actor" {
		t.Errorf("publicKey %v", pk)
	}
	if _, err := federation.ParsePublicKey(pk["publicKeyPem"].(string)); err != nil {
		t.Error(err)
	}
	expect(t, r.get("/actor/outbox", acceptAP), http.StatusOK)
}

// TestFederationRoutesAreOutsideTheClientAPI: the ActivityPub routes are not
// in openapi.yaml on purpose (they speak ActivityStreams, JRD and NodeInfo,
// whose specifications are their contract); so none may live under /api/,
// where the route-coverage test expects every route to be documented, nor
// shadow a documented path.
func TestFederationRoutesAreOutsideTheClientAPI(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	doc, err := httpapi.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	federationPaths := map[string]bool{}
	for _, p := range []string{
		"/.well-known/webfinger", "/.well-known/host-meta", "/.well-known/nodeinfo", "/nodeinfo/2.1",
		"/actor", "/actor/outbox", "/users/{username}", "/users/{username}/outbox", "/users/{username}/followers",
		"/users/{username}/following", "/users/{username}/thoughts/{id}", "/users/{username}/thoughts/{id}/activity",
		"/users/{username}/inbox", "/inbox",
	} {
		federationPaths[p] = true
	}
	seen := map[string]bool{}
	for _, route := range r.api.Routes() {
		if doc.Paths.Find(route.Path) != nil || route.Path == "/healthz" || route.Path == "/readyz" {
			continue
		}
		if !federationPaths[route.Path] {
			t.Errorf("%s %s is neither documented nor a federation route", route.Method, route.Path)
		}
		if strings.HasPrefix(route.Path, "/api/") {
			t.Errorf("federation route %s is under /api/", route.Path)
		}
		seen[route.Path] = true
	}
	for p := range federationPaths {
		if !seen[p] {
			t.Errorf("federation route %s is not registered", p)
		}
	}
}
