package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

func thoughtIDs(t *testing.T, resp apitest.Response) []string {
	t.Helper()
	var list []map[string]any
	resp.JSON(t, &list)
	out := []string{}
	for _, th := range list {
		out = append(out, th["id"].(string))
	}
	return out
}

func TestTags(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, fan := rig.Register("alice"), rig.Register("bob"), rig.Register("fan")
	apitest.Expect(t, rig.Post("/api/v1/users/alice/follow", fan.Token, nil), 200)
	pub := rig.Think(alice, map[string]any{"content": "Learning #Go and #café"})["id"].(string)
	unl := rig.Think(alice, map[string]any{"content": "quiet #go", "visibility": "unlisted"})["id"].(string)
	fo := rig.Think(alice, map[string]any{"content": "friends #go", "visibility": "followers"})["id"].(string)
	other := rig.Think(bob, map[string]any{"content": "#GO #go_lang not#go"})["id"].(string)
	gone := rig.Think(bob, map[string]any{"content": "soon gone #go"})["id"].(string)
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+gone, bob.Token), 204)

	cases := []struct {
		path, token string
		want        []string
	}{
		// Unlisted thoughts stay out of listings, except for their author;
		// followers-only ones show to those who may see them.
		{"/api/v1/tags/go", "", []string{other, pub}},
		{"/api/v1/tags/GO", bob.Token, []string{other, pub}},
		{"/api/v1/tags/%23go", fan.Token, []string{other, fo, pub}},
		{"/api/v1/tags/go", alice.Token, []string{other, fo, unl, pub}},
		{"/api/v1/tags/caf%C3%A9", "", []string{pub}},
		{"/api/v1/tags/go_lang", "", []string{other}},
		{"/api/v1/tags/rust", "", []string{}},
	}
	for _, c := range cases {
		if got := thoughtIDs(t, apitest.Expect(t, rig.Get(c.path, c.token), 200)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.path, got, c.want)
		}
	}
	// Pagination is by keyset, newest first.
	resp := apitest.Expect(t, rig.Get("/api/v1/tags/go?limit=1", alice.Token), 200)
	var walked []string
	for path, i := "/api/v1/tags/go?limit=1", 0; path != "" && i < 10; i++ {
		resp = apitest.Expect(t, rig.Get(path, alice.Token), 200)
		walked = append(walked, thoughtIDs(t, resp)...)
		path = links(t, resp)["next"]
	}
	if !slices.Equal(walked, []string{other, fo, unl, pub}) {
		t.Errorf("walked %v", walked)
	}
	expectProblem(t, rig.Get("/api/v1/tags/not-a-tag", ""), 404)
	expectProblem(t, rig.Get("/api/v1/tags/123", ""), 404)

	// Editing re-tags.
	apitest.Expect(t, rig.Patch("/api/v1/thoughts/"+pub, alice.Token, map[string]any{"content": "now about #rust"}), 200)
	if got := thoughtIDs(t, apitest.Expect(t, rig.Get("/api/v1/tags/rust", ""), 200)); !slices.Equal(got, []string{pub}) {
		t.Errorf("rust after edit = %v", got)
	}
	if got := thoughtIDs(t, apitest.Expect(t, rig.Get("/api/v1/tags/go", ""), 200)); !slices.Equal(got, []string{other}) {
		t.Errorf("go after edit = %v", got)
	}
}

func TestMentionsAreStored(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob := rig.Register("alice"), rig.Register("bob")
	rig.Register("carol")
	id := rig.Think(alice, map[string]any{"content": "hi @Bob and @carol, not @nobody or bob@example.com or @dave@remote.example"})["id"].(string)
	mentioned := func() []string {
		rows, err := rig.DB.Pool.Query(t.Context(), `SELECT u.username FROM thought_mentions m JOIN users u ON u.id = m.user_id
			WHERE m.thought_id = $1 ORDER BY u.username`, id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	if got := mentioned(); fmt.Sprint(got) != "[bob carol]" {
		t.Errorf("mentions = %v", got)
	}
	apitest.Expect(t, rig.Patch("/api/v1/thoughts/"+id, alice.Token, map[string]any{"content": "only @alice and @bob now"}), 200)
	if got := mentioned(); fmt.Sprint(got) != "[alice bob]" {
		t.Errorf("mentions after edit = %v", got)
	}
	_ = bob
}

func TestSearchThoughts(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, fan := rig.Register("alice"), rig.Register("bob"), rig.Register("fan")
	apitest.Expect(t, rig.Post("/api/v1/users/alice/follow", fan.Token, nil), 200)
	weak := rig.Think(alice, map[string]any{"content": "a long thought that mentions gophers once among many other words here"})["id"].(string)
	strong := rig.Think(bob, map[string]any{"content": "Gophers! gophers gophers"})["id"].(string)
	cw := rig.Think(bob, map[string]any{"content": "spoiler inside", "content_warning": "about gophers"})["id"].(string)
	fo := rig.Think(alice, map[string]any{"content": "gophers for followers", "visibility": "followers"})["id"].(string)
	unl := rig.Think(alice, map[string]any{"content": "unlisted gophers", "visibility": "unlisted"})["id"].(string)
	gone := rig.Think(alice, map[string]any{"content": "deleted gophers"})["id"].(string)
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+gone, alice.Token), 204)
	rig.Think(alice, map[string]any{"content": "nothing to see"})

	search := func(token, q string) []string {
		t.Helper()
		return thoughtIDs(t, apitest.Expect(t, rig.Get("/api/v1/search?type=thoughts&q="+q, token), 200))
	}
	// Ranked by relevance, case-insensitive; the content warning counts.
	got := search("", "GOPHERS")
	if len(got) != 3 || got[0] != strong || !slices.Contains(got, weak) || !slices.Contains(got, cw) {
		t.Errorf("anonymous search = %v (strong %s, weak %s, cw %s)", got, strong, weak, cw)
	}
	if got := search(fan.Token, "gophers"); len(got) != 4 || !slices.Contains(got, fo) || slices.Contains(got, unl) {
		t.Errorf("follower's search = %v", got)
	}
	if got := search(alice.Token, "gophers"); len(got) != 5 || !slices.Contains(got, unl) {
		t.Errorf("author's search = %v", got)
	}
	// Web search syntax: phrases and exclusions; type defaults to thoughts.
	if got := thoughtIDs(t, apitest.Expect(t, rig.Get("/api/v1/search?q=gophers+-spoiler+-long", ""), 200)); !slices.Equal(got, []string{strong}) {
		t.Errorf("exclusions = %v", got)
	}
	if got := search("", `"mentions+gophers"`); !slices.Equal(got, []string{weak}) {
		t.Errorf("phrase = %v", got)
	}
	if got := search("", "zebra"); len(got) != 0 {
		t.Errorf("no match = %v", got)
	}
	// Offset pagination with a next link while pages are full.
	first := apitest.Expect(t, rig.Get("/api/v1/search?q=gophers&limit=2", ""), 200)
	next := links(t, first)["next"]
	if next == "" || !strings.Contains(next, "offset=2") {
		t.Fatalf("next link = %q", next)
	}
	rest := apitest.Expect(t, rig.Get(next, ""), 200)
	if all := append(thoughtIDs(t, first), thoughtIDs(t, rest)...); fmt.Sprint(all) != fmt.Sprint(search("", "gophers")) {
		t.Errorf("paged %v", all)
	}
	if links(t, rest)["next"] != "" {
		t.Errorf("last page has a next link")
	}
}

func TestSearchUsersAndTags(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	me := rig.Register("mia")
	rig.Register("gopher")
	rig.Register("go_fan")
	rig.Register("gofer")
	named := rig.Register("zed")
	apitest.Expect(t, rig.Patch("/api/v1/me", named.Token, map[string]any{"display_name": "Gordon Z"}), 200)
	rig.Register("goxgo") // "_" in a query is not a wildcard
	rig.Think(me, map[string]any{"content": "#golang #gopher #go #rust"})

	users := func(q string) []string {
		return usernames(t, apitest.Expect(t, rig.Get("/api/v1/search?type=users&q="+q, me.Token), 200))
	}
	if got := users("GO"); fmt.Sprint(got) != "[go_fan gofer gopher goxgo zed]" {
		t.Errorf("users go = %v", got)
	}
	if got := users("go_"); fmt.Sprint(got) != "[go_fan]" {
		t.Errorf("users go_ = %v", got)
	}
	if got := users("%40gopher"); fmt.Sprint(got) != "[gopher]" {
		t.Errorf("users @gopher = %v", got)
	}
	if got := users("gor"); fmt.Sprint(got) != "[zed]" {
		t.Errorf("display name prefix = %v", got)
	}
	// An exact username comes first.
	rig.Register("go")
	if got := users("go"); got[0] != "go" {
		t.Errorf("exact first: %v", got)
	}

	tags := func(q string) []string {
		var list []map[string]any
		apitest.Expect(t, rig.Get("/api/v1/search?type=tags&q="+q, ""), 200).JSON(t, &list)
		out := []string{}
		for _, tg := range list {
			out = append(out, tg["name"].(string))
			if !strings.HasSuffix(tg["url"].(string), "/api/v1/tags/"+tg["name"].(string)) {
				t.Errorf("tag url = %v", tg["url"])
			}
		}
		return out
	}
	if got := tags("Go"); fmt.Sprint(got) != "[go golang gopher]" {
		t.Errorf("tags go = %v", got)
	}
	if got := tags("%23gol"); fmt.Sprint(got) != "[golang]" {
		t.Errorf("tags #gol = %v", got)
	}

	for _, q := range []string{"", "?q=", "?q=x&type=posts", "?q=x&limit=0", "?q=x&offset=-1", "?q=x&offset=abc"} {
		p := expectProblem(t, rig.Get("/api/v1/search"+q, ""), 400)
		want := "q"
		switch {
		case strings.Contains(q, "type"):
			want = "type"
		case strings.Contains(q, "limit"):
			want = "limit"
		case strings.Contains(q, "offset"):
			want = "offset"
		}
		if p["field"] != want {
			t.Errorf("%q: problem %v, want field %s", q, p, want)
		}
	}
	expectProblem(t, rig.Get("/api/v1/search?type=users&q=%40", ""), 422)
	expectProblem(t, rig.Get("/api/v1/search?q="+strings.Repeat("x", 201), ""), 422)
}
