package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/domain"
)

// feedWorld is a random social graph with a timeline of thoughts and boosts,
// stored in the database and kept in memory as the model the feed is checked
// against.
type feedWorld struct {
	users    []uuid.UUID
	follows  map[[2]uuid.UUID]domain.FollowState
	blocks   map[[2]uuid.UUID]bool
	thoughts []feedThought
	boosts   []feedBoost
}

type feedThought struct {
	id, author uuid.UUID
	visibility domain.Visibility
	deleted    bool
}

type feedBoost struct{ id, user, thought uuid.UUID }

func (w *feedWorld) blockedEitherWay(a, b uuid.UUID) bool {
	return w.blocks[[2]uuid.UUID{a, b}] || w.blocks[[2]uuid.UUID{b, a}]
}

// expected computes a feed page from the model, by the definition: entries
// of the viewer and the accounts they follow, the newest entry of each
// thought, nothing deleted or from/about a blocked-either-way user.
func (w *feedWorld) expected(viewer uuid.UUID, page domain.Page) []postgres.FeedEntryForTest {
	source := func(u uuid.UUID) bool {
		return u == viewer || w.follows[[2]uuid.UUID{viewer, u}] == domain.FollowAccepted
	}
	byID := map[uuid.UUID]feedThought{}
	newest := map[uuid.UUID]postgres.FeedEntryForTest{}
	add := func(e postgres.FeedEntryForTest) {
		if cur, ok := newest[e.ThoughtID]; !ok || bytes.Compare(e.ID[:], cur.ID[:]) > 0 {
			newest[e.ThoughtID] = e
		}
	}
	for _, th := range w.thoughts {
		byID[th.id] = th
		if source(th.author) && !th.deleted {
			add(postgres.FeedEntryForTest{ID: th.id, ThoughtID: th.id})
		}
	}
	for _, b := range w.boosts {
		th := byID[b.thought]
		if source(b.user) && !th.deleted && !w.blockedEitherWay(viewer, th.author) {
			add(postgres.FeedEntryForTest{ID: b.id, ThoughtID: b.thought, BoosterID: b.user})
		}
	}
	var out []postgres.FeedEntryForTest
	for _, e := range newest {
		in := (page.MaxID == nil || bytes.Compare(e.ID[:], page.MaxID[:]) < 0) &&
			(page.SinceID == nil || bytes.Compare(e.ID[:], page.SinceID[:]) > 0) &&
			(page.MinID == nil || bytes.Compare(e.ID[:], page.MinID[:]) > 0)
		if in {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b postgres.FeedEntryForTest) int { return bytes.Compare(b.ID[:], a.ID[:]) })
	if page.MinID != nil { // the entries just above min_id, still newest first
		return out[max(0, len(out)-page.Limit):]
	}
	return out[:min(len(out), page.Limit)]
}

// newFeedWorld builds and stores a world: one noisy account posting most
// thoughts (so the window plan serves its followers) and quieter ones (so the
// per-source plan serves theirs).
func newFeedWorld(t *testing.T, ctx context.Context, db pgtest.DB, rng *rand.Rand) *feedWorld {
	t.Helper()
	w := &feedWorld{follows: map[[2]uuid.UUID]domain.FollowState{}, blocks: map[[2]uuid.UUID]bool{}}
	now := time.Now().UTC()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	last := uuid.Nil
	newID := func() uuid.UUID {
		id := uuid.Must(uuid.NewV7())
		if bytes.Compare(id[:], last[:]) <= 0 {
			t.Fatalf("UUIDv7 not increasing: %s after %s", id, last)
		}
		last = id
		return id
	}
	// u0..u9 form a random graph; u10 posts three thoughts first and never
	// again, and u11 follows only u10, so its feed never fits in the window.
	for i := range 12 {
		id := newID()
		w.users = append(w.users, id)
		exec(`INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES ($1, $2, $3, 'x', $4, $4)`,
			id, fmt.Sprintf("u%d", i), fmt.Sprintf("u%d@example.com", i), now)
	}
	for range 6 {
		a, b := w.users[rng.IntN(10)], w.users[rng.IntN(10)]
		if a != b && !w.blocks[[2]uuid.UUID{a, b}] {
			w.blocks[[2]uuid.UUID{a, b}] = true
			exec(`INSERT INTO blocks (blocker_id, blocked_id, id, created_at) VALUES ($1, $2, $3, $4)`, a, b, newID(), now)
		}
	}
	for _, a := range w.users[:10] {
		for _, b := range w.users[:10] {
			if a == b || w.blockedEitherWay(a, b) || rng.Float64() > 0.4 {
				continue
			}
			state := domain.FollowAccepted
			if rng.Float64() < 0.2 {
				state = domain.FollowPending
			}
			w.follows[[2]uuid.UUID{a, b}] = state
			exec(`INSERT INTO follows (follower_id, following_id, id, state, created_at) VALUES ($1, $2, $3, $4, $5)`, a, b, newID(), state, now)
		}
	}
	w.follows[[2]uuid.UUID{w.users[11], w.users[10]}] = domain.FollowAccepted
	exec(`INSERT INTO follows (follower_id, following_id, id, state, created_at) VALUES ($1, $2, $3, 'accepted', $4)`,
		w.users[11], w.users[10], newID(), now)
	boosted := map[[2]uuid.UUID]bool{}
	for i := range 800 {
		if rng.Float64() < 0.8 || i < 3 {
			author := w.users[0]
			switch {
			case i < 3:
				author = w.users[10]
			case rng.Float64() < 0.3:
				author = w.users[rng.IntN(10)]
			}
			vis := domain.VisibilityPublic
			switch r := rng.Float64(); {
			case r < 0.15:
				vis = domain.VisibilityFollowers
			case r < 0.3:
				vis = domain.VisibilityUnlisted
			}
			th := feedThought{id: newID(), author: author, visibility: vis}
			w.thoughts = append(w.thoughts, th)
			exec(`INSERT INTO thoughts (id, author_id, content, visibility, created_at) VALUES ($1, $2, 'x', $3, $4)`, th.id, author, vis, now)
			continue
		}
		th := w.thoughts[rng.IntN(len(w.thoughts))]
		user := w.users[rng.IntN(10)]
		// What the boost command allows: visible, not followers-only, once.
		if th.visibility == domain.VisibilityFollowers || w.blockedEitherWay(user, th.author) || boosted[[2]uuid.UUID{user, th.id}] {
			continue
		}
		boosted[[2]uuid.UUID{user, th.id}] = true
		b := feedBoost{id: newID(), user: user, thought: th.id}
		w.boosts = append(w.boosts, b)
		exec(`INSERT INTO boosts (id, user_id, thought_id, created_at) VALUES ($1, $2, $3, $4)`, b.id, user, th.id, now)
	}
	for i := range w.thoughts {
		if rng.Float64() < 0.1 {
			w.thoughts[i].deleted = true
			exec(`UPDATE thoughts SET deleted_at = $2, content = '' WHERE id = $1`, w.thoughts[i].id, now)
		}
	}
	return w
}

func TestFeedPlansMatchTheDefinition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 4))
	w := newFeedWorld(t, ctx, db, rng)
	rm := postgres.NewReadModel(db.Pool)

	exactWindows, fallbacks := 0, 0
	check := func(viewer uuid.UUID, page domain.Page) []postgres.FeedEntryForTest {
		t.Helper()
		want := w.expected(viewer, page)
		label := fmt.Sprintf("viewer %s, limit %d, max %v, since %v, min %v", viewer, page.Limit, page.MaxID, page.SinceID, page.MinID)
		per, err := rm.FeedPerSourceForTest(ctx, viewer, page)
		if err != nil {
			t.Fatal(err)
		}
		if page.MinID != nil {
			slices.Reverse(per)
		}
		if !slices.Equal(per, want) {
			t.Fatalf("%s: per-source plan\n got %v\nwant %v", label, per, want)
		}
		win, exact, err := rm.FeedWindowForTest(ctx, viewer, page)
		if err != nil {
			t.Fatal(err)
		}
		if exact {
			exactWindows++
			if page.MinID != nil {
				slices.Reverse(win)
			}
			if !slices.Equal(win, want) {
				t.Fatalf("%s: window plan\n got %v\nwant %v", label, win, want)
			}
		} else {
			fallbacks++
		}
		items, err := rm.Feed(ctx, viewer, page)
		if err != nil {
			t.Fatal(err)
		}
		var got []postgres.FeedEntryForTest
		for _, it := range items {
			e := postgres.FeedEntryForTest{ID: it.ID, ThoughtID: it.Thought.ID}
			if it.BoostedBy != nil {
				e.BoosterID = it.BoostedBy.ID
			}
			got = append(got, e)
		}
		if len(want) == 0 {
			want = nil
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: Feed\n got %v\nwant %v", label, got, want)
		}
		return want
	}
	for _, viewer := range w.users {
		for _, limit := range []int{1, 7, 20} {
			page := domain.Page{Limit: limit}
			for range 6 { // walk down a few pages
				got := check(viewer, page)
				if len(got) < limit {
					break
				}
				page.MaxID = &got[len(got)-1].ID
			}
		}
		// Cursors anywhere in the timeline, in every direction.
		for range 5 {
			at := w.thoughts[rng.IntN(len(w.thoughts))].id
			check(viewer, domain.Page{Limit: 5, MaxID: &at})
			check(viewer, domain.Page{Limit: 5, SinceID: &at})
			check(viewer, domain.Page{Limit: 5, MinID: &at})
		}
	}
	if exactWindows == 0 || fallbacks == 0 {
		t.Errorf("window plan exact %d times, fell back %d times: both plans must be exercised", exactWindows, fallbacks)
	}
	t.Logf("window plan exact %d times, fell back %d times", exactWindows, fallbacks)
}
