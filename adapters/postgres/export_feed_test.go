package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// NewReadModelWithFeedFewSourcesForTest is a read model whose feed skips the
// window plan for viewers following at most n accounts (-1: never skips it).
func NewReadModelWithFeedFewSourcesForTest(pool *pgxpool.Pool, n int) *ReadModel {
	return &ReadModel{pool: pool, feedFewSources: &n}
}
