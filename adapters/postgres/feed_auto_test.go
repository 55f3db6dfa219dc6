package postgres_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/domain"
)

// TestFeedStatementMatchesTheDefinition checks the production feed statement
// (plan choice, fallback and loading of the views in one statement) against
// the model, whichever way the choice goes: with the window skipped for every
// viewer, tried for every viewer (falling back when it is not exact), and
// with the production threshold.
func TestFeedStatementMatchesTheDefinition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 5))
	w := newFeedWorld(t, ctx, db, rng)
	models := map[string]*postgres.ReadModel{
		"window never":  postgres.NewReadModelWithFeedFewSourcesForTest(db.Pool, 1000),
		"window always": postgres.NewReadModelWithFeedFewSourcesForTest(db.Pool, -1),
		"production":    postgres.NewReadModel(db.Pool),
	}
	for name, rm := range models {
		check := func(viewer uuid.UUID, page domain.Page) []postgres.FeedEntryForTest {
			t.Helper()
			want := w.expected(viewer, page)
			items, err := rm.Feed(ctx, viewer, page)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := []postgres.FeedEntryForTest{}
			for _, it := range items {
				e := postgres.FeedEntryForTest{ID: it.ID, ThoughtID: it.Thought.ID}
				if it.BoostedBy != nil {
					e.BoosterID = it.BoostedBy.ID
					if it.BoostedBy.Username == "" {
						t.Fatalf("%s: booster %s without a username", name, it.BoostedBy.ID)
					}
				}
				if it.Author.ID != it.Thought.AuthorID || it.Author.Username == "" {
					t.Fatalf("%s: item %s has author %+v", name, it.ID, it.Author)
				}
				got = append(got, e)
			}
			if want == nil {
				want = []postgres.FeedEntryForTest{}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: viewer %s, limit %d, max %v, since %v, min %v\n got %v\nwant %v",
					name, viewer, page.Limit, page.MaxID, page.SinceID, page.MinID, got, want)
			}
			return want
		}
		for _, viewer := range w.users {
			for _, limit := range []int{1, 7, 20} {
				page := domain.Page{Limit: limit}
				for range 6 {
					got := check(viewer, page)
					if len(got) < limit {
						break
					}
					page.MaxID = &got[len(got)-1].ID
				}
			}
			for range 5 {
				at := w.thoughts[rng.IntN(len(w.thoughts))].id
				check(viewer, domain.Page{Limit: 5, MaxID: &at})
				check(viewer, domain.Page{Limit: 5, SinceID: &at})
				check(viewer, domain.Page{Limit: 5, MinID: &at})
				other := w.thoughts[rng.IntN(len(w.thoughts))].id
				lo, hi := at, other
				if lo.String() > hi.String() {
					lo, hi = hi, lo
				}
				check(viewer, domain.Page{Limit: 5, MaxID: &hi, SinceID: &lo})
			}
		}
		t.Logf("%s: checked", name)
	}
}
