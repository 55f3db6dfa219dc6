package postgres

import (
	"context"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

// TagThoughts lists the visible, listed, live thoughts tagged tag.
func (r *ReadModel) TagThoughts(ctx context.Context, viewer query.Viewer, tag string, page domain.Page) ([]query.ThoughtView, error) {
	where, tail, args := keyset(page, "g.thought_id",
		[]string{"g.tag = $1", "t.deleted_at IS NULL", listedTo(2)}, []any{tag, viewer})
	vs, err := r.views(ctx, `SELECT `+viewColumns(2)+viewFrom+` JOIN thought_tags g ON g.thought_id = t.id`+where+tail, args...)
	if err != nil {
		return nil, err
	}
	if page.Ascending() {
		reverse(vs)
	}
	return vs, nil
}
