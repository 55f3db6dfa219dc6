package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// Issue 9, item 1: tag search lists only tags the viewer could reach through
// the tag page.
func TestTagSearchAppliesVisibility(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, fan, blocked, picky := rig.Register("alice"), rig.Register("fan"), rig.Register("blocked"), rig.Register("picky")
	apitest.Expect(t, rig.Post("/api/v1/users/alice/follow", fan.Token, nil), 200)
	apitest.Expect(t, rig.Post("/api/v1/users/blocked/block", alice.Token, nil), 200)
	apitest.Expect(t, rig.Post("/api/v1/users/alice/block", picky.Token, nil), 200)
	rig.Think(alice, map[string]any{"content": "#medical29033", "visibility": "followers"})
	rig.Think(alice, map[string]any{"content": "#medicalquiet", "visibility": "unlisted"})
	rig.Think(alice, map[string]any{"content": "#medicalpublic"})
	gone := rig.Think(alice, map[string]any{"content": "#medicalgone"})["id"].(string)
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+gone, alice.Token), 204)

	tags := func(token string) string {
		t.Helper()
		var list []map[string]any
		apitest.Expect(t, rig.Get("/api/v1/search?type=tags&q=medical", token), 200).JSON(t, &list)
		out := []string{}
		for _, tg := range list {
			out = append(out, tg["name"].(string))
		}
		return fmt.Sprint(out)
	}
	for _, c := range []struct {
		who, token, want string
	}{
		{"anonymous", "", "[medicalpublic]"},
		{"follower", fan.Token, "[medical29033 medicalpublic]"},
		{"author", alice.Token, "[medical29033 medicalpublic medicalquiet]"},
		{"blocked by the author", blocked.Token, "[]"},
		{"blocking the author", picky.Token, "[]"},
	} {
		if got := tags(c.token); got != c.want {
			t.Errorf("%s: tags = %s, want %s", c.who, got, c.want)
		}
	}
}

// Issue 9, item 2: replies_count and thoughts_count count only what the
// viewer may see.
func TestCountsOnlyWhatTheViewerSees(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, carol, fan, dave := rig.Register("alice"), rig.Register("bob"), rig.Register("carol"), rig.Register("fan"), rig.Register("dave")
	apitest.Expect(t, rig.Post("/api/v1/users/bob/follow", fan.Token, nil), 200)
	root := rig.Think(alice, map[string]any{"content": "a public question"})["id"].(string)
	rig.Think(bob, map[string]any{"content": "for my followers", "visibility": "followers", "in_reply_to_id": root})
	rig.Think(carol, map[string]any{"content": "an unlisted answer", "visibility": "unlisted", "in_reply_to_id": root})
	apitest.Expect(t, rig.Post("/api/v1/users/dave/block", carol.Token, nil), 200)
	deleted := rig.Think(carol, map[string]any{"content": "a deleted answer", "in_reply_to_id": root})["id"].(string)
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+deleted, carol.Token), 204)

	for _, c := range []struct {
		who, token string
		want       float64
	}{
		{"anonymous", "", 1}, // carol's unlisted answer
		{"the root's author", alice.Token, 1},
		{"the replier", bob.Token, 2},
		{"the replier's follower", fan.Token, 2},
		{"blocked by carol", dave.Token, 0},
	} {
		th := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+root, c.token), 200).Map(t)
		ctx := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+root+"/context", c.token), 200).Map(t)
		live := 0.0
		for _, d := range ctx["descendants"].([]any) {
			if d.(map[string]any)["deleted_at"] == nil {
				live++
			}
		}
		if th["replies_count"] != c.want || live != c.want {
			t.Errorf("%s: replies_count = %v, live descendants %v, want %v", c.who, th["replies_count"], live, c.want)
		}
		// Lists show the same count as the thought itself.
		list := apitest.Expect(t, rig.Get("/api/v1/users/alice/thoughts", c.token), 200)
		var ts []map[string]any
		list.JSON(t, &ts)
		if len(ts) != 1 || ts[0]["replies_count"] != c.want {
			t.Errorf("%s: listed replies_count = %v, want %v", c.who, ts, c.want)
		}
	}

	rig.Think(bob, map[string]any{"content": "public"})
	rig.Think(bob, map[string]any{"content": "unlisted", "visibility": "unlisted"})
	for _, c := range []struct {
		who, token string
		want       float64
	}{
		{"anonymous", "", 2},
		{"bob", bob.Token, 3},
		{"a follower", fan.Token, 3},
		{"not a follower", alice.Token, 2},
	} {
		p := apitest.Expect(t, rig.Get("/api/v1/users/bob", c.token), http.StatusOK).Map(t)
		var listed []any
		apitest.Expect(t, rig.Get("/api/v1/users/bob/thoughts", c.token), http.StatusOK).JSON(t, &listed)
		if p["thoughts_count"] != c.want || float64(len(listed)) != c.want {
			t.Errorf("%s: thoughts_count = %v, listed %d, want %v", c.who, p["thoughts_count"], len(listed), c.want)
		}
	}
	apitest.Expect(t, rig.Post("/api/v1/users/dave/block", bob.Token, nil), 200)
	if p := apitest.Expect(t, rig.Get("/api/v1/users/bob", dave.Token), http.StatusOK).Map(t); p["thoughts_count"] != 0.0 {
		t.Errorf("blocked viewer: thoughts_count = %v, want 0", p["thoughts_count"])
	}
}
