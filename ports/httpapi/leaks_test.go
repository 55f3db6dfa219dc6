package httpapi_test

import (
	"fmt"
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
