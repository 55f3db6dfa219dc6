package activitypub_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

const public = "https://www.w3.org/ns/activitystreams#Public"

func asStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestNotes(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	alice, bob := r.register("alice"), r.register("bob")
	aliceIRI, bobIRI := r.base+"/users/alice", r.base+"/users/bob"
	pub := r.think(alice, map[string]any{"content": "hello @bob\n\n#Go <b>", "content_warning": "cw"})
	unl := r.think(alice, map[string]any{"content": "quiet", "visibility": "unlisted"})
	fol := r.think(alice, map[string]any{"content": "friends only", "visibility": "followers"})
	reply := r.think(bob, map[string]any{"content": "hi", "in_reply_to_id": pub})
	gone := r.think(alice, map[string]any{"content": "oops"})
	expect(t, r.do(http.MethodDelete, "/api/v1/thoughts/"+gone, alice.token, "", nil), http.StatusNoContent)

	noteURL := func(author, id string) string { return r.base + "/users/" + author + "/thoughts/" + id }

	n := expect(t, r.get(noteURL("alice", pub), acceptAP), http.StatusOK).json(t)
	checks := map[string]any{
		"id": noteURL("alice", pub), "type": "Note", "attributedTo": aliceIRI, "url": noteURL("alice", pub),
		"summary": "cw", "sensitive": true, "mediaType": "text/html",
		"content": "<p>hello @bob</p><p>#Go &lt;b&gt;</p>",
	}
	for k, want := range checks {
		if n[k] != want {
			t.Errorf("public note %s = %v, want %v", k, n[k], want)
		}
	}
	if n["inReplyTo"] != nil {
		t.Errorf("inReplyTo = %v, want null", n["inReplyTo"])
	}
	if to, cc := asStrings(n["to"]), asStrings(n["cc"]); !slices.Equal(to, []string{public}) || !slices.Equal(cc, []string{aliceIRI + "/followers", bobIRI}) {
		t.Errorf("public note to %v cc %v", to, cc)
	}
	tags := fmt.Sprint(n["tag"])
	if !strings.Contains(tags, "Mention") || !strings.Contains(tags, bobIRI) || !strings.Contains(tags, "Hashtag") || !strings.Contains(tags, "#go") {
		t.Errorf("tags %s", tags)
	}
	if n["source"].(map[string]any)["content"] != "hello @bob\n\n#Go <b>" {
		t.Errorf("source %v", n["source"])
	}

	u := expect(t, r.get(noteURL("alice", unl), acceptAP), http.StatusOK).json(t)
	if to, cc := asStrings(u["to"]), asStrings(u["cc"]); !slices.Equal(to, []string{aliceIRI + "/followers"}) || !slices.Equal(cc, []string{public}) {
		t.Errorf("unlisted note to %v cc %v", to, cc)
	}
	if u["summary"] != nil || u["sensitive"] != false {
		t.Errorf("unlisted note summary %v sensitive %v", u["summary"], u["sensitive"])
	}

	rep := expect(t, r.get(noteURL("bob", reply), acceptAP), http.StatusOK).json(t)
	if rep["inReplyTo"] != noteURL("alice", pub) {
		t.Errorf("reply inReplyTo %v", rep["inReplyTo"])
	}

	// Followers-only: not served to anyone yet. Another author's path: 404.
	expect(t, r.get(noteURL("alice", fol), acceptAP), http.StatusNotFound)
	expect(t, r.get(noteURL("bob", pub), acceptAP), http.StatusNotFound)
	expect(t, r.get(noteURL("alice", "not-a-uuid"), acceptAP), http.StatusNotFound)

	// Deleted: a Tombstone, 410.
	ts := expect(t, r.get(noteURL("alice", gone), acceptAP), http.StatusGone).json(t)
	if ts["type"] != "Tombstone" || ts["id"] != noteURL("alice", gone) || ts["formerType"] != "Note" {
		t.Errorf("tombstone %v", ts)
	}
	expect(t, r.get(noteURL("alice", gone), ""), http.StatusGone)

	// The Create activity.
	c := expect(t, r.get(noteURL("alice", pub)+"/activity", acceptAP), http.StatusOK).json(t)
	obj := c["object"].(map[string]any)
	if c["type"] != "Create" || c["id"] != noteURL("alice", pub)+"/activity" || c["actor"] != aliceIRI || obj["id"] != noteURL("alice", pub) {
		t.Errorf("create %v", c)
	}
	if _, ok := obj["@context"]; ok {
		t.Error("the embedded note repeats @context")
	}

	// A browser gets a page.
	page := expect(t, r.get(noteURL("alice", pub), "text/html"), http.StatusOK)
	if !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") || !strings.Contains(string(page.body), "#Go &lt;b&gt;") {
		t.Errorf("note page %s", page.body)
	}
	// Case of the name: redirected to the canonical IRI.
	if loc := expect(t, r.get(r.base+"/users/ALICE/thoughts/"+pub, acceptAP), http.StatusMovedPermanently).header.Get("Location"); loc != noteURL("alice", pub) {
		t.Errorf("Location %q", loc)
	}
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	alice := r.register("alice")
	var ids []string
	for i := range 22 {
		ids = append(ids, r.think(alice, map[string]any{"content": fmt.Sprintf("thought %d", i)}))
	}
	r.think(alice, map[string]any{"content": "secret", "visibility": "followers"})
	ids = append(ids, r.think(alice, map[string]any{"content": "quiet", "visibility": "unlisted"}))
	slices.Reverse(ids) // newest first

	outbox := r.base + "/users/alice/outbox"
	c := expect(t, r.get(outbox, acceptAP), http.StatusOK).json(t)
	// totalItems counts what an anonymous reader may see: the followers-only
	// thought is not counted, as it is not listed.
	if c["type"] != "OrderedCollection" || c["id"] != outbox || c["first"] != outbox+"?page=true" || c["totalItems"] != float64(len(ids)) {
		t.Fatalf("outbox %v", c)
	}
	var got []string
	next := c["first"].(string)
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("outbox pages never end")
		}
		p := expect(t, r.get(next, acceptAP), http.StatusOK).json(t)
		if p["type"] != "OrderedCollectionPage" || p["partOf"] != outbox {
			t.Fatalf("page %v", p)
		}
		for _, item := range p["orderedItems"].([]any) {
			a := item.(map[string]any)
			if a["type"] != "Create" {
				t.Fatalf("item %v", a)
			}
			note := a["object"].(map[string]any)
			got = append(got, note["id"].(string)[len(r.base+"/users/alice/thoughts/"):])
		}
		next, _ = p["next"].(string)
	}
	if !slices.Equal(got, ids) {
		t.Errorf("outbox lists %d items %v,\nwant the %d public and unlisted %v", len(got), got, len(ids), ids)
	}
	expect(t, r.get(outbox+"?page=true&max_id=nope", acceptAP), http.StatusBadRequest)
	expect(t, r.get(r.base+"/users/nobody/outbox", acceptAP), http.StatusNotFound)
}

func TestFollowCollections(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	alice, bob, carol := r.register("alice"), r.register("bob"), r.register("carol")
	for _, u := range []user{bob, carol} {
		expect(t, r.do(http.MethodPost, "/api/v1/users/alice/follow", u.token, "", nil), http.StatusOK)
	}
	followers := r.base + "/users/alice/followers"
	c := expect(t, r.get(followers, acceptAP), http.StatusOK).json(t)
	if c["totalItems"] != 2.0 || c["first"] != followers+"?page=true" {
		t.Fatalf("followers %v", c)
	}
	p := expect(t, r.get(followers+"?page=true", acceptAP), http.StatusOK).json(t)
	if items := asStrings(p["orderedItems"]); !slices.Equal(items, []string{r.base + "/users/carol", r.base + "/users/bob"}) {
		t.Errorf("followers items %v", items)
	}
	f := expect(t, r.get(r.base+"/users/bob/following", acceptAP), http.StatusOK).json(t)
	if f["totalItems"] != 1.0 {
		t.Errorf("following %v", f)
	}

	// A locked account shows its totals only.
	expect(t, r.do(http.MethodPatch, "/api/v1/me", alice.token, "", map[string]any{"locked": true}), http.StatusOK)
	c = expect(t, r.get(followers, acceptAP), http.StatusOK).json(t)
	if c["totalItems"] != 2.0 || c["first"] != nil {
		t.Errorf("locked followers %v", c)
	}
	p = expect(t, r.get(followers+"?page=true", acceptAP), http.StatusOK).json(t)
	if p["orderedItems"] != nil {
		t.Errorf("locked followers page lists %v", p["orderedItems"])
	}
}
