package activitypub_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func webfingerURL(resource string, rels ...string) string {
	q := url.Values{"resource": {resource}}
	for _, r := range rels {
		q.Add("rel", r)
	}
	return "/.well-known/webfinger?" + q.Encode()
}

func TestWebFinger(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.register("alice")
	host := strings.TrimPrefix(r.base, "http://") // 127.0.0.1:PORT
	hostname := strings.Split(host, ":")[0]
	actor := r.base + "/users/alice"

	for _, resource := range []string{
		"acct:alice@" + host,     // with the port, as GoToSocial asks
		"acct:Alice@" + hostname, // without it, as Mastodon may; case kept in the subject
		"acct:@alice@" + host,
	} {
		resp := expect(t, r.get(webfingerURL(resource), ""), http.StatusOK)
		if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/jrd+json") {
			t.Errorf("%s: Content-Type %q", resource, ct)
		}
		if resp.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS header", resource)
		}
		doc := resp.json(t)
		if doc["subject"] != resource {
			t.Errorf("subject = %v, want exactly %q", doc["subject"], resource)
		}
		var self string
		for _, l := range doc["links"].([]any) {
			l := l.(map[string]any)
			if l["rel"] == "self" {
				self, _ = l["href"].(string)
				if l["type"] != "application/activity+json" {
					t.Errorf("self link type %v", l["type"])
				}
			}
		}
		if self != actor {
			t.Errorf("%s: self = %q, want %q", resource, self, actor)
		}
	}

	// Asked by actor URL: the canonical account is the subject.
	doc := expect(t, r.get(webfingerURL(actor), ""), http.StatusOK).json(t)
	if doc["subject"] != "acct:alice@"+host {
		t.Errorf("by URL: subject %v", doc["subject"])
	}

	// rel selects links.
	doc = expect(t, r.get(webfingerURL("acct:alice@"+host, "self"), ""), http.StatusOK).json(t)
	if links := doc["links"].([]any); len(links) != 1 || links[0].(map[string]any)["rel"] != "self" {
		t.Errorf("rel=self: links %v", links)
	}

	// The instance actor answers to the host's name.
	doc = expect(t, r.get(webfingerURL("acct:"+hostname+"@"+host), ""), http.StatusOK).json(t)
	if links := doc["links"].([]any); links[0].(map[string]any)["href"] != r.base+"/actor" {
		t.Errorf("instance actor: links %v", links)
	}

	for resource, want := range map[string]int{
		"acct:nobody@" + host:                   http.StatusNotFound,
		"acct:alice@elsewhere.example":          http.StatusNotFound,
		"acct:alice@" + hostname + ":1":         http.StatusNotFound, // our name, another port
		"https://elsewhere.example/users/alice": http.StatusNotFound,
		r.base + "/users/alice/outbox":          http.StatusNotFound,
		"acct:alice":                            http.StatusBadRequest,
		"acct:@" + host:                         http.StatusBadRequest,
		"acct:alice@":                           http.StatusBadRequest,
		"mailto:alice@" + host:                  http.StatusBadRequest,
		"alice":                                 http.StatusBadRequest,
	} {
		if got := r.get(webfingerURL(resource), "").status; got != want {
			t.Errorf("%q: status %d, want %d", resource, got, want)
		}
	}
	if got := r.get("/.well-known/webfinger", "").status; got != http.StatusBadRequest {
		t.Errorf("no resource: status %d, want 400", got)
	}
}

func TestHostMeta(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	resp := expect(t, r.get("/.well-known/host-meta", ""), http.StatusOK)
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xrd+xml") {
		t.Errorf("Content-Type %q", ct)
	}
	want := `template="` + r.base + `/.well-known/webfinger?resource={uri}"`
	if !strings.Contains(string(resp.body), want) {
		t.Errorf("host-meta lacks %s:\n%s", want, resp.body)
	}
}

func TestNodeInfo(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	alice, bob := r.register("alice"), r.register("bob")
	r.think(alice, map[string]any{"content": "one"})
	r.think(alice, map[string]any{"content": "two", "visibility": "followers"})
	gone := r.think(bob, map[string]any{"content": "three"})
	expect(t, r.do(http.MethodDelete, "/api/v1/thoughts/"+gone, bob.token, "", nil), http.StatusNoContent)

	links := expect(t, r.get("/.well-known/nodeinfo", ""), http.StatusOK).json(t)["links"].([]any)
	link := links[0].(map[string]any)
	if link["rel"] != "http://nodeinfo.diaspora.software/ns/schema/2.1" || link["href"] != r.base+"/nodeinfo/2.1" {
		t.Fatalf("nodeinfo link %v", link)
	}
	resp := expect(t, r.get(link["href"].(string), ""), http.StatusOK)
	if ct := resp.header.Get("Content-Type"); !strings.Contains(ct, `profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`) {
		t.Errorf("Content-Type %q", ct)
	}
	doc := resp.json(t)
	sw := doc["software"].(map[string]any)
	usage := doc["usage"].(map[string]any)
	users := usage["users"].(map[string]any)
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", doc["version"], "2.1"},
		{"software.name", sw["name"], "thoughts"},
		{"software.version", sw["version"], "1.2.3-test"},
		{"protocols", doc["protocols"].([]any)[0], "activitypub"},
		{"openRegistrations", doc["openRegistrations"], true},
		{"users.total", users["total"], 2.0},
		{"users.activeMonth", users["activeMonth"], 1.0}, // bob's only thought is deleted
		{"users.activeHalfyear", users["activeHalfyear"], 1.0},
		{"localPosts", usage["localPosts"], 2.0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}
