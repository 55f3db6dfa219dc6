package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app/domain"
)

// NewReadModelWithFeedFewSourcesForTest is a read model whose feed skips the
// window plan for viewers following at most n accounts (-1: never skips it).
func NewReadModelWithFeedFewSourcesForTest(pool *pgxpool.Pool, n int) *ReadModel {
	r := NewReadModel(pool)
	r.feedFewSources = n
	return r
}

// FeedEntryForTest is a feed entry as the tests see it: its cursor (thought
// or boost ID), its thought and its booster (uuid.Nil for an original).
type FeedEntryForTest struct{ ID, ThoughtID, BoosterID uuid.UUID }

// windowOnlySQL runs the feed's window plan alone: whether its result is
// exact, and its entries (a lone row of NULLs when there are none).
func (q *feedQuery) windowOnlySQL() string {
	return `WITH ` + q.windowCTEs("") + `
		SELECT d.exact, e.id, e.thought_id, e.booster_id FROM dec d LEFT JOIN LATERAL (
			SELECT * FROM merged ORDER BY id ` + q.order() + ` LIMIT ` + q.limit + `
		) e ON true ORDER BY e.id ` + q.order()
}

// perSourceOnlySQL runs the feed's per-source plan alone: its entries.
func (q *feedQuery) perSourceOnlySQL() string {
	return `WITH ` + q.perSourceCTEs() + `
		SELECT id, thought_id, booster_id FROM persource ORDER BY id ` + q.order()
}

// FeedWindowForTest runs the feed's window plan alone; exact is false (and
// there are no entries) when the window holds too few of the viewer's
// entries to be sure of the page.
func (r *ReadModel) FeedWindowForTest(ctx context.Context, viewer uuid.UUID, page domain.Page) (entries []FeedEntryForTest, exact bool, err error) {
	q := newFeedQuery(viewer, page, feedFewSources)
	rows, err := r.pool.Query(ctx, q.windowOnlySQL(), q.args...)
	if err != nil {
		return nil, false, fmt.Errorf("read feed window: %w", err)
	}
	defer rows.Close()
	entries = []FeedEntryForTest{}
	for rows.Next() {
		var id, thoughtID, booster *uuid.UUID
		if err := rows.Scan(&exact, &id, &thoughtID, &booster); err != nil {
			return nil, false, fmt.Errorf("read feed window: %w", err)
		}
		if id == nil {
			continue
		}
		e := FeedEntryForTest{ID: *id, ThoughtID: *thoughtID}
		if booster != nil {
			e.BoosterID = *booster
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read feed window: %w", err)
	}
	if !exact {
		return []FeedEntryForTest{}, false, nil
	}
	return entries, true, nil
}

// FeedPerSourceForTest runs the feed's per-source plan alone.
func (r *ReadModel) FeedPerSourceForTest(ctx context.Context, viewer uuid.UUID, page domain.Page) ([]FeedEntryForTest, error) {
	q := newFeedQuery(viewer, page, feedFewSources)
	rows, err := r.pool.Query(ctx, q.perSourceOnlySQL(), q.args...)
	if err != nil {
		return nil, fmt.Errorf("read feed per source: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (FeedEntryForTest, error) {
		var e FeedEntryForTest
		var booster *uuid.UUID
		err := row.Scan(&e.ID, &e.ThoughtID, &booster)
		if booster != nil {
			e.BoosterID = *booster
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read feed per source: %w", err)
	}
	return entries, nil
}
