package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

func TestThoughtLifecycle(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob := rig.Register("alice"), rig.Register("bob")
	created := apitest.Expect(t, rig.Post("/api/v1/thoughts", alice.Token, map[string]any{
		"content": "hello 🌍", "content_warning": "greetings", "sensitive": true, "visibility": "unlisted",
	}), http.StatusCreated)
	th := created.Map(t)
	id := th["id"].(string)
	if th["content"] != "hello 🌍" || th["content_warning"] != "greetings" || th["sensitive"] != true ||
		th["visibility"] != "unlisted" || th["edited_at"] != nil || th["author"].(map[string]any)["username"] != "alice" {
		t.Fatalf("created = %s", created.Body)
	}
	if !strings.HasSuffix(created.Header.Get("Location"), "/api/v1/thoughts/"+id) {
		t.Errorf("Location = %q", created.Header.Get("Location"))
	}
	got := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+id, ""), 200).Map(t)
	if got["content"] != "hello 🌍" {
		t.Errorf("anonymous get = %v", got)
	}

	// Only the author edits or deletes; others get 403 for what they can see.
	expectProblem(t, rig.Patch("/api/v1/thoughts/"+id, bob.Token, map[string]any{"content": "pwned"}), 403)
	expectProblem(t, rig.Delete("/api/v1/thoughts/"+id, bob.Token), 403)
	expectProblem(t, rig.Patch("/api/v1/thoughts/"+id, "", map[string]any{"content": "anon"}), 401)
	if got := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+id, ""), 200).Map(t); got["content"] != "hello 🌍" {
		t.Fatalf("a refused edit changed the thought: %v", got)
	}

	edited := apitest.Expect(t, rig.Patch("/api/v1/thoughts/"+id, alice.Token, map[string]any{"content": "hello world", "sensitive": false}), 200).Map(t)
	if edited["content"] != "hello world" || edited["sensitive"] != false || edited["edited_at"] == nil || edited["content_warning"] != "greetings" {
		t.Errorf("edited = %v", edited)
	}
	expectProblem(t, rig.Patch("/api/v1/thoughts/"+id, alice.Token, map[string]any{"content": ""}), 422)
	expectProblem(t, rig.Patch("/api/v1/thoughts/"+id, alice.Token, map[string]any{"visibility": "public"}), 400)

	reply := rig.Think(bob, map[string]any{"content": "hi alice", "in_reply_to_id": id})
	if reply["in_reply_to_id"] != id || reply["in_reply_to_author_id"] != alice.ID {
		t.Errorf("reply = %v", reply)
	}

	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+id, alice.Token), 204)
	expectProblem(t, rig.Get("/api/v1/thoughts/"+id, ""), 410)
	expectProblem(t, rig.Delete("/api/v1/thoughts/"+id, alice.Token), 410)
	expectProblem(t, rig.Patch("/api/v1/thoughts/"+id, alice.Token, map[string]any{"content": "back"}), 410)
	expectProblem(t, rig.Post("/api/v1/thoughts", bob.Token, map[string]any{"content": "late", "in_reply_to_id": id}), 422)

	// The reply keeps its parent: the tombstone is in its context.
	ctx := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+reply["id"].(string)+"/context", ""), 200).Map(t)
	anc := ctx["ancestors"].([]any)
	if len(anc) != 1 {
		t.Fatalf("ancestors = %v", anc)
	}
	tomb := anc[0].(map[string]any)
	if tomb["id"] != id || tomb["deleted_at"] == nil || tomb["content"] != "" {
		t.Errorf("tombstone = %v", tomb)
	}
	expectProblem(t, rig.Get("/api/v1/thoughts/not-a-uuid", ""), 404)
	expectProblem(t, rig.Get("/api/v1/thoughts/0190f5b4-7d2a-7c4e-8e4a-1a2b3c4d5e6f", ""), 404)
}

func TestThoughtValidation(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("vera")
	cases := []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"empty", map[string]any{"content": ""}, 422, "content"},
		{"blank", map[string]any{"content": "  \n "}, 422, "content"},
		{"501 runes", map[string]any{"content": strings.Repeat("é", 501)}, 422, "content"},
		{"cw 201", map[string]any{"content": "x", "content_warning": strings.Repeat("w", 201)}, 422, "content_warning"},
		{"bad visibility", map[string]any{"content": "x", "visibility": "private"}, 422, "visibility"},
		{"reply to nothing", map[string]any{"content": "x", "in_reply_to_id": "0190f5b4-7d2a-7c4e-8e4a-1a2b3c4d5e6f"}, 422, "in_reply_to_id"},
		{"reply id not uuid", map[string]any{"content": "x", "in_reply_to_id": "nope"}, 400, "in_reply_to_id"},
		{"content not string", map[string]any{"content": 5}, 400, "content"},
		{"unknown field", map[string]any{"content": "x", "colour": "red"}, 400, "colour"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := expectProblem(t, rig.Post("/api/v1/thoughts", u.Token, c.body), c.status)
			if c.field != "" && p["field"] != c.field {
				t.Errorf("field = %v, want %s", p["field"], c.field)
			}
		})
	}
	// Limits are in characters, not bytes: 500 multi-byte runes pass.
	rig.Think(u, map[string]any{"content": strings.Repeat("🙂", 500), "content_warning": strings.Repeat("é", 200)})
	// Nothing invalid was stored.
	var n int
	if err := rig.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM thoughts`).Scan(&n); err != nil || n != 1 {
		t.Errorf("thoughts stored = %d (%v), want 1", n, err)
	}
}

func TestVisibility(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	author, other := rig.Register("author"), rig.Register("other")
	priv := rig.Think(author, map[string]any{"content": "for followers", "visibility": "followers"})
	unl := rig.Think(author, map[string]any{"content": "unlisted", "visibility": "unlisted"})
	pub := rig.Think(author, map[string]any{"content": "public"})
	pid := priv["id"].(string)

	apitest.Expect(t, rig.Get("/api/v1/thoughts/"+pid, author.Token), 200)
	// Someone who may not see it gets 404, not 403: existence is not revealed.
	for _, token := range []string{other.Token, ""} {
		expectProblem(t, rig.Get("/api/v1/thoughts/"+pid, token), 404)
		expectProblem(t, rig.Get("/api/v1/thoughts/"+pid+"/context", token), 404)
		expectProblem(t, rig.Patch("/api/v1/thoughts/"+pid, other.Token, map[string]any{"content": "x"}), 404)
		expectProblem(t, rig.Delete("/api/v1/thoughts/"+pid, other.Token), 404)
	}
	p := expectProblem(t, rig.Post("/api/v1/thoughts", other.Token, map[string]any{"content": "x", "in_reply_to_id": pid}), 422)
	if p["field"] != "in_reply_to_id" {
		t.Errorf("reply to invisible: %v", p)
	}

	ids := func(token string) []string {
		var list []map[string]any
		apitest.Expect(t, rig.Get("/api/v1/users/author/thoughts", token), 200).JSON(t, &list)
		var out []string
		for _, th := range list {
			out = append(out, th["id"].(string))
		}
		return out
	}
	if got := ids(author.Token); fmt.Sprint(got) != fmt.Sprint([]string{pub["id"].(string), unl["id"].(string), pid}) {
		t.Errorf("author sees %v", got)
	}
	for _, token := range []string{other.Token, ""} {
		if got := ids(token); fmt.Sprint(got) != fmt.Sprint([]string{pub["id"].(string), unl["id"].(string)}) {
			t.Errorf("others see %v", got)
		}
	}
	// A reply hidden from a viewer is left out of the thread for them.
	hidden := rig.Think(author, map[string]any{"content": "hidden reply", "visibility": "followers", "in_reply_to_id": pub["id"]})
	desc := func(token string) int {
		return len(apitest.Expect(t, rig.Get("/api/v1/thoughts/"+pub["id"].(string)+"/context", token), 200).Map(t)["descendants"].([]any))
	}
	if desc(author.Token) != 1 || desc(other.Token) != 0 {
		t.Errorf("descendants: author %d, other %d (hidden %v)", desc(author.Token), desc(other.Token), hidden["id"])
	}
}

var linkRE = regexp.MustCompile(`<([^>]+)>; rel="(\w+)"`)

func links(t *testing.T, resp apitest.Response) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range linkRE.FindAllStringSubmatch(resp.Header.Get("Link"), -1) {
		u, err := url.Parse(m[1])
		if err != nil {
			t.Fatal(err)
		}
		out[m[2]] = u.RequestURI()
	}
	return out
}

func TestPagination(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("pager")
	var posted []string
	for i := 0; i < 25; i++ {
		posted = append(posted, rig.Think(u, map[string]any{"content": fmt.Sprintf("thought %d", i)})["id"].(string))
	}
	newestFirst := make([]string, len(posted))
	for i, id := range posted {
		newestFirst[len(posted)-1-i] = id
	}
	page := func(path string) ([]string, map[string]string) {
		resp := apitest.Expect(t, rig.Get(path, ""), 200)
		var list []map[string]any
		resp.JSON(t, &list)
		var ids []string
		for _, th := range list {
			ids = append(ids, th["id"].(string))
		}
		return ids, links(t, resp)
	}
	// Walk forward with rel="next" until the end.
	var walked []string
	path := "/api/v1/users/pager/thoughts?limit=10"
	for i := 0; path != "" && i < 10; i++ {
		ids, l := page(path)
		walked = append(walked, ids...)
		path = l["next"]
	}
	if fmt.Sprint(walked) != fmt.Sprint(newestFirst) {
		t.Fatalf("walked %d thoughts in order %v, want %v", len(walked), walked, newestFirst)
	}
	// Default limit is 20.
	if ids, _ := page("/api/v1/users/pager/thoughts"); len(ids) != 20 {
		t.Errorf("default page has %d", len(ids))
	}
	// rel="prev" (min_id) returns the items just newer than the page, newest first.
	_, l := page("/api/v1/users/pager/thoughts?limit=5&max_id=" + newestFirst[9])
	prev, _ := page(l["prev"])
	if fmt.Sprint(prev) != fmt.Sprint(newestFirst[5:10]) {
		t.Errorf("prev page = %v, want %v", prev, newestFirst[5:10])
	}
	// since_id returns the newest items above it.
	since, _ := page("/api/v1/users/pager/thoughts?limit=3&since_id=" + newestFirst[10])
	if fmt.Sprint(since) != fmt.Sprint(newestFirst[0:3]) {
		t.Errorf("since page = %v, want %v", since, newestFirst[0:3])
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=abc", "max_id=zzz", "since_id=1&min_id=2", "since_id=" + newestFirst[1] + "&min_id=" + newestFirst[2]} {
		expectProblem(t, rig.Get("/api/v1/users/pager/thoughts?"+q, ""), 400)
	}
	if p := expectProblem(t, rig.Get("/api/v1/users/pager/thoughts?limit=101", ""), 400); p["field"] != "limit" {
		t.Errorf("limit problem = %v", p)
	}
	expectProblem(t, rig.Get("/api/v1/users/nobody/thoughts", ""), 404)
}

func TestThreadContext(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	a, b := rig.Register("ann"), rig.Register("ben")
	root := rig.Think(a, map[string]any{"content": "root"})["id"].(string)
	mid := rig.Think(b, map[string]any{"content": "mid", "in_reply_to_id": root})["id"].(string)
	leaf := rig.Think(a, map[string]any{"content": "leaf", "in_reply_to_id": mid})["id"].(string)
	sibling := rig.Think(a, map[string]any{"content": "sibling", "in_reply_to_id": root})["id"].(string)
	ids := func(list []any) []string {
		var out []string
		for _, x := range list {
			out = append(out, x.(map[string]any)["id"].(string))
		}
		return out
	}
	c := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+mid+"/context", ""), 200).Map(t)
	if fmt.Sprint(ids(c["ancestors"].([]any))) != fmt.Sprint([]string{root}) || fmt.Sprint(ids(c["descendants"].([]any))) != fmt.Sprint([]string{leaf}) {
		t.Errorf("context of mid = %v", c)
	}
	c = apitest.Expect(t, rig.Get("/api/v1/thoughts/"+root+"/context", ""), 200).Map(t)
	if len(c["ancestors"].([]any)) != 0 || fmt.Sprint(ids(c["descendants"].([]any))) != fmt.Sprint([]string{mid, leaf, sibling}) {
		t.Errorf("context of root = %v", c)
	}
	c = apitest.Expect(t, rig.Get("/api/v1/thoughts/"+leaf+"/context", ""), 200).Map(t)
	if fmt.Sprint(ids(c["ancestors"].([]any))) != fmt.Sprint([]string{root, mid}) {
		t.Errorf("ancestors of leaf = %v", c["ancestors"])
	}
	r := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+root, ""), 200).Map(t)
	if r["replies_count"] != float64(2) {
		t.Errorf("replies_count = %v", r["replies_count"])
	}
}
