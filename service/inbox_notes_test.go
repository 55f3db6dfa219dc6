package service

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/adapters/federation"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// note is a Note by author on the remote server.
func (r *inboxRig) note(author, content string, to, cc []string, extra map[string]any) map[string]any {
	n := map[string]any{
		"id": r.id("notes"), "type": "Note", "attributedTo": r.rs.iri(author), "content": content,
		"to": to, "cc": cc, "published": time.Now().UTC().Format(time.RFC3339),
	}
	for k, v := range extra {
		n[k] = v
	}
	return n
}

func create(n map[string]any) map[string]any {
	return map[string]any{"type": "Create", "object": n, "to": n["to"], "cc": n["cc"]}
}

// thoughtOf is the id of the thought stored for a Note.
func (r *inboxRig) thoughtOf(noteIRI string) string {
	r.t.Helper()
	var id string
	if err := r.s.Pool.QueryRow(context.Background(), `SELECT id::text FROM thoughts WHERE ap_iri = $1`, noteIRI).Scan(&id); err != nil {
		r.t.Fatalf("no thought for %s: %v", noteIRI, err)
	}
	return id
}

func ids(list []map[string]any) []string {
	var out []string
	for _, m := range list {
		out = append(out, m["id"].(string))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// listIDs is the ids of the thoughts a list endpoint answers.
func (r *inboxRig) listIDs(path, token string) []string {
	r.t.Helper()
	code, m := r.api(http.MethodGet, path, token, nil)
	if code != http.StatusOK {
		r.t.Fatalf("%s: %d %v", path, code, m)
	}
	return ids(items(m))
}

// TestInboxNotes: remote Notes are stored when they concern someone here,
// sanitised, with the visibility their addressing gives them; they reach
// followers' home feeds, tag pages and search under the same rules as local
// thoughts (a followers-only one only for followers), mentions notify, and
// only their author may edit or delete them.
func TestInboxNotes(t *testing.T) {
	t.Parallel()
	r := newInboxRig(t)
	alice := r.register("alice")
	eve := r.register("eve")
	dave := r.register("dave") // a local dave; the note mentions another server's
	bob := r.rs.actor("bob", 0)
	carol := r.rs.actor("carol", 1)
	host := strings.TrimPrefix(r.rs.URL, "http://")
	bobID := r.remoteUser(bob)
	r.follow(uuidOf(t, alice.id), bobID, domain.FollowAccepted, "")
	followers := r.rs.iri("bob") + "/followers"

	public := r.note("bob", `<p>Hello <a href="`+r.rs.URL+`/tags/fediverse" class="mention hashtag" rel="tag">#<span>Fediverse</span></a> and `+
		`<span class="h-card"><a href="`+r.base+`/users/eve" class="u-url mention">@<span>eve</span></a></span>`+
		`<script>alert(1)</script><img src=x onerror="alert(2)"> cc @dave</p>`,
		[]string{publicAddr}, []string{followers, r.base + "/users/eve"},
		map[string]any{"tag": []any{
			map[string]any{"type": "Hashtag", "href": r.rs.URL + "/tags/fediverse", "name": "#Fediverse"},
			map[string]any{"type": "Mention", "href": r.base + "/users/eve", "name": "@eve@" + r.base[len("http://"):]},
			map[string]any{"type": "Mention", "href": r.rs.iri("dave"), "name": "@dave@" + host},
		}})
	created := r.events(events.TopicThoughtCreated)
	if out := r.apply(bob, create(public)); out != "applied" {
		t.Fatalf("create: %s", out)
	}
	pub := r.thoughtOf(public["id"].(string))
	var text, html, vis string
	if err := r.s.Pool.QueryRow(context.Background(), `SELECT content, content_html, visibility FROM thoughts WHERE id = $1`, pub).Scan(&text, &html, &vis); err != nil {
		t.Fatal(err)
	}
	if text != "Hello #Fediverse and @eve cc @dave" || strings.Contains(html, "script") || strings.Contains(html, "onerror") || strings.Contains(html, "img") || vis != "public" {
		t.Errorf("stored %q / %q / %s", text, html, vis)
	}
	if !contains(r.listIDs("/api/v1/feed", alice.token), pub) {
		t.Errorf("bob's public note is not in his follower's home feed")
	}
	if !contains(r.listIDs("/api/v1/tags/fediverse", ""), pub) {
		t.Errorf("bob's public note is not on the tag page")
	}
	if !contains(r.listIDs("/api/v1/search?type=thoughts&q=hello", ""), pub) {
		t.Errorf("bob's public note is not found by search")
	}
	r.waitNotified(eve, "mention:bob@"+host)
	// The same event notified eve and did not notify the local dave: the
	// Mention named another server's dave.
	if n := r.notifications(dave); len(n) != 0 {
		t.Errorf("the local dave was notified of a mention of another dave: %v", n)
	}
	if got := r.events(events.TopicThoughtCreated); got != created+1 {
		t.Errorf("%d ThoughtCreated for one note", got-created)
	}
	// The same Note in a second Create (another activity id): nothing new.
	if out := r.apply(bob, create(public)); out != "applied" {
		t.Errorf("second create: %s", out)
	}
	if got := r.events(events.TopicThoughtCreated); got != created+1 {
		t.Errorf("a Note created twice emitted %d ThoughtCreated", got-created)
	}

	// Followers-only: alice (a follower) sees it everywhere she may; eve
	// and anonymous readers nowhere.
	secret := r.note("bob", "<p>secret words #hushhush</p>", []string{followers}, nil, nil)
	if out := r.apply(bob, create(secret)); out != "applied" {
		t.Fatalf("create followers-only: %s", out)
	}
	sec := r.thoughtOf(secret["id"].(string))
	if !contains(r.listIDs("/api/v1/feed", alice.token), sec) || !contains(r.listIDs("/api/v1/search?type=thoughts&q=secret", alice.token), sec) ||
		!contains(r.listIDs("/api/v1/tags/hushhush", alice.token), sec) {
		t.Errorf("a follower does not see bob's followers-only note in feed, search and tag page")
	}
	if contains(r.listIDs("/api/v1/feed", eve.token), sec) || contains(r.listIDs("/api/v1/search?type=thoughts&q=secret", eve.token), sec) ||
		contains(r.listIDs("/api/v1/tags/hushhush", eve.token), sec) || contains(r.listIDs("/api/v1/tags/hushhush", ""), sec) {
		t.Errorf("a non-follower sees bob's followers-only note")
	}
	if code, _ := r.api(http.MethodGet, "/api/v1/thoughts/"+sec, eve.token, nil); code != http.StatusNotFound {
		t.Errorf("eve reads bob's followers-only note: %d", code)
	}
	unlisted := r.note("bob", "<p>quiet</p>", []string{followers}, []string{publicAddr}, nil)
	if out := r.apply(bob, create(unlisted)); out != "applied" {
		t.Fatalf("create unlisted: %s", out)
	}
	var uvis string
	r.s.Pool.QueryRow(context.Background(), `SELECT visibility FROM thoughts WHERE ap_iri = $1`, unlisted["id"]).Scan(&uvis)
	if uvis != "unlisted" {
		t.Errorf("Public in cc stored as %s", uvis)
	}

	// carol's note concerns no one here.
	if out := r.apply(carol, create(r.note("carol", "<p>hi</p>", []string{publicAddr}, nil, nil))); !strings.HasPrefix(out, "ignored") {
		t.Errorf("an unrelated note: %s", out)
	}
	// bob cannot post as carol.
	forged := r.note("carol", "<p>as carol, mentioning</p>", []string{r.base + "/users/alice"}, nil, nil)
	if out := r.apply(bob, create(forged)); !strings.HasPrefix(out, "rejected") {
		t.Errorf("a note attributed to someone else: %s", out)
	}

	// Edits: only the author's.
	edited := map[string]any{}
	for k, v := range public {
		edited[k] = v
	}
	edited["content"] = "<p>Hello, edited</p>"
	byCarol := map[string]any{}
	for k, v := range edited {
		byCarol[k] = v
	}
	byCarol["attributedTo"] = r.rs.iri("carol")
	if out := r.apply(carol, map[string]any{"type": "Update", "object": byCarol}); !strings.HasPrefix(out, "rejected") {
		t.Errorf("carol editing bob's note: %s", out)
	}
	updated := r.events(events.TopicThoughtUpdated)
	if out := r.apply(bob, map[string]any{"type": "Update", "object": edited}); out != "applied" {
		t.Errorf("bob's edit: %s", out)
	}
	if code, m := r.api(http.MethodGet, "/api/v1/thoughts/"+pub, "", nil); code != http.StatusOK || m["content"] != "Hello, edited" || m["edited_at"] == nil {
		t.Errorf("after the edit: %d %v", code, m)
	}
	if got := r.events(events.TopicThoughtUpdated); got != updated+1 {
		t.Errorf("the edit emitted %d ThoughtUpdated", got-updated)
	}

	// A reply to alice notifies her and hangs under her thought.
	mine := r.think(alice, "a thought of mine", "public")
	reply := r.note("bob", "<p>a reply</p>", []string{publicAddr}, []string{r.base + "/users/alice"},
		map[string]any{"inReplyTo": r.base + "/users/alice/thoughts/" + mine})
	if out := r.apply(bob, create(reply)); out != "applied" {
		t.Fatalf("reply: %s", out)
	}
	r.waitNotified(alice, "reply:bob@"+host)
	code, m := r.api(http.MethodGet, "/api/v1/thoughts/"+mine+"/context", alice.token, nil)
	if desc, _ := m["descendants"].([]any); code != http.StatusOK || len(desc) != 1 || desc[0].(map[string]any)["id"] != r.thoughtOf(reply["id"].(string)) {
		t.Errorf("context of alice's thought: %d %v", code, m)
	}

	// Deletion: only the author's.
	if out := r.apply(carol, map[string]any{"type": "Delete", "object": public["id"]}); !strings.HasPrefix(out, "rejected") {
		t.Errorf("carol deleting bob's note: %s", out)
	}
	if out := r.apply(bob, map[string]any{"type": "Delete", "object": map[string]any{"id": public["id"], "type": "Tombstone"}}); out != "applied" {
		t.Errorf("bob's delete: %s", out)
	}
	if code, _ := r.api(http.MethodGet, "/api/v1/thoughts/"+pub, "", nil); code != http.StatusGone {
		t.Errorf("a deleted remote note: %d", code)
	}
	// carol cannot delete alice's thought either.
	if out := r.apply(carol, map[string]any{"type": "Delete", "object": r.base + "/users/alice/thoughts/" + mine}); !strings.HasPrefix(out, "rejected") {
		t.Errorf("carol deleting alice's thought: %s", out)
	}
}

// TestInboxInteractions: likes, boosts and blocks from remote accounts
// count, notify and can be taken back, only by whoever made them.
func TestInboxInteractions(t *testing.T) {
	t.Parallel()
	r := newInboxRig(t)
	alice := r.register("alice")
	bob := r.rs.actor("bob", 0)
	carol := r.rs.actor("carol", 1)
	host := strings.TrimPrefix(r.rs.URL, "http://")
	tid := r.think(alice, "likeable", "public")
	iri := r.base + "/users/alice/thoughts/" + tid

	like := map[string]any{"id": r.id("likes"), "type": "Like", "actor": r.rs.iri("bob"), "object": iri}
	if out := r.apply(bob, like); out != "applied" {
		t.Fatalf("like: %s", out)
	}
	r.waitNotified(alice, "like:bob@"+host)
	added := r.events(events.TopicLikeAdded)
	// A second Like of the same thought (another id) changes nothing.
	if out := r.apply(bob, map[string]any{"type": "Like", "object": iri}); out != "applied" {
		t.Errorf("second like: %s", out)
	}
	if got := r.events(events.TopicLikeAdded); got != added {
		t.Errorf("a second like emitted %d LikeAdded", got-added)
	}
	if code, m := r.api(http.MethodGet, "/api/v1/thoughts/"+tid, "", nil); code != 200 || m["likes_count"] != float64(1) {
		t.Errorf("likes: %v", m["likes_count"])
	}
	if out := r.apply(carol, map[string]any{"type": "Undo", "object": like["id"]}); !strings.HasPrefix(out, "rejected") {
		t.Errorf("carol undoing bob's like: %s", out)
	}
	if out := r.apply(bob, map[string]any{"type": "Undo", "object": like["id"]}); out != "applied" {
		t.Errorf("undo like: %s", out)
	}
	if _, m := r.api(http.MethodGet, "/api/v1/thoughts/"+tid, "", nil); m["likes_count"] != float64(0) {
		t.Errorf("likes after undo: %v", m["likes_count"])
	}

	boost := map[string]any{"id": r.id("announces"), "type": "Announce", "actor": r.rs.iri("bob"), "object": iri}
	if out := r.apply(bob, boost); out != "applied" {
		t.Fatalf("announce: %s", out)
	}
	r.waitNotified(alice, "boost:bob@"+host)
	if out := r.apply(bob, map[string]any{"type": "Undo", "object": map[string]any{"type": "Announce", "actor": r.rs.iri("bob"), "object": iri}}); out != "applied" {
		t.Errorf("undo announce: %s", out)
	}
	if _, m := r.api(http.MethodGet, "/api/v1/thoughts/"+tid, "", nil); m["boosts_count"] != float64(0) {
		t.Errorf("boosts after undo: %v", m["boosts_count"])
	}

	// A followers-only thought is not bob's to like or boost.
	hidden := r.think(alice, "for followers", "followers")
	hiddenIRI := r.base + "/users/alice/thoughts/" + hidden
	if out := r.apply(bob, map[string]any{"type": "Like", "object": hiddenIRI}); !strings.HasPrefix(out, "ignored") {
		t.Errorf("like of a thought bob may not see: %s", out)
	}
	if out := r.apply(bob, map[string]any{"type": "Announce", "object": hiddenIRI}); !strings.HasPrefix(out, "ignored") {
		t.Errorf("boost of a thought bob may not see: %s", out)
	}

	// bob blocks alice: the follows between them go.
	bobID := r.remoteUser(bob)
	r.follow(uuidOf(t, alice.id), bobID, domain.FollowAccepted, "")
	r.follow(bobID, uuidOf(t, alice.id), domain.FollowAccepted, "")
	block := map[string]any{"id": r.id("blocks"), "type": "Block", "actor": r.rs.iri("bob"), "object": r.base + "/users/alice"}
	if out := r.apply(bob, block); out != "applied" {
		t.Fatalf("block: %s", out)
	}
	if n := r.count(`SELECT count(*) FROM follows WHERE follower_id IN ($1, $2)`, bobID, uuidOf(t, alice.id)); n != 0 {
		t.Errorf("%d follows survived the block", n)
	}
	if out := r.apply(carol, map[string]any{"type": "Undo", "object": block["id"]}); !strings.HasPrefix(out, "rejected") {
		t.Errorf("carol undoing bob's block: %s", out)
	}
	if out := r.apply(bob, map[string]any{"type": "Undo", "object": block}); out != "applied" {
		t.Errorf("undo block: %s", out)
	}
	if n := r.count(`SELECT count(*) FROM blocks WHERE blocker_id = $1`, bobID); n != 0 {
		t.Errorf("the block survived its undo")
	}
}

// TestInboxThreads: a reply whose parent we do not have fetches the
// parent chain (signed GETs), links each reply when its parent arrives,
// and the thread's context shows the conversation.
func TestInboxThreads(t *testing.T) {
	t.Parallel()
	r := newInboxRig(t)
	alice := r.register("alice")
	bob := r.rs.actor("bob", 0)
	r.rs.actor("carol", 1)
	r.follow(uuidOf(t, alice.id), r.remoteUser(bob), domain.FollowAccepted, "")
	ctx := map[string]any{"@context": "https://www.w3.org/ns/activitystreams"}
	root := r.note("carol", "<p>the root</p>", []string{publicAddr}, nil, ctx)
	root["id"] = r.rs.URL + "/notes/1"
	middle := r.note("bob", "<p>the middle</p>", []string{publicAddr}, nil, ctx)
	middle["id"], middle["inReplyTo"] = r.rs.URL+"/notes/2", root["id"]
	r.rs.setObject("/notes/1", root)
	r.rs.setObject("/notes/2", middle)
	leaf := r.note("bob", "<p>the leaf</p>", []string{publicAddr}, nil, map[string]any{"inReplyTo": middle["id"]})
	if out := r.apply(bob, create(leaf)); out != "applied" {
		t.Fatalf("create: %s", out)
	}
	waitFor(t, "the thread was never fetched", func() bool {
		return r.count(`SELECT count(*) FROM thoughts WHERE ap_iri = $1 AND in_reply_to_id IS NOT NULL`, r.rs.URL+"/notes/2") == 1
	})
	leafID := r.thoughtOf(leaf["id"].(string))
	code, m := r.api(http.MethodGet, "/api/v1/thoughts/"+leafID+"/context", alice.token, nil)
	anc, _ := m["ancestors"].([]any)
	if code != http.StatusOK || len(anc) != 2 || anc[0].(map[string]any)["id"] != r.thoughtOf(r.rs.URL+"/notes/1") ||
		anc[1].(map[string]any)["id"] != r.thoughtOf(r.rs.URL+"/notes/2") {
		t.Errorf("context of the leaf: %d %v", code, m)
	}
	if _, m := r.api(http.MethodGet, "/api/v1/thoughts/"+r.thoughtOf(r.rs.URL+"/notes/2"), "", nil); m["replies_count"] != float64(1) {
		t.Errorf("the middle's replies once the leaf was linked: %v", m["replies_count"])
	}
	if r.rs.fetched("/notes/1") != 1 || r.rs.fetched("/notes/2") != 1 {
		t.Errorf("fetched the parents %d and %d times", r.rs.fetched("/notes/1"), r.rs.fetched("/notes/2"))
	}
	// A reply to a parent that is gone keeps its parent's IRI.
	orphan := r.note("bob", "<p>orphan</p>", []string{publicAddr}, nil, map[string]any{"inReplyTo": r.rs.URL + "/notes/gone"})
	if out := r.apply(bob, create(orphan)); out != "applied" {
		t.Fatalf("create orphan: %s", out)
	}
	waitFor(t, "the missing parent was never asked for", func() bool { return r.rs.fetched("/notes/gone") == 1 })
	if n := r.count(`SELECT count(*) FROM thoughts WHERE ap_iri = $1 AND in_reply_to_iri = $2`, orphan["id"], r.rs.URL+"/notes/gone"); n != 1 {
		t.Errorf("the orphan lost its parent's IRI")
	}
}

// TestInboxActors: Update(Person) refreshes the profile (only one's own);
// Delete of the actor takes its content and its account.
func TestInboxActors(t *testing.T) {
	t.Parallel()
	r := newInboxRig(t)
	alice := r.register("alice")
	bob := r.rs.actor("bob", 0)
	carol := r.rs.actor("carol", 1)
	bobID := r.remoteUser(bob)
	r.follow(uuidOf(t, alice.id), bobID, domain.FollowAccepted, "")
	bob.extra["name"] = "Robert"
	if out := r.apply(carol, map[string]any{"type": "Update", "object": map[string]any{"id": r.rs.iri("bob"), "type": "Person"}}); !strings.HasPrefix(out, "rejected") {
		t.Errorf("carol updating bob: %s", out)
	}
	if out := r.apply(bob, map[string]any{"type": "Update", "object": map[string]any{"id": r.rs.iri("bob"), "type": "Person"}}); out != "applied" {
		t.Errorf("update: %s", out)
	}
	var name string
	r.s.Pool.QueryRow(context.Background(), `SELECT display_name FROM users WHERE id = $1`, bobID).Scan(&name)
	if name != "Robert" {
		t.Errorf("display name after Update(Person): %q", name)
	}
	n := r.note("bob", "<p>soon gone</p>", []string{publicAddr}, nil, nil)
	if out := r.apply(bob, create(n)); out != "applied" {
		t.Fatalf("create: %s", out)
	}
	tid := r.thoughtOf(n["id"].(string))
	if out := r.apply(bob, map[string]any{"type": "Delete", "object": r.rs.iri("bob"), "to": []string{publicAddr}}); out != "applied" {
		t.Fatalf("delete actor: %s", out)
	}
	if code, _ := r.api(http.MethodGet, "/api/v1/thoughts/"+tid, "", nil); code != http.StatusGone && code != http.StatusNotFound {
		t.Errorf("the deleted actor's thought: %d", code)
	}
	if n := r.count(`SELECT count(*) FROM users WHERE id = $1 AND deleted_at IS NOT NULL`, bobID); n != 1 {
		t.Errorf("the actor's account is not deleted")
	}
	if n := r.count(`SELECT count(*) FROM follows WHERE following_id = $1`, bobID); n != 0 {
		t.Errorf("follows of the deleted actor remain")
	}
	if out := r.apply(bob, create(r.note("bob", "<p>back?</p>", []string{publicAddr}, []string{r.base + "/users/alice"}, nil))); !strings.HasPrefix(out, "ignored") {
		t.Errorf("a note from a deleted actor: %s", out)
	}
}

// TestSignedFetchOfFollowersOnlyNotes: a followers-only thought is served
// to a signed fetch from a server with a follower of its author, and to no
// one else; public ones to anyone.
func TestSignedFetchOfFollowersOnlyNotes(t *testing.T) {
	t.Parallel()
	r := newInboxRig(t)
	alice := r.register("alice")
	bob := r.rs.actor("bob", 0)
	other := newInboxPeer(t)
	zed := other.actor("zed", 1)
	r.follow(r.remoteUser(bob), uuidOf(t, alice.id), domain.FollowAccepted, "")
	secret := r.think(alice, "for my followers", "followers")
	open := r.think(alice, "for everyone", "public")
	fetch := func(id string, signer *remoteActor) int {
		req, _ := http.NewRequest(http.MethodGet, r.base+"/users/alice/thoughts/"+id, nil)
		req.Header.Set("Accept", "application/activity+json")
		if signer != nil {
			if err := federation.SignRequest(req, nil, signer.keyID, signer.key, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name   string
		id     string
		signer *remoteActor
		want   int
	}{
		{"followers-only, unsigned", secret, nil, http.StatusNotFound},
		{"followers-only, signed by a follower's server", secret, bob, http.StatusOK},
		{"followers-only, signed by another server", secret, zed, http.StatusNotFound},
		{"followers-only, a forged signature", secret, &remoteActor{keyID: bob.keyID, key: rigKey(t, 2)}, http.StatusNotFound},
		{"public, signed by another server", open, zed, http.StatusOK},
		{"public, unsigned", open, nil, http.StatusOK},
	} {
		if got := fetch(tc.id, tc.signer); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
