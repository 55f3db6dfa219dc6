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
// million thoughts is 20,000 random heap reads (~100 ms) per search. Instead,
// in one statement:
//
//  1. Window: the newest searchWindow thoughts are scanned in primary-key
//     order and filtered, stopping at searchCandidates matches: a word in
//     more than 5% of recent thoughts is served here, after a few hundred
//     rows. The scan also yields its own far bound (its searchWindow-th row),
//     so the older part needs no second scan to find where to start (on a
//     live table, whose newest pages are not yet all-visible, such a scan
//     costs a heap fetch per row).
//  2. Older matches below that bound, only if the window held too few. How
//     many it held is a sample of the word's frequency, and picks the cheaper
//     way: with searchDenseHits or more (a word in more than ~0.4% of
//     thoughts), or for a phrase, the scan goes on down the primary key
//     (~0.5 µs a row; stopping at searchCandidates matches or after
//     searchScanMore rows); with fewer, the GIN index finds all older matches
//     (~3 µs each: a heap fetch per match), few for a rare word. A phrase of
//     common words never goes to the index: it would re-read every thought
//     holding all its words to check their positions (55-120 ms measured).
//     The price of the cap: a phrase, or a word dense in the window but rare
//     further back, finds no match older than the newest ~52,000 thoughts.
//
// The query is parsed once (a CTE) and the GIN path gets the literal query
// (the statement is always planned for its parameters, see queryPlanned) so
// the planner sees the word's frequency. Measured on 1,000,000 thoughts (2
// cores, warm): a frequent word ~2 ms, a rare one (25-50 matches) 2.5-4 ms
// where the former 50,000-row window took 13-20 ms, a word in 0.1-1% of
// thoughts 4-10 ms, a quoted phrase of the two commonest words ~5 ms.
const (
	searchCandidates = 100
	searchWindow     = 2000
	searchDenseHits  = 8
	searchScanMore   = 50000
)

// SearchThoughts ranks the newest visible matches of q.
func (r *ReadModel) SearchThoughts(ctx context.Context, viewer query.Viewer, q string, limit, offset int) ([]query.ThoughtView, error) {
	if offset >= searchCandidates {
		return []query.ThoughtView{}, nil
	}
	var vs []query.ThoughtView
	err := r.queryPlanned(ctx, forceCustomPlan, searchThoughtsSQL, []any{q, viewer, limit, offset}, func(rows pgx.Rows) error {
		var err error
		vs, err = pgx.CollectRows(rows, scanView)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search thoughts: %w", err)
	}
	return vs, nil
}

// searchThoughtsSQL is SearchThoughts' statement: $1 the query text, $2 the
// viewer, $3 and $4 limit and offset.
var searchThoughtsSQL = func() string {
	filters := `t.deleted_at IS NULL AND ` + listedTo(2)
	cands, window := strconv.Itoa(searchCandidates), strconv.Itoa(searchWindow)
	// ts_match_vq is @@ as a function: no index can serve it, so the scans
	// stay scans in primary-key order.
	match := `ts_match_vq(t.search, (SELECT q FROM q))`
	return `WITH q AS MATERIALIZED (
			SELECT websearch_to_tsquery('simple', $1) AS q
		), scan AS MATERIALIZED (
			SELECT w.id, w.hit, w.n FROM (
				SELECT t.id, (` + match + ` AND ` + filters + `) AS hit,
					row_number() OVER (ORDER BY t.id DESC) AS n
				FROM (SELECT * FROM thoughts ORDER BY id DESC LIMIT ` + window + `) t
			) w
			WHERE w.hit OR w.n = ` + window + `
			LIMIT ` + cands + ` + 1
		), sample AS MATERIALIZED (
			SELECT (SELECT count(*) FROM scan WHERE hit) AS hits, (SELECT id FROM scan WHERE n = ` + window + `) AS bound,
				strpos((SELECT q FROM q)::text, '<->') > 0 AS phrase
		), scanned AS MATERIALIZED (
			SELECT t.id FROM (
				SELECT * FROM thoughts WHERE id < (SELECT bound FROM sample)
				ORDER BY id DESC LIMIT ` + strconv.Itoa(searchScanMore) + `
			) t
			WHERE (SELECT hits < ` + cands + ` AND (hits >= ` + strconv.Itoa(searchDenseHits) + ` OR phrase) FROM sample)
				AND ` + match + ` AND ` + filters + `
			LIMIT ` + cands + `
		), indexed AS MATERIALIZED (
			SELECT t.id FROM thoughts t
			WHERE (SELECT hits < ` + strconv.Itoa(searchDenseHits) + ` AND NOT phrase FROM sample)
				-- coalesce: not an index condition, or the planner ANDs a
				-- bitmap of the whole primary key below the bound to the GIN one.
				AND coalesce(t.id < (SELECT bound FROM sample), false)
				AND t.search @@ websearch_to_tsquery('simple', $1) AND ` + filters + `
			ORDER BY t.id DESC LIMIT ` + cands + `
		), candidates AS (
			SELECT id FROM scan WHERE hit
			UNION ALL SELECT id FROM scanned
			UNION ALL SELECT id FROM indexed
			ORDER BY id DESC LIMIT ` + cands + `
		)
		SELECT ` + viewColumns(2) + viewFrom + ` JOIN candidates c ON c.id = t.id
		ORDER BY ts_rank(t.search, (SELECT q FROM q)) DESC, t.id DESC
		LIMIT $3 OFFSET $4`
}()

// likePrefix turns a prefix into a LIKE pattern matching it literally.
func likePrefix(prefix string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
}

// SearchUsers finds users by username or display-name prefix: exact username
// first, then username matches, then display-name matches, by username.
func (r *ReadModel) SearchUsers(ctx context.Context, viewer query.Viewer, prefix string, limit, offset int) ([]query.UserSummary, error) {
	prefix = strings.ToLower(prefix)
	rows, err := r.pool.Query(ctx, `SELECT u.id, `+acct("u")+`, u.display_name FROM users u
		WHERE (lower(u.username) LIKE $1 OR lower(u.display_name) LIKE $1) AND u.deleted_at IS NULL
			AND `+notBlockedEitherWay("$2::uuid", "u.id")+`
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

// SearchTags finds tags by prefix, in name order: only tags the viewer would
// find thoughts under on the tag page (a live thought listed to them, the
// rule of listedTo), so a tag used only in followers-only or
// unlisted thoughts does not leak through the search.
func (r *ReadModel) SearchTags(ctx context.Context, viewer query.Viewer, prefix string, limit, offset int) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT g.name FROM tags g WHERE g.name LIKE $1
		AND EXISTS (SELECT 1 FROM thought_tags tt JOIN thoughts t ON t.id = tt.thought_id
			WHERE tt.tag = g.name AND t.deleted_at IS NULL AND `+listedTo(2)+`)
		ORDER BY g.name LIMIT $3 OFFSET $4`,
		likePrefix(strings.ToLower(prefix)), viewer, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("search tags: %w", err)
	}
	tags, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("scan tags: %w", err)
	}
	return tags, nil
}
