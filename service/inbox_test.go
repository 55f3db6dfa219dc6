package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

const publicAddr = "https://www.w3.org/ns/activitystreams#Public"

// TestInboxRefusesWhatItCannotTrust: unsigned, forged, stale, tampered,
// mis-attributed, oversized and mistyped deliveries are refused with a
// problem body, before anything is stored.
func TestInboxRefusesWhatItCannotTrust(t *testing.T) {
	t.Parallel()
	r := newInboxRig(t)
	alice := r.register("alice")
	bob := r.rs.actor("bob", 0)
	carol := r.rs.actor("carol", 1)
	follow := func() map[string]any {
		return map[string]any{"id": r.id("follows"), "type": "Follow", "actor": r.rs.iri("bob"), "object": r.base + "/users/alice"}
	}
	good, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": r.id("x"), "type": "Follow",
		"actor": r.rs.iri("bob"), "object": r.base + "/users/alice"})
	for _, tc := range []struct {
		name   string
		d      delivery
		status int
	}{
		{"unsigned", delivery{signer: bob, unsign: true}, http.StatusUnauthorized},
		{"signed with another key than the one named", delivery{signer: &remoteActor{name: "bob", key: rigKey(t, 2), keyID: bob.keyID}}, http.StatusUnauthorized},
		{"a Date two hours old", delivery{signer: bob, date: time.Now().Add(-2 * time.Hour)}, http.StatusUnauthorized},
		{"a body other than the one signed", delivery{signer: bob, body: []byte(strings.Replace(string(good), "Follow", "Block", 1)), rawBody: good}, http.StatusUnauthorized},
		{"signed by carol as bob", delivery{signer: carol}, http.StatusUnauthorized},
		{"not ActivityStreams", delivery{signer: bob, ctype: "text/plain"}, http.StatusUnsupportedMediaType},
		{"no Content-Type", delivery{signer: bob, ctype: "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"more than 1 MiB", delivery{signer: bob, rawBody: []byte(`{"x":"` + strings.Repeat("a", 1<<20) + `"}`)}, http.StatusRequestEntityTooLarge},
		{"not JSON", delivery{signer: bob, rawBody: []byte(`{"type":`)}, http.StatusBadRequest},
		{"an unknown user's inbox", delivery{signer: bob, to: "/users/nobody/inbox"}, http.StatusNotFound},
	} {
		code, body := r.deliver(tc.d, follow())
		if code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.status)
			continue
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(body), &p); err != nil || p["status"] != float64(code) || p["detail"] == "" {
			t.Errorf("%s: not a problem body: %s", tc.name, body)
		}
	}
	// An unverifiable Delete of an actor (one deleted before we ever
	// fetched it) is answered 202, so its sender stops, and dropped.
	gone := &remoteActor{name: "gone", key: rigKey(t, 2), keyID: r.rs.iri("gone") + "#main-key"}
	if code, body := r.deliver(delivery{signer: gone}, map[string]any{"id": r.id("deletes"), "type": "Delete",
		"actor": r.rs.iri("gone"), "object": r.rs.iri("gone")}); code != http.StatusAccepted {
		t.Errorf("Delete of an unknown actor: %d %s", code, body)
	}
	if n := r.count(`SELECT count(*) FROM inbox_activities`); n != 0 {
		t.Errorf("%d activities stored from refused deliveries", n)
	}
	// The same, done right, to the user's inbox: accepted.
	if code, body := r.deliver(delivery{signer: bob, to: "/users/alice/inbox"}, follow()); code != http.StatusAccepted {
		t.Errorf("a valid delivery: %d %s", code, body)
	}
	_ = alice
}

// TestInboxKeyRotation: a sender that changed its key is fetched again
// once, and its delivery accepted.
func TestInboxKeyRotation(t *testing.T) {
	t.Parallel()
	r := newInboxRig(t)
	r.register("alice")
	bob := r.rs.actor("bob", 0)
	if out := r.apply(bob, map[string]any{"type": "Follow", "object": r.base + "/users/alice"}); out != "applied" {
		t.Fatalf("follow: %s", out)
	}
	fetchesBefore := r.rs.fetched("/users/bob")
	bob.key = rigKey(t, 1) // rotated; the actor document now publishes the new key
	undo := map[string]any{"id": r.id("undo"), "type": "Undo", "actor": r.rs.iri("bob"), "object": map[string]any{
		"type": "Follow", "actor": r.rs.iri("bob"), "object": r.base + "/users/alice"}}
	if code, body := r.deliver(delivery{signer: bob}, undo); code != http.StatusAccepted {
		t.Fatalf("after rotation: %d %s", code, body)
	}
	if got := r.rs.fetched("/users/bob"); got != fetchesBefore+1 {
		t.Errorf("the actor was fetched %d times for the rotated key, want once", got-fetchesBefore)
	}
	// A signature by the old key now fails, and does not make us fetch
	// again at once (a forger cannot make us hammer the sender).
	old := &remoteActor{name: "bob", key: rigKey(t, 0), keyID: bob.keyID}
	if code, _ := r.deliver(delivery{signer: old}, map[string]any{"id": r.id("x"), "type": "Follow", "actor": r.rs.iri("bob"), "object": r.base + "/users/alice"}); code != http.StatusUnauthorized {
		t.Errorf("old key: %d", code)
	}
	if got := r.rs.fetched("/users/bob"); got != fetchesBefore+1 {
		t.Errorf("a forged signature made us fetch the actor again (%d)", got-fetchesBefore)
	}
	if out := r.outcome(undo["id"].(string)); out != "applied" {
		t.Errorf("undo: %s", out)
	}
}

// TestInboxFollows: a remote follow of an unlocked account is in force at
// once, of a locked one a request; both notify; the same Follow delivered
// again changes and emits nothing; only the follower may undo it; an Accept
// of our Follow (by its id) puts it in force, and only the followed may.
func TestInboxFollows(t *testing.T) {
	t.Parallel()
	r := newInboxRig(t)
	ctx := context.Background()
	alice := r.register("alice")
	dave := r.register("dave")
	if code, m := r.api(http.MethodPatch, "/api/v1/me", dave.token, map[string]any{"locked": true}); code != http.StatusOK {
		t.Fatalf("lock: %d %v", code, m)
	}
	bob := r.rs.actor("bob", 0)
	carol := r.rs.actor("carol", 1)
	host := strings.TrimPrefix(r.rs.URL, "http://")

	follow := map[string]any{"id": r.id("follows"), "type": "Follow", "actor": r.rs.iri("bob"), "object": r.base + "/users/alice"}
	if out := r.apply(bob, follow); out != "applied" {
		t.Fatalf("follow: %s", out)
	}
	r.waitNotified(alice, "follow:bob@"+host)
	if n := r.count(`SELECT count(*) FROM follows WHERE activity_iri = $1 AND state = 'accepted'`, follow["id"]); n != 1 {
		t.Errorf("follow stored %d times", n)
	}
	accepted := r.events(events.TopicFollowAccepted)
	// Delivered again (a sender's retry): 202, nothing new.
	r.send(bob, follow)
	if got := r.events(events.TopicFollowAccepted); got != accepted {
		t.Errorf("a redelivered Follow emitted %d more events", got-accepted)
	}
	// The handler called again for the same event (the router's at least
	// once): nothing new either.
	var inboxID uuid.UUID
	if err := r.s.Pool.QueryRow(ctx, `SELECT id FROM inbox_activities WHERE activity_iri = $1`, follow["id"]).Scan(&inboxID); err != nil {
		t.Fatal(err)
	}
	if err := r.handler().Handle(ctx, events.New(ctx, uuid.Nil, events.ActivityReceived{ID: inboxID}, time.Now())); err != nil {
		t.Fatal(err)
	}
	if got := r.events(events.TopicFollowAccepted); got != accepted {
		t.Errorf("a redelivered event emitted %d more events", got-accepted)
	}

	// Records of activities processed long ago are pruned as new ones are
	// processed; recent ones are kept (they recognise a retried delivery).
	for i, age := range []time.Duration{31 * 24 * time.Hour, 29 * 24 * time.Hour} {
		at := time.Now().Add(-age)
		if _, err := r.s.Pool.Exec(ctx, `INSERT INTO inbox_activities (id, activity_iri, activity_type, actor_id, key_id, received_at, processed_at, outcome)
			VALUES ($1, $2, 'Like', $3, $4, $5, $5, 'applied')`, uuid.New(), r.rs.URL+"/old/"+string(rune('a'+i)), r.remoteUser(bob), bob.keyID, at); err != nil {
			t.Fatal(err)
		}
	}

	// Locked: a request.
	if out := r.apply(bob, map[string]any{"type": "Follow", "object": r.base + "/users/dave"}); out != "applied" {
		t.Fatalf("follow dave: %s", out)
	}
	if n := r.count(`SELECT count(*) FROM inbox_activities WHERE activity_iri LIKE '%/old/%'`); n != 1 ||
		r.count(`SELECT count(*) FROM inbox_activities WHERE activity_iri = $1`, r.rs.URL+"/old/b") != 1 {
		t.Errorf("after pruning, %d old records (want the 29-day-old one only)", n)
	}
	r.waitNotified(dave, "follow_request:bob@"+host)
	code, m := r.api(http.MethodGet, "/api/v1/follow_requests", dave.token, nil)
	if code != http.StatusOK || len(items(m)) != 1 {
		t.Errorf("dave's requests: %d %v", code, m)
	}

	// carol may not undo bob's follow; bob may.
	undo := map[string]any{"type": "Undo", "object": follow["id"]}
	if out := r.apply(carol, undo); !strings.HasPrefix(out, "rejected") {
		t.Errorf("carol undoing bob's follow: %s", out)
	}
	if n := r.count(`SELECT count(*) FROM follows WHERE activity_iri = $1`, follow["id"]); n != 1 {
		t.Errorf("carol's undo removed bob's follow")
	}
	unfollowed := r.events(events.TopicUnfollowed)
	if out := r.apply(bob, map[string]any{"type": "Undo", "object": follow}); out != "applied" {
		t.Errorf("bob's undo: %s", out)
	}
	if n := r.count(`SELECT count(*) FROM follows WHERE following_id = $1`, uuidOf(t, alice.id)); n != 0 {
		t.Errorf("the follow survived its undo")
	}
	if got := r.events(events.TopicUnfollowed); got != unfollowed+1 {
		t.Errorf("undo emitted %d Unfollowed", got-unfollowed)
	}

	// Our follows of bob and carol, waiting for their answers.
	bobID := r.remoteUser(bob)
	ourFollow := r.base + "/users/alice/follows/" + uuid.NewString()
	r.follow(uuidOf(t, alice.id), bobID, domain.FollowPending, ourFollow)
	if out := r.apply(carol, map[string]any{"type": "Accept", "object": ourFollow}); !strings.HasPrefix(out, "rejected") {
		t.Errorf("carol accepting alice's follow of bob: %s", out)
	}
	if out := r.apply(bob, map[string]any{"type": "Accept", "object": map[string]any{
		"id": ourFollow, "type": "Follow", "actor": r.base + "/users/alice", "object": r.rs.iri("bob")}}); out != "applied" {
		t.Errorf("accept: %s", out)
	}
	if n := r.count(`SELECT count(*) FROM follows WHERE follower_id = $1 AND following_id = $2 AND state = 'accepted'`, uuidOf(t, alice.id), bobID); n != 1 {
		t.Errorf("the Accept did not put alice's follow in force")
	}
	carolID := r.remoteUser(carol)
	r.follow(uuidOf(t, dave.id), carolID, domain.FollowPending, "")
	// Matched by the embedded Follow (its id unknown to us).
	if out := r.apply(carol, map[string]any{"type": "Reject", "object": map[string]any{
		"id": r.base + "/unknown", "type": "Follow", "actor": r.base + "/users/dave", "object": r.rs.iri("carol")}}); out != "applied" {
		t.Errorf("reject: %s", out)
	}
	if n := r.count(`SELECT count(*) FROM follows WHERE follower_id = $1`, uuidOf(t, dave.id)); n != 0 {
		t.Errorf("the Reject left dave's request")
	}
}

// TestInboxRevivesAnUnavailableHost: a host delivery gave up on (failures on
// seven days) becomes available again when it sends a valid signed request;
// an unsigned one changes nothing.
func TestInboxRevivesAnUnavailableHost(t *testing.T) {
	t.Parallel()
	r := newInboxRig(t)
	r.register("alice")
	bob := r.rs.actor("bob", 0)
	host := strings.TrimPrefix(r.rs.URL, "http://")
	if _, err := r.s.Pool.Exec(context.Background(), `INSERT INTO federation_hosts
		(host, state, consecutive_failures, failure_days, unavailable_since, open_until)
		VALUES ($1, 'unavailable', 40, 7, now(), now() + interval '1 hour')`, host); err != nil {
		t.Fatal(err)
	}
	state := func() string {
		return fmt.Sprint(r.count(`SELECT CASE WHEN state = 'available' AND consecutive_failures = 0 AND open_until IS NULL
			THEN 1 ELSE 0 END FROM federation_hosts WHERE host = $1`, host))
	}
	follow := map[string]any{"id": r.id("follows"), "type": "Follow", "actor": r.rs.iri("bob"), "object": r.base + "/users/alice"}
	if code, body := r.deliver(delivery{signer: bob, unsign: true}, follow); code != http.StatusUnauthorized {
		t.Fatalf("unsigned: %d %s", code, body)
	}
	if state() != "0" {
		t.Fatal("an unsigned request revived the host")
	}
	if code, body := r.deliver(delivery{signer: bob}, follow); code != http.StatusAccepted {
		t.Fatalf("signed: %d %s", code, body)
	}
	if state() != "1" {
		t.Error("a valid signed request did not make the host available again")
	}
}
