package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// The notification rules are exercised by calling the router's use case
// (Rig.Notify) with envelopes, against the real database the API uses;
// what a recipient gets is read back through the API and, where a hidden row
// would otherwise go unnoticed, straight from the table.

func uid(u apitest.User) uuid.UUID { return uuid.MustParse(u.ID) }

func tid(th map[string]any) uuid.UUID { return uuid.MustParse(th["id"].(string)) }

// deliver hands env to the notification handler, as the router does.
func deliver(t *testing.T, rig *apitest.Rig, env events.Envelope) {
	t.Helper()
	if err := rig.Notify.Handle(t.Context(), env); err != nil {
		t.Fatalf("notify %s: %v", env.Event.EventType(), err)
	}
}

// event wraps ev in a fresh envelope as the command emitting it would.
func event(actor uuid.UUID, ev events.Event) events.Envelope {
	return events.Envelope{
		ID: uuid.Must(uuid.NewV7()), OccurredAt: time.Now().UTC().Truncate(time.Microsecond),
		ActorID: actor, CorrelationID: "corr-" + uuid.NewString()[:8], Event: ev,
	}
}

func emit(t *testing.T, rig *apitest.Rig, actor uuid.UUID, ev events.Event) events.Envelope {
	t.Helper()
	env := event(actor, ev)
	deliver(t, rig, env)
	return env
}

func like(liker apitest.User, th uuid.UUID) events.Event {
	return events.LikeAdded{LikeID: uuid.Must(uuid.NewV7()), UserID: uid(liker), ThoughtID: th}
}

func boost(booster apitest.User, th uuid.UUID) events.Event {
	return events.BoostAdded{BoostID: uuid.Must(uuid.NewV7()), UserID: uid(booster), ThoughtID: th}
}

// created is the ThoughtCreated event of a thought posted through the API.
func created(th map[string]any) events.Event {
	ev := events.ThoughtCreated{ThoughtID: tid(th), UserID: uuid.MustParse(th["author"].(map[string]any)["id"].(string))}
	if p, ok := th["in_reply_to_id"].(string); ok {
		parent := uuid.MustParse(p)
		ev.InReplyToID = &parent
	}
	return ev
}

func exec(t *testing.T, rig *apitest.Rig, sql string, args ...any) {
	t.Helper()
	if _, err := rig.DB.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// followAccepted stores an accepted follow (the social-graph API is another issue's).
func followAccepted(t *testing.T, rig *apitest.Rig, follower, following apitest.User) {
	t.Helper()
	exec(t, rig, `INSERT INTO follows (follower_id, following_id, id, state, created_at, accepted_at)
		VALUES ($1, $2, $3, 'accepted', now(), now())`, uid(follower), uid(following), uuid.Must(uuid.NewV7()))
}

func block(t *testing.T, rig *apitest.Rig, blocker, blocked apitest.User) {
	t.Helper()
	exec(t, rig, `INSERT INTO blocks (blocker_id, blocked_id, id, created_at) VALUES ($1, $2, $3, now())`,
		uid(blocker), uid(blocked), uuid.Must(uuid.NewV7()))
}

// stored returns the types of the rows stored for recipient, oldest first,
// whether or not the API would show them.
func stored(t *testing.T, rig *apitest.Rig, recipient apitest.User) []string {
	t.Helper()
	rows, err := rig.DB.Pool.Query(t.Context(), `SELECT type FROM notifications WHERE recipient_id = $1 ORDER BY id`, uid(recipient))
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
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func countRows(t *testing.T, rig *apitest.Rig, where string, args ...any) int {
	t.Helper()
	var n int
	if err := rig.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM notifications WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// listed returns what the API shows u at path (default: all notifications).
func listed(t *testing.T, rig *apitest.Rig, u apitest.User, query string) []map[string]any {
	t.Helper()
	var list []map[string]any
	apitest.Expect(t, rig.Get("/api/v1/notifications"+query, u.Token), http.StatusOK).JSON(t, &list)
	return list
}

func types(list []map[string]any) []string {
	out := []string{}
	for _, n := range list {
		out = append(out, n["type"].(string))
	}
	return out
}

func unreadCount(t *testing.T, rig *apitest.Rig, u apitest.User) float64 {
	t.Helper()
	return apitest.Expect(t, rig.Get("/api/v1/notifications/unread_count", u.Token), http.StatusOK).Map(t)["count"].(float64)
}

func TestNotifyLikesAndBoosts(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob := rig.Register("alice"), rig.Register("bob")
	apitest.Expect(t, rig.Patch("/api/v1/me", bob.Token, map[string]any{"display_name": "Bob B."}), http.StatusOK)
	long := strings.Repeat("é", 60) + "  \n  " + strings.Repeat("x", 60)
	th := rig.Think(alice, map[string]any{"content": long, "content_warning": "spoilers"})

	likeEnv := emit(t, rig, uid(bob), like(bob, tid(th)))
	emit(t, rig, uid(bob), boost(bob, tid(th)))
	list := listed(t, rig, alice, "")
	if got := types(list); !slices.Equal(got, []string{"boost", "like"}) {
		t.Fatalf("alice's notifications = %v, want [boost like]", got)
	}
	n := list[1]
	account := n["account"].(map[string]any)
	if account["id"] != bob.ID || account["username"] != "bob" || account["display_name"] != "Bob B." {
		t.Errorf("account = %v", account)
	}
	thought := n["thought"].(map[string]any)
	wantExcerpt := strings.Repeat("é", 60) + " " + strings.Repeat("x", 39) + "…"
	if thought["id"] != th["id"] || thought["excerpt"] != wantExcerpt || thought["content_warning"] != "spoilers" {
		t.Errorf("thought = %v, want excerpt %q", thought, wantExcerpt)
	}
	if n["read"] != false {
		t.Errorf("read = %v", n["read"])
	}
	if at, err := time.Parse(time.RFC3339Nano, n["created_at"].(string)); err != nil || !at.Equal(likeEnv.OccurredAt) {
		t.Errorf("created_at = %v, want the event's time %v", n["created_at"], likeEnv.OccurredAt)
	}
	if id, err := uuid.Parse(n["id"].(string)); err != nil || id.Version() != 7 {
		t.Errorf("id %v is not a UUIDv7", n["id"])
	}
	// The correlation ID of the request that caused the event reaches the row.
	var corr string
	if err := rig.DB.Pool.QueryRow(t.Context(), `SELECT correlation_id FROM notifications WHERE event_id = $1`, likeEnv.ID).Scan(&corr); err != nil || corr != likeEnv.CorrelationID {
		t.Errorf("correlation_id = %q (%v), want %q", corr, err, likeEnv.CorrelationID)
	}
	// The recipient is the thought's author, not whoever the event's actor says.
	if got := stored(t, rig, bob); len(got) != 0 {
		t.Errorf("bob got %v", got)
	}

	// No self-notifications.
	emit(t, rig, uid(alice), like(alice, tid(th)))
	emit(t, rig, uid(alice), boost(alice, tid(th)))
	// Nothing about a deleted thought.
	gone := rig.Think(alice, map[string]any{"content": "soon gone"})
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+gone["id"].(string), alice.Token), http.StatusNoContent)
	emit(t, rig, uid(bob), like(bob, tid(gone)))
	emit(t, rig, uid(bob), boost(bob, tid(gone)))
	// Events naming what does not exist are dropped, not retried forever.
	emit(t, rig, uid(bob), like(bob, uuid.Must(uuid.NewV7())))
	ghost := apitest.User{ID: uuid.NewString()}
	emit(t, rig, uid(ghost), like(ghost, tid(th)))
	if got := stored(t, rig, alice); !slices.Equal(got, []string{"like", "boost"}) {
		t.Errorf("alice's rows = %v, want only the first like and boost", got)
	}
}

func TestNotifyFollows(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	carol, dave := rig.Register("carol"), rig.Register("dave")

	// An unlocked account follows instantly: no request to notify about.
	emit(t, rig, uid(dave), events.FollowRequested{FollowerID: uid(dave), FollowingID: uid(carol)})
	if got := stored(t, rig, carol); len(got) != 0 {
		t.Fatalf("unlocked carol got %v", got)
	}
	apitest.Expect(t, rig.Patch("/api/v1/me", carol.Token, map[string]any{"locked": true}), http.StatusOK)
	emit(t, rig, uid(dave), events.FollowRequested{FollowerID: uid(dave), FollowingID: uid(carol)})
	emit(t, rig, uid(carol), events.FollowAccepted{FollowerID: uid(dave), FollowingID: uid(carol)})
	list := listed(t, rig, carol, "")
	if got := types(list); !slices.Equal(got, []string{"follow", "follow_request"}) {
		t.Fatalf("carol's notifications = %v", got)
	}
	for _, n := range list {
		if n["account"].(map[string]any)["username"] != "dave" || n["thought"] != nil {
			t.Errorf("%s notification = %v, want account dave and no thought", n["type"], n)
		}
	}
	// The follower is told nothing; nobody is told about their own follow.
	emit(t, rig, uid(carol), events.FollowAccepted{FollowerID: uid(carol), FollowingID: uid(carol)})
	emit(t, rig, uid(carol), events.FollowRequested{FollowerID: uid(carol), FollowingID: uid(carol)})
	if got := stored(t, rig, dave); len(got) != 0 {
		t.Errorf("dave got %v", got)
	}
	if got := stored(t, rig, carol); len(got) != 2 {
		t.Errorf("carol's rows = %v", got)
	}
	// A request to an account that no longer exists is dropped.
	emit(t, rig, uid(dave), events.FollowRequested{FollowerID: uid(dave), FollowingID: uuid.New()})
}

func TestNotifyReplies(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob := rig.Register("alice"), rig.Register("bob")
	parent := rig.Think(alice, map[string]any{"content": "what do you think?"})

	reply := rig.Think(bob, map[string]any{"content": "I think so", "in_reply_to_id": parent["id"]})
	emit(t, rig, uid(bob), created(reply))
	list := listed(t, rig, alice, "")
	if len(list) != 1 || list[0]["type"] != "reply" || list[0]["account"].(map[string]any)["username"] != "bob" {
		t.Fatalf("alice's notifications = %v", list)
	}
	// The thought is the reply, not the parent.
	if th := list[0]["thought"].(map[string]any); th["id"] != reply["id"] || th["excerpt"] != "I think so" {
		t.Errorf("thought = %v", th)
	}

	// Replying to yourself notifies nobody; a top-level thought is no reply.
	emit(t, rig, uid(alice), created(rig.Think(alice, map[string]any{"content": "me again", "in_reply_to_id": parent["id"]})))
	emit(t, rig, uid(bob), created(rig.Think(bob, map[string]any{"content": "unrelated"})))

	// A followers-only reply is not shown to a parent author who cannot read it...
	hidden := rig.Think(bob, map[string]any{"content": "followers only", "visibility": "followers", "in_reply_to_id": parent["id"]})
	emit(t, rig, uid(bob), created(hidden))
	if got := stored(t, rig, alice); !slices.Equal(got, []string{"reply"}) {
		t.Fatalf("alice's rows = %v, want the first reply only", got)
	}
	// ...and is once the parent author follows the replier.
	followAccepted(t, rig, alice, bob)
	visible := rig.Think(bob, map[string]any{"content": "for my followers", "visibility": "followers", "in_reply_to_id": parent["id"]})
	emit(t, rig, uid(bob), created(visible))
	// A reply deleted before its event is handled notifies nobody.
	deleted := rig.Think(bob, map[string]any{"content": "oops", "in_reply_to_id": parent["id"]})
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+deleted["id"].(string), bob.Token), http.StatusNoContent)
	emit(t, rig, uid(bob), created(deleted))
	list = listed(t, rig, alice, "")
	if len(list) != 2 || list[0]["thought"].(map[string]any)["id"] != visible["id"] {
		t.Errorf("alice's notifications = %v, want the followers-only reply on top", list)
	}
	if got := stored(t, rig, bob); len(got) != 0 {
		t.Errorf("bob got %v", got)
	}
}

func TestNotifyMentions(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, carol, dave := rig.Register("alice"), rig.Register("bob"), rig.Register("carol"), rig.Register("dave")

	th := rig.Think(alice, map[string]any{
		"content": "hi @BOB and @carol @carol, also @alice and @nobody; mail dave@example.com or @dave@remote.example",
	})
	emit(t, rig, uid(alice), created(th))
	for _, u := range []apitest.User{bob, carol} {
		list := listed(t, rig, u, "")
		if len(list) != 1 || list[0]["type"] != "mention" || list[0]["account"].(map[string]any)["username"] != "alice" ||
			list[0]["thought"].(map[string]any)["id"] != th["id"] {
			t.Errorf("%s's notifications = %v, want one mention by alice", u.Username, list)
		}
	}
	// Not the author; not dave, whose name appears only in an email and a remote handle.
	for _, u := range []apitest.User{alice, dave} {
		if got := stored(t, rig, u); len(got) != 0 {
			t.Errorf("%s got %v", u.Username, got)
		}
	}

	// A reply that also mentions the parent's author gives them one reply, not
	// also a mention; other mentioned users get a mention.
	parent := rig.Think(bob, map[string]any{"content": "parent"})
	reply := rig.Think(alice, map[string]any{"content": "@bob @dave see", "in_reply_to_id": parent["id"]})
	env := emit(t, rig, uid(alice), created(reply))
	if n := countRows(t, rig, "event_id = $1 AND recipient_id = $2", env.ID, uid(bob)); n != 1 {
		t.Errorf("bob has %d notifications for the reply, want 1", n)
	}
	if got := types(listed(t, rig, bob, "?limit=1")); !slices.Equal(got, []string{"reply"}) {
		t.Errorf("bob's newest = %v, want [reply]", got)
	}
	if got := types(listed(t, rig, dave, "")); !slices.Equal(got, []string{"mention"}) {
		t.Errorf("dave's notifications = %v, want [mention]", got)
	}

	// A mention in a thought the mentioned user may not read notifies nobody.
	priv := rig.Think(alice, map[string]any{"content": "psst @carol", "visibility": "followers"})
	emit(t, rig, uid(alice), created(priv))
	if n := countRows(t, rig, "thought_id = $1", tid(priv)); n != 0 {
		t.Errorf("a followers-only mention of a non-follower stored %d notifications", n)
	}
}

func TestNotifyNeverAcrossBlocks(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	// Not subtests: the rig reports failures on the test that made it.
	for i, dir := range []string{"recipient blocks actor", "actor blocks recipient"} {
		recipient, actor := rig.Register(fmt.Sprintf("recipient%d", i)), rig.Register(fmt.Sprintf("actor%d", i))
		apitest.Expect(t, rig.Patch("/api/v1/me", recipient.Token, map[string]any{"locked": true}), http.StatusOK)
		th := rig.Think(recipient, map[string]any{"content": "mine"})
		// Posted before the block: the block lands between the post and its event.
		reply := rig.Think(actor, map[string]any{"content": "hey @" + recipient.Username, "in_reply_to_id": th["id"]})
		mention := rig.Think(actor, map[string]any{"content": "look @" + recipient.Username})
		if i == 0 {
			block(t, rig, recipient, actor)
		} else {
			block(t, rig, actor, recipient)
		}
		for _, ev := range []events.Event{
			like(actor, tid(th)), boost(actor, tid(th)), created(reply), created(mention),
			events.FollowRequested{FollowerID: uid(actor), FollowingID: uid(recipient)},
			events.FollowAccepted{FollowerID: uid(actor), FollowingID: uid(recipient)},
		} {
			emit(t, rig, uid(actor), ev)
		}
		if got := stored(t, rig, recipient); len(got) != 0 {
			t.Errorf("%s: stored across the block: %v", dir, got)
		}
	}
	// The same events between users with no block do notify (the test above can fail).
	recipient, actor := rig.Register("recipient9"), rig.Register("actor9")
	th := rig.Think(recipient, map[string]any{"content": "mine"})
	emit(t, rig, uid(actor), like(actor, tid(th)))
	emit(t, rig, uid(actor), created(rig.Think(actor, map[string]any{"content": "hey @recipient9", "in_reply_to_id": th["id"]})))
	if got := stored(t, rig, recipient); !slices.Equal(got, []string{"like", "reply"}) {
		t.Errorf("without a block: %v", got)
	}
}

func TestNotifyOtherEventsCreateNone(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob := rig.Register("alice"), rig.Register("bob")
	apitest.Expect(t, rig.Patch("/api/v1/me", alice.Token, map[string]any{"locked": true}), http.StatusOK)
	th := rig.Think(alice, map[string]any{"content": "hello @bob"})
	for _, ev := range []events.Event{
		events.ThoughtUpdated{ThoughtID: tid(th), UserID: uid(alice)},
		events.LikeRemoved{UserID: uid(bob), ThoughtID: tid(th)},
		events.BoostRemoved{UserID: uid(bob), ThoughtID: tid(th)},
		events.FollowRejected{FollowerID: uid(bob), FollowingID: uid(alice)},
		events.Unfollowed{FollowerID: uid(bob), FollowingID: uid(alice)},
		events.UserBlocked{BlockerID: uid(bob), BlockedID: uid(alice)},
		events.UserUnblocked{BlockerID: uid(bob), BlockedID: uid(alice)},
		events.ThoughtDeleted{ThoughtID: uuid.Must(uuid.NewV7()), UserID: uid(alice)},
	} {
		emit(t, rig, uid(bob), ev)
	}
	if n := countRows(t, rig, "true"); n != 0 {
		t.Errorf("%d notifications stored", n)
	}
	// An event without an ID has no de-duplication key: refused as undecodable.
	env := event(uid(bob), like(bob, tid(th)))
	env.ID = uuid.Nil
	if err := rig.Notify.Handle(t.Context(), env); !errors.Is(err, events.ErrUndecodable) {
		t.Errorf("event without ID: err = %v, want ErrUndecodable", err)
	}
}

func TestNotifyThoughtDeleted(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, carol := rig.Register("alice"), rig.Register("bob"), rig.Register("carol")
	th := rig.Think(alice, map[string]any{"content": "liked"})
	other := rig.Think(alice, map[string]any{"content": "also liked"})
	emit(t, rig, uid(bob), like(bob, tid(th)))
	emit(t, rig, uid(bob), boost(bob, tid(th)))
	emit(t, rig, uid(bob), like(bob, tid(other)))
	reply := rig.Think(carol, map[string]any{"content": "@bob look", "in_reply_to_id": th["id"]})
	emit(t, rig, uid(carol), created(reply))
	if got := types(listed(t, rig, alice, "")); !slices.Equal(got, []string{"reply", "like", "boost", "like"}) {
		t.Fatalf("alice's notifications = %v", got)
	}

	// Deleted: hidden at once, before the event is handled...
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+th["id"].(string), alice.Token), http.StatusNoContent)
	if got := types(listed(t, rig, alice, "")); !slices.Equal(got, []string{"reply", "like"}) {
		t.Errorf("after the deletion alice sees %v", got)
	}
	if c := unreadCount(t, rig, alice); c != 2 {
		t.Errorf("unread_count = %v, want 2", c)
	}
	// ...and deleted with ThoughtDeleted (twice is fine).
	del := event(uid(alice), events.ThoughtDeleted{ThoughtID: tid(th), UserID: uid(alice)})
	deliver(t, rig, del)
	deliver(t, rig, del)
	if n := countRows(t, rig, "thought_id = $1", tid(th)); n != 0 {
		t.Errorf("%d notifications about the deleted thought remain", n)
	}
	// Notifications about other thoughts stay, including the reply (it still exists).
	if got := stored(t, rig, alice); !slices.Equal(got, []string{"like", "reply"}) {
		t.Errorf("alice's rows = %v", got)
	}
	apitest.Expect(t, rig.Delete("/api/v1/thoughts/"+reply["id"].(string), carol.Token), http.StatusNoContent)
	emit(t, rig, uid(carol), events.ThoughtDeleted{ThoughtID: tid(reply), UserID: uid(carol)})
	if got := stored(t, rig, alice); !slices.Equal(got, []string{"like"}) {
		t.Errorf("alice's rows after the reply went = %v", got)
	}
	if got := stored(t, rig, bob); len(got) != 0 {
		t.Errorf("bob's mention in the deleted reply remains: %v", got)
	}
}

func TestNotifyIsIdempotent(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, carol, dave := rig.Register("alice"), rig.Register("bob"), rig.Register("carol"), rig.Register("dave")
	th := rig.Think(alice, map[string]any{"content": "popular"})

	// Redelivered one after the other.
	env := event(uid(bob), like(bob, tid(th)))
	deliver(t, rig, env)
	deliver(t, rig, env)
	if n := countRows(t, rig, "event_id = $1", env.ID); n != 1 {
		t.Errorf("a like delivered twice stored %d rows", n)
	}

	// Delivered concurrently by several consumers: a reply with mentions makes
	// three notifications, each stored once.
	reply := rig.Think(bob, map[string]any{"content": "@alice @carol @dave hi", "in_reply_to_id": th["id"]})
	envs := []events.Envelope{event(uid(bob), created(reply)), event(uid(carol), like(carol, tid(th))),
		event(uid(dave), events.FollowAccepted{FollowerID: uid(dave), FollowingID: uid(alice)})}
	const copies = 8
	var wg sync.WaitGroup
	errs := make(chan error, copies*len(envs))
	start := make(chan struct{})
	for range copies {
		for _, env := range envs {
			wg.Go(func() {
				<-start
				errs <- rig.Notify.Handle(context.Background(), env)
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent delivery: %v", err)
		}
	}
	if n := countRows(t, rig, "event_id = $1", envs[0].ID); n != 3 {
		t.Errorf("reply with mentions delivered %d times concurrently stored %d rows, want 3", copies, n)
	}
	for _, env := range envs[1:] {
		if n := countRows(t, rig, "event_id = $1", env.ID); n != 1 {
			t.Errorf("%s delivered %d times concurrently stored %d rows, want 1", env.Event.EventType(), copies, n)
		}
	}
	// Distinct events concurrently: none lost.
	distinct := make([]events.Envelope, 20)
	for i := range distinct {
		distinct[i] = event(uid(bob), like(bob, tid(th)))
	}
	for _, env := range distinct {
		wg.Go(func() {
			if err := rig.Notify.Handle(context.Background(), env); err != nil {
				t.Errorf("like: %v", err)
			}
		})
	}
	wg.Wait()
	if n := countRows(t, rig, "recipient_id = $1 AND type = 'like' AND actor_id = $2", uid(alice), uid(bob)); n != 1+len(distinct) {
		t.Errorf("alice has %d likes from bob, want %d", n, 1+len(distinct))
	}
}

func TestNotificationsAPI(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, bob, carol := rig.Register("alice"), rig.Register("bob"), rig.Register("carol")
	th := rig.Think(alice, map[string]any{"content": "popular"})
	var want []string // IDs, newest first, read from the API below
	for i := range 25 {
		switch {
		case i%3 == 0:
			emit(t, rig, uid(bob), like(bob, tid(th)))
		case i%3 == 1:
			emit(t, rig, uid(bob), boost(bob, tid(th)))
		default:
			emit(t, rig, uid(bob), created(rig.Think(bob, map[string]any{"content": fmt.Sprintf("@alice #%d", i)})))
		}
	}
	all := listed(t, rig, alice, "?limit=100")
	if len(all) != 25 {
		t.Fatalf("listed %d notifications, want 25", len(all))
	}
	for _, n := range all {
		want = append(want, n["id"].(string))
	}
	if !slices.IsSortedFunc(want, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("not newest first: %v", want)
	}

	// Keyset pagination: walk rel="next", then come back with rel="prev".
	var walked []string
	path := "/api/v1/notifications?limit=10"
	var pages []apitest.Response
	for i := 0; path != "" && i < 5; i++ {
		resp := apitest.Expect(t, rig.Get(path, alice.Token), http.StatusOK)
		pages = append(pages, resp)
		var list []map[string]any
		resp.JSON(t, &list)
		for _, n := range list {
			walked = append(walked, n["id"].(string))
		}
		path = links(t, resp)["next"]
	}
	if !slices.Equal(walked, want) || len(pages) != 3 {
		t.Errorf("walked %d pages: %v, want %v", len(pages), walked, want)
	}
	var prev []map[string]any
	apitest.Expect(t, rig.Get(links(t, pages[1])["prev"], alice.Token), http.StatusOK).JSON(t, &prev)
	if len(prev) != 10 || prev[0]["id"] != want[0] || prev[9]["id"] != want[9] {
		t.Errorf("prev of page 2 = %d items from %v", len(prev), prev)
	}
	// The filter survives in the links.
	resp := apitest.Expect(t, rig.Get("/api/v1/notifications?limit=2&types[]=like", alice.Token), http.StatusOK)
	if next := links(t, resp)["next"]; !strings.Contains(next, "types%5B%5D=like") {
		t.Errorf("next link %q lost the filter", next)
	}

	// Filters.
	count := func(list []map[string]any, typ ...string) int {
		n := 0
		for _, x := range list {
			if slices.Contains(typ, x["type"].(string)) {
				n++
			}
		}
		return n
	}
	for _, q := range []string{"?limit=100&types[]=like&types[]=mention", "?limit=100&types=like,mention", "?limit=100&types[]=like,mention&types[]=like"} {
		got := listed(t, rig, alice, q)
		if len(got) != count(all, "like", "mention") || count(got, "like", "mention") != len(got) {
			t.Errorf("%s: %v", q, types(got))
		}
	}
	if got := listed(t, rig, alice, "?limit=100&types[]=boost"); len(got) != count(all, "boost") || len(got) == 0 {
		t.Errorf("boosts: %v", types(got))
	}
	for _, q := range []string{"?types[]=likes", "?types=like,nope", "?types[]=like&types[]=Like"} {
		if p := expectProblem(t, rig.Get("/api/v1/notifications"+q, alice.Token), http.StatusBadRequest); p["field"] != "types" {
			t.Errorf("%s: field = %v, want types", q, p["field"])
		}
	}
	if p := expectProblem(t, rig.Get("/api/v1/notifications?unread=maybe", alice.Token), http.StatusBadRequest); p["field"] != "unread" {
		t.Errorf("unread=maybe: field = %v", p["field"])
	}
	expectProblem(t, rig.Get("/api/v1/notifications?limit=0", alice.Token), http.StatusBadRequest)

	// Read state.
	if c := unreadCount(t, rig, alice); c != 25 {
		t.Errorf("unread_count = %v, want 25", c)
	}
	first := want[3]
	n := apitest.Expect(t, rig.Post("/api/v1/notifications/"+first+"/read", alice.Token, nil), http.StatusOK).Map(t)
	if n["id"] != first || n["read"] != true {
		t.Errorf("read answered %v", n)
	}
	apitest.Expect(t, rig.Post("/api/v1/notifications/"+first+"/read", alice.Token, nil), http.StatusOK) // idempotent
	if c := unreadCount(t, rig, alice); c != 24 {
		t.Errorf("unread_count = %v, want 24", c)
	}
	unread := listed(t, rig, alice, "?limit=100&unread=true")
	if len(unread) != 24 || slices.ContainsFunc(unread, func(x map[string]any) bool { return x["id"] == first }) {
		t.Errorf("unread=true lists %d, want 24 without %s", len(unread), first)
	}
	if got := listed(t, rig, alice, "?limit=100&unread=false"); len(got) != 25 {
		t.Errorf("unread=false lists %d, want all 25", len(got))
	}
	if got := listed(t, rig, alice, "?limit=100&unread=true&types[]=like"); len(got) != count(unread, "like") {
		t.Errorf("unread likes: %d, want %d", len(got), count(unread, "like"))
	}

	// Only your own notifications: someone else's is not found and stays unread.
	expectProblem(t, rig.Post("/api/v1/notifications/"+want[0]+"/read", bob.Token, nil), http.StatusNotFound)
	expectProblem(t, rig.Post("/api/v1/notifications/"+uuid.Must(uuid.NewV7()).String()+"/read", alice.Token, nil), http.StatusNotFound)
	expectProblem(t, rig.Post("/api/v1/notifications/not-an-id/read", alice.Token, nil), http.StatusNotFound)
	if c := unreadCount(t, rig, alice); c != 24 {
		t.Errorf("someone else marked alice's notification: unread_count = %v", c)
	}
	if got := listed(t, rig, bob, ""); len(got) != 0 {
		t.Errorf("bob sees %v", got)
	}
	if c := unreadCount(t, rig, bob); c != 0 {
		t.Errorf("bob's unread_count = %v", c)
	}

	// Read all.
	apitest.Expect(t, rig.Post("/api/v1/notifications/read-all", alice.Token, nil), http.StatusNoContent)
	if c := unreadCount(t, rig, alice); c != 0 {
		t.Errorf("after read-all unread_count = %v", c)
	}
	if got := listed(t, rig, alice, "?unread=true"); len(got) != 0 {
		t.Errorf("after read-all unread lists %d", len(got))
	}
	emit(t, rig, uid(carol), like(carol, tid(th)))
	if c := unreadCount(t, rig, alice); c != 1 {
		t.Errorf("a new notification after read-all: unread_count = %v", c)
	}

	// A block hides the blocked user's notifications from lists, counts and reads.
	fromCarol := listed(t, rig, alice, "?limit=1")[0]["id"].(string)
	block(t, rig, alice, carol)
	if got := listed(t, rig, alice, "?limit=100"); len(got) != 25 || slices.ContainsFunc(got, func(x map[string]any) bool { return x["id"] == fromCarol }) {
		t.Errorf("after blocking carol alice sees %d notifications", len(got))
	}
	if c := unreadCount(t, rig, alice); c != 0 {
		t.Errorf("after blocking carol unread_count = %v", c)
	}
	expectProblem(t, rig.Post("/api/v1/notifications/"+fromCarol+"/read", alice.Token, nil), http.StatusNotFound)

	// Everything requires authentication.
	for _, req := range []apitest.Request{
		{Method: http.MethodGet, Path: "/api/v1/notifications"},
		{Method: http.MethodGet, Path: "/api/v1/notifications/unread_count"},
		{Method: http.MethodPost, Path: "/api/v1/notifications/read-all"},
		{Method: http.MethodPost, Path: "/api/v1/notifications/" + want[0] + "/read"},
	} {
		expectProblem(t, rig.Do(req), http.StatusUnauthorized)
	}
	expectProblem(t, rig.Get("/api/v1/notifications/read-all", alice.Token), http.StatusMethodNotAllowed)
}
