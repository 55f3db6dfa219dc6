package postgres

import (
	"context"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// FeedEntryForTest is a feed entry as the tests see it.
type FeedEntryForTest struct{ ID, ThoughtID, BoosterID uuid.UUID }

func exportEntries(es []feedEntry) []FeedEntryForTest {
	out := []FeedEntryForTest{}
	for _, e := range es {
		out = append(out, FeedEntryForTest{e.id, e.thoughtID, e.boosterID})
	}
	return out
}

// FeedWindowForTest runs the feed's window plan alone.
func (r *ReadModel) FeedWindowForTest(ctx context.Context, viewer uuid.UUID, page domain.Page) ([]FeedEntryForTest, bool, error) {
	es, exact, err := r.windowEntries(ctx, viewer, page)
	return exportEntries(es), exact, err
}

// FeedPerSourceForTest runs the feed's per-source plan alone.
func (r *ReadModel) FeedPerSourceForTest(ctx context.Context, viewer uuid.UUID, page domain.Page) ([]FeedEntryForTest, error) {
	es, err := r.perSourceEntries(ctx, viewer, page)
	return exportEntries(es), err
}
