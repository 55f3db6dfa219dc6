package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// outboxMark remembers how many events the outbox held, so a test can assert
// exactly which events an action appended.
type outboxMark struct {
	rig *apitest.Rig
	n   int
}

func markOutbox(t *testing.T, rig *apitest.Rig) *outboxMark {
	t.Helper()
	return &outboxMark{rig: rig, n: len(rig.Events(t))}
}

// since returns the events appended since the mark (or the last call) and
// moves the mark past them.
func (m *outboxMark) since(t *testing.T) []events.Envelope {
	t.Helper()
	all := m.rig.Events(t)
	out := all[m.n:]
	m.n = len(all)
	return out
}

// expectEvents asserts the events appended since the mark are exactly want
// (compared by value), each with actor.
func (m *outboxMark) expect(t *testing.T, actor string, want ...events.Event) {
	t.Helper()
	got := m.since(t)
	if len(got) != len(want) {
		t.Fatalf("appended %d events %v, want %d %v", len(got), eventTypes(got), len(want), want)
	}
	for i, env := range got {
		if env.Event != want[i] {
			t.Errorf("event %d = %#v, want %#v", i, env.Event, want[i])
		}
		if env.ActorID.String() != actor {
			t.Errorf("event %d actor = %s, want %s", i, env.ActorID, actor)
		}
	}
}

func eventTypes(envs []events.Envelope) []string {
	var out []string
	for _, e := range envs {
		out = append(out, e.Event.EventType())
	}
	return out
}

func parseID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatalf("parse id %q: %v", s, err)
	}
	return id
}

func usernames(t *testing.T, resp apitest.Response) []string {
	t.Helper()
	var list []map[string]any
	resp.JSON(t, &list)
	out := []string{}
	for _, u := range list {
		out = append(out, u["username"].(string))
	}
	return out
}

func TestLikes(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, carol := rig.Register("alice"), rig.Register("bob"), rig.Register("carol")
	th := rig.Think(alice, map[string]any{"content": "like me"})
	id := th["id"].(string)
	if th["likes_count"] != float64(0) || th["liked"] != false || th["boosts_count"] != float64(0) || th["boosted"] != false {
		t.Fatalf("new thought = %v", th)
	}
	likePath := "/api/v1/thoughts/" + id + "/like"
	m := markOutbox(t, rig)

	got := apitest.Expect(t, rig.Post(likePath, bob.Token, nil), http.StatusOK).Map(t)
	if got["id"] != id || got["likes_count"] != float64(1) || got["liked"] != true {
		t.Fatalf("after like = %v", got)
	}
	ev := m.since(t)
	if len(ev) != 1 {
		t.Fatalf("like appended %v", eventTypes(ev))
	}
	added, ok := ev[0].Event.(events.LikeAdded)
	if !ok || added.UserID != parseID(t, bob.ID) || added.ThoughtID != parseID(t, id) || added.LikeID.Version() != 7 {
		t.Fatalf("event = %#v", ev[0].Event)
	}

	// Liking again: same state, no event.
	again := apitest.Expect(t, rig.Post(likePath, bob.Token, nil), http.StatusOK).Map(t)
	if again["likes_count"] != float64(1) || again["liked"] != true {
		t.Errorf("after second like = %v", again)
	}
	m.expect(t, bob.ID)

	apitest.Expect(t, rig.Post(likePath, carol.Token, nil), http.StatusOK)
	m.since(t)
	// Counts are the same for everyone; the flag is the viewer's.
	for token, liked := range map[string]bool{alice.Token: false, bob.Token: true, carol.Token: true, "": false} {
		v := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+id, token), 200).Map(t)
		if v["likes_count"] != float64(2) || v["liked"] != liked {
			t.Errorf("viewed with token %.8s: %v", token, v)
		}
	}
	// Who liked it, newest first.
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/thoughts/"+id+"/liked_by", ""), 200)); fmt.Sprint(got) != "[carol bob]" {
		t.Errorf("liked_by = %v", got)
	}

	un := apitest.Expect(t, rig.Delete(likePath, bob.Token), http.StatusOK).Map(t)
	if un["likes_count"] != float64(1) || un["liked"] != false {
		t.Errorf("after unlike = %v", un)
	}
	m.expect(t, bob.ID, events.LikeRemoved{UserID: parseID(t, bob.ID), ThoughtID: parseID(t, id)})
	// Unliking what is not liked is a no-op.
	apitest.Expect(t, rig.Delete(likePath, bob.Token), http.StatusOK)
	m.expect(t, bob.ID)
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/thoughts/"+id+"/liked_by", ""), 200)); fmt.Sprint(got) != "[carol]" {
		t.Errorf("liked_by = %v", got)
	}

	// What you cannot see, you cannot like: 404, as for reading it.
	hidden := rig.Think(alice, map[string]any{"content": "followers only", "visibility": "followers"})["id"].(string)
	expectProblem(t, rig.Post("/api/v1/thoughts/"+hidden+"/like", bob.Token, nil), 404)
	expectProblem(t, rig.Get("/api/v1/thoughts/"+hidden+"/liked_by", bob.Token), 404)
	expectProblem(t, rig.Post("/api/v1/thoughts/"+uuid.NewString()+"/like", bob.Token, nil), 404)
	expectProblem(t, rig.Post("/api/v1/thoughts/nope/like", bob.Token, nil), 404)
	expectProblem(t, rig.Post("/api/v1/thoughts/"+uuid.Nil.String()+"/like", bob.Token, nil), 404)
	expectProblem(t, rig.Post(likePath, "", nil), 401)
	// A tombstone is gone.
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+id, alice.Token), 204)
	expectProblem(t, rig.Post(likePath, carol.Token, nil), 410)
	expectProblem(t, rig.Get("/api/v1/thoughts/"+id+"/liked_by", ""), 410)
	m.since(t) // the deletion's own event
	m.expect(t, carol.ID)
}

func TestBoosts(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob := rig.Register("alice"), rig.Register("bob")
	id := rig.Think(alice, map[string]any{"content": "boost me", "visibility": "unlisted"})["id"].(string)
	boostPath := "/api/v1/thoughts/" + id + "/boost"
	m := markOutbox(t, rig)

	got := apitest.Expect(t, rig.Post(boostPath, bob.Token, nil), 200).Map(t)
	if got["boosts_count"] != float64(1) || got["boosted"] != true || got["liked"] != false {
		t.Fatalf("after boost = %v", got)
	}
	ev := m.since(t)
	if len(ev) != 1 {
		t.Fatalf("boost appended %v", eventTypes(ev))
	}
	if b, ok := ev[0].Event.(events.BoostAdded); !ok || b.UserID != parseID(t, bob.ID) || b.ThoughtID != parseID(t, id) || b.BoostID == uuid.Nil {
		t.Fatalf("event = %#v", ev[0].Event)
	}
	apitest.Expect(t, rig.Post(boostPath, bob.Token, nil), 200)
	m.expect(t, bob.ID)
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/thoughts/"+id+"/boosted_by", ""), 200)); fmt.Sprint(got) != "[bob]" {
		t.Errorf("boosted_by = %v", got)
	}
	un := apitest.Expect(t, rig.Delete(boostPath, bob.Token), 200).Map(t)
	if un["boosts_count"] != float64(0) || un["boosted"] != false {
		t.Errorf("after unboost = %v", un)
	}
	m.expect(t, bob.ID, events.BoostRemoved{UserID: parseID(t, bob.ID), ThoughtID: parseID(t, id)})
	apitest.Expect(t, rig.Delete(boostPath, bob.Token), 200)
	m.expect(t, bob.ID)

	// Followers-only thoughts cannot be boosted, even by a follower who sees
	// them, or by their author.
	fo := rig.Think(alice, map[string]any{"content": "just for you", "visibility": "followers"})["id"].(string)
	apitest.Expect(t, rig.Post("/api/v1/users/alice/follow", bob.Token, nil), 200)
	m.since(t)
	expectProblem(t, rig.Post("/api/v1/thoughts/"+fo+"/boost", bob.Token, nil), 422)
	expectProblem(t, rig.Post("/api/v1/thoughts/"+fo+"/boost", alice.Token, nil), 422)
	// ... but liked by them.
	apitest.Expect(t, rig.Post("/api/v1/thoughts/"+fo+"/like", bob.Token, nil), 200)
	m.since(t)
	// A stranger cannot boost what they cannot see.
	carol := rig.Register("carol")
	expectProblem(t, rig.Post("/api/v1/thoughts/"+fo+"/boost", carol.Token, nil), 404)
	m.expect(t, carol.ID)
}

func TestFollowUnlockedAccount(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob := rig.Register("alice"), rig.Register("bob")
	m := markOutbox(t, rig)

	rel := apitest.Expect(t, rig.Post("/api/v1/users/alice/follow", bob.Token, nil), 200).Map(t)
	want := map[string]any{"id": alice.ID, "following": true, "requested": false, "followed_by": false,
		"requested_by": false, "blocking": false, "blocked_by": false}
	if fmt.Sprint(rel) != fmt.Sprint(want) {
		t.Errorf("relationship = %v, want %v", rel, want)
	}
	m.expect(t, bob.ID, events.FollowAccepted{FollowerID: parseID(t, bob.ID), FollowingID: parseID(t, alice.ID)})
	// Again: nothing changes, nothing is emitted. Usernames are case-insensitive.
	apitest.Expect(t, rig.Post("/api/v1/users/ALICE/follow", bob.Token, nil), 200)
	m.expect(t, bob.ID)

	p := apitest.Expect(t, rig.Get("/api/v1/users/alice", ""), 200).Map(t)
	if p["followers_count"] != float64(1) || p["following_count"] != float64(0) {
		t.Errorf("alice's profile = %v", p)
	}
	if _, ok := p["relationship"]; ok {
		t.Errorf("anonymous profile has a relationship: %v", p)
	}
	p = apitest.Expect(t, rig.Get("/api/v1/users/bob", alice.Token), 200).Map(t)
	if p["following_count"] != float64(1) || p["relationship"].(map[string]any)["followed_by"] != true {
		t.Errorf("bob's profile seen by alice = %v", p)
	}
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/users/alice/followers", ""), 200)); fmt.Sprint(got) != "[bob]" {
		t.Errorf("followers = %v", got)
	}
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/users/bob/following", ""), 200)); fmt.Sprint(got) != "[alice]" {
		t.Errorf("following = %v", got)
	}

	rel = apitest.Expect(t, rig.Delete("/api/v1/users/alice/follow", bob.Token), 200).Map(t)
	if rel["following"] != false {
		t.Errorf("after unfollow = %v", rel)
	}
	m.expect(t, bob.ID, events.Unfollowed{FollowerID: parseID(t, bob.ID), FollowingID: parseID(t, alice.ID)})
	apitest.Expect(t, rig.Delete("/api/v1/users/alice/follow", bob.Token), 200)
	m.expect(t, bob.ID)

	p = expectProblem(t, rig.Post("/api/v1/users/bob/follow", bob.Token, nil), 422)
	if !strings.Contains(p["detail"].(string), "yourself") {
		t.Errorf("self-follow problem = %v", p)
	}
	expectProblem(t, rig.Post("/api/v1/users/nobody/follow", bob.Token, nil), 404)
	expectProblem(t, rig.Post("/api/v1/users/Not%20A%20Name/follow", bob.Token, nil), 404)
	expectProblem(t, rig.Post("/api/v1/users/alice/follow", "", nil), 401)
	expectProblem(t, rig.Get("/api/v1/users/nobody/followers", ""), 404)
	m.expect(t, bob.ID)
}

func TestFollowLockedAccount(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, carol, dave := rig.Register("alice"), rig.Register("bob"), rig.Register("carol"), rig.Register("dave")
	apitest.Expect(t, rig.Patch("/api/v1/me", alice.Token, map[string]any{"locked": true}), 200)
	secret := rig.Think(alice, map[string]any{"content": "for followers", "visibility": "followers"})["id"].(string)
	m := markOutbox(t, rig)

	rel := apitest.Expect(t, rig.Post("/api/v1/users/alice/follow", bob.Token, nil), 200).Map(t)
	if rel["following"] != false || rel["requested"] != true {
		t.Fatalf("after request = %v", rel)
	}
	m.expect(t, bob.ID, events.FollowRequested{FollowerID: parseID(t, bob.ID), FollowingID: parseID(t, alice.ID)})
	apitest.Expect(t, rig.Post("/api/v1/users/alice/follow", bob.Token, nil), 200)
	m.expect(t, bob.ID)
	apitest.Expect(t, rig.Post("/api/v1/users/alice/follow", carol.Token, nil), 200)
	apitest.Expect(t, rig.Post("/api/v1/users/alice/follow", dave.Token, nil), 200)
	m.since(t)

	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/follow_requests", alice.Token), 200)); fmt.Sprint(got) != "[dave carol bob]" {
		t.Errorf("follow requests = %v", got)
	}
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/follow_requests", bob.Token), 200)); len(got) != 0 {
		t.Errorf("bob's follow requests = %v", got)
	}
	// A request is not a follow: the followers-only thought stays hidden.
	expectProblem(t, rig.Get("/api/v1/thoughts/"+secret, bob.Token), 404)
	if p := apitest.Expect(t, rig.Get("/api/v1/users/alice", ""), 200).Map(t); p["followers_count"] != float64(0) {
		t.Errorf("pending requests counted as followers: %v", p)
	}
	if p := apitest.Expect(t, rig.Get("/api/v1/users/bob", alice.Token), 200).Map(t); p["relationship"].(map[string]any)["requested_by"] != true {
		t.Errorf("alice's view of bob = %v", p)
	}

	rel = apitest.Expect(t, rig.Post("/api/v1/follow_requests/bob/accept", alice.Token, nil), 200).Map(t)
	if rel["followed_by"] != true || rel["requested_by"] != false || rel["id"] != bob.ID {
		t.Errorf("after accept = %v", rel)
	}
	m.expect(t, alice.ID, events.FollowAccepted{FollowerID: parseID(t, bob.ID), FollowingID: parseID(t, alice.ID)})
	apitest.Expect(t, rig.Get("/api/v1/thoughts/"+secret, bob.Token), 200)
	apitest.Expect(t, rig.Post("/api/v1/follow_requests/bob/accept", alice.Token, nil), 200)
	m.expect(t, alice.ID)

	rel = apitest.Expect(t, rig.Post("/api/v1/follow_requests/carol/reject", alice.Token, nil), 200).Map(t)
	if rel["followed_by"] != false || rel["requested_by"] != false {
		t.Errorf("after reject = %v", rel)
	}
	m.expect(t, alice.ID, events.FollowRejected{FollowerID: parseID(t, carol.ID), FollowingID: parseID(t, alice.ID)})
	apitest.Expect(t, rig.Post("/api/v1/follow_requests/carol/reject", alice.Token, nil), 200)
	m.expect(t, alice.ID)
	if c := apitest.Expect(t, rig.Get("/api/v1/users/alice", carol.Token), 200).Map(t)["relationship"].(map[string]any); c["requested"] != false {
		t.Errorf("carol's rejected request remains: %v", c)
	}
	// Nothing to accept.
	expectProblem(t, rig.Post("/api/v1/follow_requests/carol/accept", alice.Token, nil), 404)
	expectProblem(t, rig.Post("/api/v1/follow_requests/nobody/accept", alice.Token, nil), 404)

	// Withdrawing a pending request deletes it and appends Unfollowed.
	apitest.Expect(t, rig.Delete("/api/v1/users/alice/follow", dave.Token), 200)
	m.expect(t, dave.ID, events.Unfollowed{FollowerID: parseID(t, dave.ID), FollowingID: parseID(t, alice.ID)})
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/follow_requests", alice.Token), 200)); len(got) != 0 {
		t.Errorf("follow requests left = %v", got)
	}
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/users/alice/followers", ""), 200)); fmt.Sprint(got) != "[bob]" {
		t.Errorf("followers = %v", got)
	}
}

func TestBlocks(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, carol := rig.Register("alice"), rig.Register("bob"), rig.Register("carol")
	for _, pair := range [][2]apitest.User{{alice, bob}, {bob, alice}, {carol, alice}} {
		apitest.Expect(t, rig.Post("/api/v1/users/"+pair[1].Username+"/follow", pair[0].Token, nil), 200)
	}
	apitest.Expect(t, rig.Do(apitest.Request{Method: "PUT", Path: "/api/v1/me/top_friends", Token: alice.Token,
		Body: map[string]any{"usernames": []string{"bob", "carol"}}}), 200)
	apitest.Expect(t, rig.Do(apitest.Request{Method: "PUT", Path: "/api/v1/me/top_friends", Token: bob.Token,
		Body: map[string]any{"usernames": []string{"alice"}}}), 200)
	aliceThought := rig.Think(alice, map[string]any{"content": "by alice #shared"})["id"].(string)
	bobThought := rig.Think(bob, map[string]any{"content": "by bob #shared"})["id"].(string)
	m := markOutbox(t, rig)

	rel := apitest.Expect(t, rig.Post("/api/v1/users/bob/block", alice.Token, nil), 200).Map(t)
	if rel["blocking"] != true || rel["following"] != false || rel["followed_by"] != false {
		t.Errorf("after block = %v", rel)
	}
	a, b := parseID(t, alice.ID), parseID(t, bob.ID)
	m.expect(t, alice.ID,
		events.UserBlocked{BlockerID: a, BlockedID: b},
		events.Unfollowed{FollowerID: a, FollowingID: b},
		events.Unfollowed{FollowerID: b, FollowingID: a})
	apitest.Expect(t, rig.Post("/api/v1/users/bob/block", alice.Token, nil), 200)
	m.expect(t, alice.ID)

	// Follows are gone both ways, and each left the other's top friends.
	for _, name := range []string{"alice", "bob"} {
		p := apitest.Expect(t, rig.Get("/api/v1/users/"+name, ""), 200).Map(t)
		if name == "alice" && (p["following_count"] != float64(0) || p["followers_count"] != float64(1)) ||
			name == "bob" && (p["following_count"] != float64(0) || p["followers_count"] != float64(0)) {
			t.Errorf("%s after block = %v", name, p)
		}
	}
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/me/top_friends", alice.Token), 200)); fmt.Sprint(got) != "[carol]" {
		t.Errorf("alice's top friends = %v", got)
	}
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/me/top_friends", bob.Token), 200)); len(got) != 0 {
		t.Errorf("bob's top friends = %v", got)
	}
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/blocks", alice.Token), 200)); fmt.Sprint(got) != "[bob]" {
		t.Errorf("blocks = %v", got)
	}
	seen := apitest.Expect(t, rig.Get("/api/v1/users/alice", bob.Token), 200).Map(t)["relationship"].(map[string]any)
	if seen["blocked_by"] != true || seen["blocking"] != false {
		t.Errorf("bob's relationship with alice = %v", seen)
	}

	// The blocked user cannot follow, like, boost or reply to the blocker, and
	// does not see their thoughts.
	expectProblem(t, rig.Post("/api/v1/users/alice/follow", bob.Token, nil), 404)
	expectProblem(t, rig.Post("/api/v1/thoughts/"+aliceThought+"/like", bob.Token, nil), 404)
	expectProblem(t, rig.Post("/api/v1/thoughts/"+aliceThought+"/boost", bob.Token, nil), 404)
	expectProblem(t, rig.Get("/api/v1/thoughts/"+aliceThought, bob.Token), 404)
	if p := expectProblem(t, rig.Post("/api/v1/thoughts", bob.Token, map[string]any{"content": "hey", "in_reply_to_id": aliceThought}), 422); p["field"] != "in_reply_to_id" {
		t.Errorf("reply to blocker = %v", p)
	}
	m.expect(t, bob.ID)
	// The blocker must unblock before following.
	expectProblem(t, rig.Post("/api/v1/users/bob/follow", alice.Token, nil), 422)
	// The blocker still reaches the blocked user's thought by its link, but not
	// in tag listings or search.
	apitest.Expect(t, rig.Get("/api/v1/thoughts/"+bobThought, alice.Token), 200)
	for _, path := range []string{"/api/v1/tags/shared", "/api/v1/search?q=shared"} {
		if ids := thoughtIDs(t, apitest.Expect(t, rig.Get(path, alice.Token), 200)); fmt.Sprint(ids) != fmt.Sprint([]string{aliceThought}) {
			t.Errorf("%s for alice = %v", path, ids)
		}
		if ids := thoughtIDs(t, apitest.Expect(t, rig.Get(path, carol.Token), 200)); fmt.Sprint(ids) != fmt.Sprint([]string{bobThought, aliceThought}) {
			t.Errorf("%s for carol = %v", path, ids)
		}
	}
	// Nor do they find each other in user search.
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/search?type=users&q=b", alice.Token), 200)); len(got) != 0 {
		t.Errorf("alice finds %v", got)
	}
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/search?type=users&q=a", bob.Token), 200)); len(got) != 0 {
		t.Errorf("bob finds %v", got)
	}

	rel = apitest.Expect(t, rig.Delete("/api/v1/users/bob/block", alice.Token), 200).Map(t)
	if rel["blocking"] != false {
		t.Errorf("after unblock = %v", rel)
	}
	m.expect(t, alice.ID, events.UserUnblocked{BlockerID: a, BlockedID: b})
	apitest.Expect(t, rig.Delete("/api/v1/users/bob/block", alice.Token), 200)
	m.expect(t, alice.ID)
	apitest.Expect(t, rig.Get("/api/v1/thoughts/"+aliceThought, bob.Token), 200)
	// Unblocking does not restore the follows.
	if p := apitest.Expect(t, rig.Get("/api/v1/users/bob", ""), 200).Map(t); p["followers_count"] != float64(0) {
		t.Errorf("follows restored: %v", p)
	}

	expectProblem(t, rig.Post("/api/v1/users/alice/block", alice.Token, nil), 422)
	expectProblem(t, rig.Post("/api/v1/users/nobody/block", alice.Token, nil), 404)
	expectProblem(t, rig.Get("/api/v1/blocks", ""), 401)
}

func TestBlockRemovesPendingRequests(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob := rig.Register("alice"), rig.Register("bob")
	for _, u := range []apitest.User{alice, bob} {
		apitest.Expect(t, rig.Patch("/api/v1/me", u.Token, map[string]any{"locked": true}), 200)
	}
	apitest.Expect(t, rig.Post("/api/v1/users/alice/follow", bob.Token, nil), 200)
	apitest.Expect(t, rig.Post("/api/v1/users/bob/follow", alice.Token, nil), 200)
	m := markOutbox(t, rig)
	apitest.Expect(t, rig.Post("/api/v1/users/alice/block", bob.Token, nil), 200)
	a, b := parseID(t, alice.ID), parseID(t, bob.ID)
	m.expect(t, bob.ID,
		events.UserBlocked{BlockerID: b, BlockedID: a},
		events.Unfollowed{FollowerID: b, FollowingID: a},
		events.Unfollowed{FollowerID: a, FollowingID: b})
	for _, u := range []apitest.User{alice, bob} {
		if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/follow_requests", u.Token), 200)); len(got) != 0 {
			t.Errorf("%s still has requests from %v", u.Username, got)
		}
	}
}

func TestTopFriends(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	me := rig.Register("mia")
	var names []string
	for i := range 9 {
		names = append(names, rig.Register(fmt.Sprintf("friend%d", i)).Username)
	}
	put := func(body any) apitest.Response {
		return rig.Do(apitest.Request{Method: "PUT", Path: "/api/v1/me/top_friends", Token: me.Token, Body: body})
	}
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/me/top_friends", me.Token), 200)); len(got) != 0 {
		t.Errorf("initial top friends = %v", got)
	}
	order := []string{"friend3", "Friend1", "friend7"}
	got := usernames(t, apitest.Expect(t, put(map[string]any{"usernames": order}), 200))
	if fmt.Sprint(got) != "[friend3 friend1 friend7]" {
		t.Errorf("PUT answered %v", got)
	}
	p := apitest.Expect(t, rig.Get("/api/v1/users/mia", ""), 200).Map(t)
	var shown []string
	for _, f := range p["top_friends"].([]any) {
		shown = append(shown, f.(map[string]any)["username"].(string))
	}
	if fmt.Sprint(shown) != "[friend3 friend1 friend7]" {
		t.Errorf("profile shows %v", shown)
	}

	rig.Register("blocker")
	apitest.Expect(t, rig.Post("/api/v1/users/mia/block", rig.Register("hater").Token, nil), 200)
	apitest.Expect(t, rig.Post("/api/v1/users/blocker/block", me.Token, nil), 200)
	cases := []struct {
		name string
		body any
	}{
		{"nine", map[string]any{"usernames": names}},
		{"duplicate", map[string]any{"usernames": []string{"friend1", "FRIEND1"}}},
		{"myself", map[string]any{"usernames": []string{"friend1", "mia"}}},
		{"unknown", map[string]any{"usernames": []string{"nobody"}}},
		{"malformed", map[string]any{"usernames": []string{"not a name"}}},
		{"blocked by me", map[string]any{"usernames": []string{"blocker"}}},
		{"blocking me", map[string]any{"usernames": []string{"hater"}}},
		{"missing", map[string]any{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if p := expectProblem(t, put(c.body), 422); p["field"] != "usernames" {
				t.Errorf("problem = %v", p)
			}
		})
	}
	expectProblem(t, put(map[string]any{"usernames": "friend1"}), 400)
	// Refused lists changed nothing.
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/me/top_friends", me.Token), 200)); fmt.Sprint(got) != "[friend3 friend1 friend7]" {
		t.Errorf("after refusals = %v", got)
	}
	// Eight is fine; an empty list clears.
	apitest.Expect(t, put(map[string]any{"usernames": names[:8]}), 200)
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/me/top_friends", me.Token), 200)); !slices.Equal(got, names[:8]) {
		t.Errorf("eight = %v", got)
	}
	apitest.Expect(t, put(map[string]any{"usernames": []string{}}), 200)
	if got := usernames(t, apitest.Expect(t, rig.Get("/api/v1/me/top_friends", me.Token), 200)); len(got) != 0 {
		t.Errorf("cleared = %v", got)
	}
	expectProblem(t, rig.Get("/api/v1/me/top_friends", ""), 401)
}

func TestListsPaginate(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	star := rig.Register("star")
	id := rig.Think(star, map[string]any{"content": "popular"})["id"].(string)
	var fans []string
	for i := range 5 {
		fan := rig.Register(fmt.Sprintf("fan%d", i))
		apitest.Expect(t, rig.Post("/api/v1/users/star/follow", fan.Token, nil), 200)
		apitest.Expect(t, rig.Post("/api/v1/thoughts/"+id+"/like", fan.Token, nil), 200)
		fans = append([]string{fan.Username}, fans...) // newest first
	}
	for _, base := range []string{"/api/v1/users/star/followers", "/api/v1/thoughts/" + id + "/liked_by"} {
		var walked []string
		path := base + "?limit=2"
		for i := 0; path != "" && i < 10; i++ {
			resp := apitest.Expect(t, rig.Get(path, ""), 200)
			walked = append(walked, usernames(t, resp)...)
			path = links(t, resp)["next"]
		}
		if !slices.Equal(walked, fans) {
			t.Errorf("%s walked %v, want %v", base, walked, fans)
		}
		expectProblem(t, rig.Get(base+"?limit=0", ""), 400)
	}
}

// Concurrent repeats of one action store it once and emit one event.
func TestConcurrentRepeatsEmitOnce(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob := rig.Register("alice"), rig.Register("bob")
	id := rig.Think(alice, map[string]any{"content": "popular"})["id"].(string)
	m := markOutbox(t, rig)
	var wg sync.WaitGroup
	for range 8 {
		for _, path := range []string{"/api/v1/thoughts/" + id + "/like", "/api/v1/thoughts/" + id + "/boost", "/api/v1/users/alice/follow"} {
			wg.Go(func() {
				if resp := rig.Post(path, bob.Token, nil); resp.Status != 200 {
					t.Errorf("POST %s: %d %s", path, resp.Status, resp.Body)
				}
			})
		}
	}
	wg.Wait()
	counts := map[string]int{}
	for _, env := range m.since(t) {
		counts[env.Event.EventType()]++
	}
	if fmt.Sprint(counts) != "map[BoostAdded:1 FollowAccepted:1 LikeAdded:1]" {
		t.Errorf("events = %v", counts)
	}
	th := apitest.Expect(t, rig.Get("/api/v1/thoughts/"+id, ""), 200).Map(t)
	if th["likes_count"] != float64(1) || th["boosts_count"] != float64(1) {
		t.Errorf("counts = %v", th)
	}
}
