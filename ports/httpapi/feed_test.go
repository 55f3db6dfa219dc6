package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// feedEntry is what a test expects of a feed item: the thought and who
// boosted it ("" for an original).
type feedEntry struct{ thought, booster string }

func (e feedEntry) String() string {
	if e.booster == "" {
		return e.thought[len(e.thought)-6:]
	}
	return e.thought[len(e.thought)-6:] + "/" + e.booster
}

func readFeed(t *testing.T, rig *apitest.Rig, token, query string) ([]feedEntry, []map[string]any, apitest.Response) {
	t.Helper()
	resp := apitest.Expect(t, rig.Get("/api/v1/feed"+query, token), 200)
	var items []map[string]any
	resp.JSON(t, &items)
	var out []feedEntry
	for _, it := range items {
		e := feedEntry{thought: it["id"].(string)}
		if b, ok := it["boosted_by"].(map[string]any); ok {
			e.booster = b["username"].(string)
		}
		out = append(out, e)
	}
	return out, items, resp
}

func TestFeed(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	me, a, b, c := rig.Register("mia"), rig.Register("ann"), rig.Register("ben"), rig.Register("cat")
	for _, u := range []apitest.User{a, b} {
		apitest.Expect(t, rig.Post("/api/v1/users/"+u.Username+"/follow", me.Token, nil), 200)
	}
	think := func(u apitest.User, content, vis string) string {
		return rig.Think(u, map[string]any{"content": content, "visibility": vis})["id"].(string)
	}
	boost := func(u apitest.User, id string) {
		apitest.Expect(t, rig.Post("/api/v1/thoughts/"+id+"/boost", u.Token, nil), 200)
	}
	expect := func(want ...feedEntry) {
		t.Helper()
		got, items, _ := readFeed(t, rig, me.Token, "")
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("feed = %v, want %v", got, want)
		}
		for i, it := range items {
			if (it["boosted_by"] == nil) != (it["feed_id"] == it["id"]) {
				t.Errorf("item %d: feed_id %v, id %v, boosted_by %v", i, it["feed_id"], it["id"], it["boosted_by"])
			}
		}
	}

	m1 := think(me, "mine", "public")
	a1 := think(a, "ann's", "public")
	a2 := think(a, "ann's, for followers", "followers")
	c1 := think(c, "cat's", "public")
	expect(feedEntry{a2, ""}, feedEntry{a1, ""}, feedEntry{m1, ""})

	// A followed account's boost brings in a stranger's thought.
	boost(a, c1)
	expect(feedEntry{c1, "ann"}, feedEntry{a2, ""}, feedEntry{a1, ""}, feedEntry{m1, ""})
	// Boosted again by another followed account: shown once, newest boost wins.
	boost(b, c1)
	expect(feedEntry{c1, "ben"}, feedEntry{a2, ""}, feedEntry{a1, ""}, feedEntry{m1, ""})
	// An original boosted later moves up, shown once, as the boost.
	boost(b, a1)
	expect(feedEntry{a1, "ben"}, feedEntry{c1, "ben"}, feedEntry{a2, ""}, feedEntry{m1, ""})

	// Nothing from users the viewer blocks or who block the viewer, even boosted.
	blocked, blocker := rig.Register("blocked"), rig.Register("blocker")
	e1 := think(blocked, "blocked's", "public")
	x1 := think(blocker, "blocker's", "public")
	apitest.Expect(t, rig.Post("/api/v1/users/blocked/block", me.Token, nil), 200)
	apitest.Expect(t, rig.Post("/api/v1/users/mia/block", blocker.Token, nil), 200)
	boost(a, e1)
	boost(a, x1)
	expect(feedEntry{a1, "ben"}, feedEntry{c1, "ben"}, feedEntry{a2, ""}, feedEntry{m1, ""})

	// Deleted thoughts leave; an unboost puts the original back in its place.
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+a2, a.Token), 204)
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+a1+"/boost", b.Token), 200)
	expect(feedEntry{c1, "ben"}, feedEntry{a1, ""}, feedEntry{m1, ""})

	// Unlisted thoughts of followed accounts are in the feed, and boostable.
	c2 := think(c, "cat's, unlisted", "unlisted")
	boost(a, c2)
	a3 := think(a, "ann's, unlisted", "unlisted")
	expect(feedEntry{a3, ""}, feedEntry{c2, "ann"}, feedEntry{c1, "ben"}, feedEntry{a1, ""}, feedEntry{m1, ""})
	// The viewer's own boost counts too.
	boost(me, a1)
	expect(feedEntry{a1, "mia"}, feedEntry{a3, ""}, feedEntry{c2, "ann"}, feedEntry{c1, "ben"}, feedEntry{m1, ""})

	// Unfollowing takes an account's thoughts and boosts out.
	apitest.Expect(t, rig.Delete("/api/v1/users/ann/follow", me.Token), 200)
	expect(feedEntry{a1, "mia"}, feedEntry{c1, "ben"}, feedEntry{m1, ""})

	// Items carry counts and the viewer's flags like any thought.
	_, items, _ := readFeed(t, rig, me.Token, "")
	if items[0]["boosted"] != true || items[0]["boosts_count"] != float64(1) {
		t.Errorf("boosted item = %v", items[0])
	}
	expectProblem(t, rig.Get("/api/v1/feed", ""), 401)
}

func TestFeedPagination(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	me := rig.Register("mia")
	var authors []apitest.User
	for i := range 3 {
		u := rig.Register(fmt.Sprintf("author%d", i))
		apitest.Expect(t, rig.Post("/api/v1/users/"+u.Username+"/follow", me.Token, nil), 200)
		authors = append(authors, u)
	}
	stranger := rig.Register("stranger")
	var all []string
	for i := range 24 {
		u := authors[i%3]
		id := rig.Think(u, map[string]any{"content": fmt.Sprintf("post %d", i)})["id"].(string)
		all = append(all, id)
		if i%5 == 4 {
			s := rig.Think(stranger, map[string]any{"content": fmt.Sprintf("stranger %d", i)})["id"].(string)
			apitest.Expect(t, rig.Post("/api/v1/thoughts/"+s+"/boost", authors[(i+1)%3].Token, nil), 200)
		}
		if i%7 == 6 { // boost an older post: it moves up
			apitest.Expect(t, rig.Post("/api/v1/thoughts/"+all[i-3]+"/boost", authors[(i+2)%3].Token, nil), 200)
		}
	}
	full, fullItems, _ := readFeed(t, rig, me.Token, "?limit=100")
	if len(full) != 24+4 { // 24 posts, 4 boosted strangers; boosted posts appear once
		t.Fatalf("full feed has %d items: %v", len(full), full)
	}
	var feedIDs []string
	seen := map[string]bool{}
	for _, it := range fullItems {
		if seen[it["id"].(string)] {
			t.Errorf("thought %v appears twice", it["id"])
		}
		seen[it["id"].(string)] = true
		feedIDs = append(feedIDs, it["feed_id"].(string))
	}
	if !slices.IsSortedFunc(feedIDs, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("feed not newest first: %v", feedIDs)
	}

	var walked []feedEntry
	path := "/api/v1/feed?limit=5"
	for i := 0; path != "" && i < 20; i++ {
		page, _, resp := readFeed(t, rig, me.Token, path[len("/api/v1/feed"):])
		walked = append(walked, page...)
		path = links(t, resp)["next"]
	}
	if fmt.Sprint(walked) != fmt.Sprint(full) {
		t.Errorf("walked %v\nwant   %v", walked, full)
	}
	// prev (min_id) returns the entries just newer, newest first; since_id the newest.
	_, _, resp := readFeed(t, rig, me.Token, "?limit=5&max_id="+feedIDs[9])
	prev, _, _ := readFeed(t, rig, me.Token, links(t, resp)["prev"][len("/api/v1/feed"):])
	if fmt.Sprint(prev) != fmt.Sprint(full[5:10]) {
		t.Errorf("prev = %v, want %v", prev, full[5:10])
	}
	since, _, _ := readFeed(t, rig, me.Token, "?limit=3&since_id="+feedIDs[10])
	if fmt.Sprint(since) != fmt.Sprint(full[:3]) {
		t.Errorf("since = %v, want %v", since, full[:3])
	}
	expectProblem(t, rig.Get("/api/v1/feed?max_id=nope", me.Token), 400)
}

// A viewer following a quiet account among many busy ones: the busy accounts'
// thoughts fill every recent window, so the feed comes from the per-source
// plan; a viewer following the busy one gets it from the window. Both must be
// exact, on every page.
func TestFeedQuietAndBusySources(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	quiet, busy, sparse, dense := rig.Register("quiet"), rig.Register("busy"), rig.Register("sparse"), rig.Register("dense")
	for _, f := range [][2]apitest.User{{sparse, quiet}, {dense, busy}, {dense, quiet}} {
		apitest.Expect(t, rig.Post("/api/v1/users/"+f[1].Username+"/follow", f[0].Token, nil), 200)
	}
	post := func(u apitest.User, content string) string {
		t.Helper()
		th, err := rig.App.Commands.PostThought.Handle(context.Background(), command.PostThought{
			AuthorID: uuid.MustParse(u.ID), Draft: domain.ThoughtDraft{Content: content}})
		if err != nil {
			t.Fatal(err)
		}
		return th.ID.String()
	}
	var quietPosts, all []string
	for i := range 900 {
		if i%300 == 0 {
			id := post(quiet, fmt.Sprintf("quiet %d", i))
			quietPosts = append([]string{id}, quietPosts...)
			all = append([]string{id}, all...)
		}
		all = append([]string{post(busy, fmt.Sprintf("busy %d", i))}, all...)
	}
	mine := post(sparse, "sparse's own")
	wantSparse := append([]string{mine}, quietPosts...)

	walk := func(u apitest.User, limit int) []string {
		var ids []string
		path := fmt.Sprintf("/api/v1/feed?limit=%d", limit)
		for i := 0; path != "" && i < 200; i++ {
			page, _, resp := readFeed(t, rig, u.Token, path[len("/api/v1/feed"):])
			for _, e := range page {
				ids = append(ids, e.thought)
			}
			path = links(t, resp)["next"]
		}
		return ids
	}
	for _, limit := range []int{1, 2, 20} {
		if got := walk(sparse, limit); !slices.Equal(got, wantSparse) {
			t.Errorf("sparse viewer, limit %d: %d items %v, want %v", limit, len(got), got, wantSparse)
		}
	}
	if got := walk(dense, 100); !slices.Equal(got, all) {
		t.Errorf("dense viewer walked %d items, want %d", len(got), len(all))
	}
	// A deep max_id works for both.
	deep := all[850]
	got, _, _ := readFeed(t, rig, sparse.Token, "?limit=5&max_id="+deep)
	if fmt.Sprint(got) != fmt.Sprint([]feedEntry{{quietPosts[2], ""}}) {
		t.Errorf("sparse deep page = %v", got)
	}
	got, _, _ = readFeed(t, rig, dense.Token, "?limit=3&max_id="+deep)
	if fmt.Sprint(got) != fmt.Sprint([]feedEntry{{all[851], ""}, {all[852], ""}, {all[853], ""}}) {
		t.Errorf("dense deep page = %v", got)
	}
}
