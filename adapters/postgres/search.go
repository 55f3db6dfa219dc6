package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/app/query"
)

// Thought search is full-text search on thoughts.search (a tsvector of content
// warning and content under the language-neutral 'simple' configuration, GIN
// indexed), parsed with websearch_to_tsquery, so users may write "quoted
// phrases", OR and -exclusions.
//
// Results are the searchCandidates newest matching thoughts the viewer may see,
// ranked by ts_rank (ties: newest first) and paged by limit and offset within
// them. Ranking every match would read every matching row: a word in 2% of a
// million thoughts is 20,000 random heap reads (~100 ms) per search. Instead:
//
//  1. the newest searchWindow thoughts are scanned in primary-key order and
//     filtered; a word in more than searchCandidates/searchWindow (0.2%) of
//     recent thoughts fills the candidates here, stopping early (a common
//     word after a few hundred rows; at worst the window, ~11 ms);
//  2. only if the window held too few, the GIN index finds older matches,
//     which a word rare enough to get here has few of (at worst ~2,000 for a
//     million thoughts, ~15 ms).
//
// The window size balances the two. Both parts run in one statement; the
// second is skipped (a one-time filter) when the first suffices. A phrase of
// common words stays slow: the GIN index finds every thought holding the
// words, and each must be re-read to check their positions.
const (
	searchCandidates = 100
	searchWindow     = 50000
)

// SearchThoughts ranks the newest visible matches of q.
func (r *ReadModel) SearchThoughts(ctx context.Context, viewer query.Viewer, q string, limit, offset int) ([]query.ThoughtView, error) {
	if offset >= searchCandidates {
		return []query.ThoughtView{}, nil
	}
	filters := `t.search @@ websearch_to_tsquery('simple', $1) AND t.deleted_at IS NULL
		AND ` + listed(2) + ` AND ` + visibleTo(2) + ` AND ` + notBlockedBy(2)
	cands := strconv.Itoa(searchCandidates)
	return r.viewsWithoutJIT(ctx, `WITH recent AS MATERIALIZED (
			SELECT t.id FROM (SELECT * FROM thoughts ORDER BY id DESC LIMIT `+strconv.Itoa(searchWindow)+`) t
			WHERE `+filters+`
			ORDER BY t.id DESC LIMIT `+cands+`
		), older AS MATERIALIZED (
			SELECT t.id FROM thoughts t
			WHERE (SELECT count(*) FROM recent) < `+cands+`
				AND t.id < (SELECT id FROM thoughts ORDER BY id DESC OFFSET `+strconv.Itoa(searchWindow-1)+` LIMIT 1)
				AND `+filters+`
			ORDER BY t.id DESC LIMIT `+cands+`
		), candidates AS (
			SELECT id FROM recent UNION ALL SELECT id FROM older ORDER BY id DESC LIMIT `+cands+`
		)
		SELECT `+viewColumns(2)+viewFrom+` JOIN candidates c ON c.id = t.id
		ORDER BY ts_rank(t.search, websearch_to_tsquery('simple', $1)) DESC, t.id DESC
		LIMIT $3 OFFSET $4`, q, viewer, limit, offset)
}

// likePrefix turns a prefix into a LIKE pattern matching it literally.
func likePrefix(prefix string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
}

// SearchUsers finds users by username or display-name prefix: exact username
// first, then username matches, then display-name matches, by username.
func (r *ReadModel) SearchUsers(ctx context.Context, viewer query.Viewer, prefix string, limit, offset int) ([]query.UserSummary, error) {
	prefix = strings.ToLower(prefix)
	rows, err := r.pool.Query(ctx, `SELECT u.id, u.username, u.display_name FROM users u
		WHERE (lower(u.username) LIKE $1 OR lower(u.display_name) LIKE $1)
			AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = $2::uuid AND b.blocked_id = u.id)
			AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = u.id AND b.blocked_id = $2::uuid)
		ORDER BY lower(u.username) = $3 DESC, lower(u.username) LIKE $1 DESC, u.username
		LIMIT $4 OFFSET $5`, likePrefix(prefix), viewer, prefix, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanSummary)
	if err != nil {
		return nil, fmt.Errorf("scan users: %w", err)
	}
	return list, nil
}

// SearchTags finds tags by prefix, in name order.
func (r *ReadModel) SearchTags(ctx context.Context, prefix string, limit, offset int) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT name FROM tags WHERE name LIKE $1 ORDER BY name LIMIT $2 OFFSET $3`,
		likePrefix(strings.ToLower(prefix)), limit, offset)
	if err != nil {
		return nil, fmt.Errorf("search tags: %w", err)
	}
	tags, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("scan tags: %w", err)
	}
	return tags, nil
}
