package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// Issue 9, item 7: deleting an account (password required, never with an
// API key) tombstones its thoughts, keeping threads' shape; removes its
// follows, likes, boosts, blocks, top friends and notifications; revokes its
// keys and sessions; keeps the username reserved; and commits UserDeleted
// with it.
func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, carol := rig.Register("alice"), rig.Register("bob"), rig.Register("carol")
	other := rig.Login("alice")
	_, key := newKey(t, rig, alice.Token)

	root := rig.Think(alice, map[string]any{"content": "hello #farewell"})
	reply := rig.Think(bob, map[string]any{"content": "hi alice", "in_reply_to_id": root["id"]})
	answer := rig.Think(alice, map[string]any{"content": "hi bob", "in_reply_to_id": reply["id"]})
	bobs := rig.Think(bob, map[string]any{"content": "bob's own"})
	ok := func(resp apitest.Response) { t.Helper(); apitest.Expect(t, resp, http.StatusOK) }
	ok(rig.Post("/api/v1/thoughts/"+bobs["id"].(string)+"/like", alice.Token, nil))
	ok(rig.Post("/api/v1/thoughts/"+bobs["id"].(string)+"/boost", alice.Token, nil))
	ok(rig.Post("/api/v1/thoughts/"+root["id"].(string)+"/like", bob.Token, nil))
	ok(rig.Post("/api/v1/users/bob/follow", alice.Token, nil))
	ok(rig.Post("/api/v1/users/alice/follow", bob.Token, nil))
	ok(rig.Post("/api/v1/users/carol/block", alice.Token, nil))
	ok(rig.Do(apitest.Request{Method: "PUT", Path: "/api/v1/me/top_friends", Token: bob.Token, Body: map[string]any{"usernames": []string{"alice"}}}))
	emit(t, rig, uid(bob), like(bob, tid(root)))
	emit(t, rig, uid(alice), like(alice, tid(bobs)))

	del := func(token string, body any) apitest.Response {
		return rig.Do(apitest.Request{Method: "DELETE", Path: "/api/v1/me", Token: token, Body: body})
	}
	expectProblem(t, del(alice.Token, map[string]any{"password": "wrong horse"}), http.StatusForbidden)
	expectProblem(t, del(alice.Token, map[string]any{}), http.StatusUnprocessableEntity)
	expectProblem(t, del(key, map[string]any{"password": "correct horse"}), http.StatusForbidden)
	ok(rig.Get("/api/v1/me", alice.Token))

	apitest.Expect(t, del(other, map[string]any{"password": "correct horse"}), http.StatusNoContent)

	// Every credential is dead at once.
	for _, tok := range []string{alice.Token, other, key} {
		expectProblem(t, rig.Get("/api/v1/me", tok), http.StatusUnauthorized)
	}
	expectProblem(t, rig.Post("/api/v1/auth/login", "", map[string]string{"login": "alice", "password": "correct horse"}), http.StatusUnauthorized)
	expectProblem(t, rig.Get("/api/v1/users/alice", ""), http.StatusNotFound)
	// The username stays reserved.
	expectProblem(t, rig.Post("/api/v1/auth/register", "", map[string]string{"username": "alice", "email": "a@example.com", "password": "correct horse"}), http.StatusConflict)

	// Tombstones keep the thread's shape: bob's reply still answers the
	// (deleted) root, and the context of bob's reply still holds it.
	for _, th := range []map[string]any{root, answer} {
		expectProblem(t, rig.Get("/api/v1/thoughts/"+th["id"].(string), bob.Token), http.StatusGone)
	}
	got := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+reply["id"].(string), bob.Token), http.StatusOK).Map(t)
	if got["in_reply_to_id"] != root["id"] || got["replies_count"] != float64(0) {
		t.Errorf("bob's reply after the deletion = %v", got)
	}
	ctx := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+reply["id"].(string)+"/context", bob.Token), http.StatusOK).Map(t)
	if anc, _ := ctx["ancestors"].([]any); len(anc) != 1 || anc[0].(map[string]any)["id"] != root["id"] {
		t.Errorf("context ancestors = %v", ctx["ancestors"])
	}
	var tags []any
	apitest.Expect(t, rig.Get("/api/v1/search?type=tags&q=farewell", ""), http.StatusOK).JSON(t, &tags)
	if len(tags) != 0 {
		t.Errorf("a deleted account's tag is still found: %v", tags)
	}

	// Its interactions and relations are gone; others' counts follow.
	b := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+bobs["id"].(string), bob.Token), http.StatusOK).Map(t)
	if b["likes_count"] != float64(0) || b["boosts_count"] != float64(0) {
		t.Errorf("bob's thought = %v", b)
	}
	bp := apitest.Expect(t, rig.Get("/api/v1/users/bob", bob.Token), http.StatusOK).Map(t)
	if bp["followers_count"] != float64(0) || bp["following_count"] != float64(0) || len(bp["top_friends"].([]any)) != 0 {
		t.Errorf("bob's profile = %v", bp)
	}
	var n int
	err := rig.DB.Pool.QueryRow(t.Context(), `SELECT
		(SELECT count(*) FROM likes WHERE user_id = $1) + (SELECT count(*) FROM boosts WHERE user_id = $1)
		+ (SELECT count(*) FROM follows WHERE follower_id = $1 OR following_id = $1)
		+ (SELECT count(*) FROM blocks WHERE blocker_id = $1 OR blocked_id = $1)
		+ (SELECT count(*) FROM notifications WHERE recipient_id = $1 OR actor_id = $1)
		+ (SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL)
		+ (SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL)
		+ (SELECT count(*) FROM thoughts WHERE author_id = $1 AND deleted_at IS NULL)
		+ (SELECT count(*) FROM users WHERE id = $1 AND (email <> '' OR password_hash <> '' OR deleted_at IS NULL))`, alice.ID).Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("%d rows of the deleted account remain (%v)", n, err)
	}
	ok(rig.Get("/api/v1/users/carol", carol.Token))

	var deleted []events.UserDeleted
	for _, env := range rig.Events(t) {
		if ev, is := env.Event.(events.UserDeleted); is {
			deleted = append(deleted, ev)
			if env.ActorID.String() != alice.ID {
				t.Errorf("UserDeleted actor = %s", env.ActorID)
			}
		}
	}
	if len(deleted) != 1 || deleted[0].UserID.String() != alice.ID || deleted[0].Username != "alice" {
		t.Errorf("UserDeleted events = %+v", deleted)
	}
}
