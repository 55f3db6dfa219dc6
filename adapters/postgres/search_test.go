package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
)

// TestSearchThoughtsMatchesTheDefinition checks thought search on more
// thoughts than its window holds, against its definition: the 100 newest
// matching thoughts the viewer may see in a listing, ranked by ts_rank, ties
// newest first. The words are spread so that each way the search may take is
// used: matches filling the window, older matches found by scanning on (a
// word dense enough, a phrase) and by the GIN index (a rare word).
func TestSearchThoughtsMatchesTheDefinition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	now := time.Now().UTC()
	var users []uuid.UUID
	for i := range 4 { // 0 the viewer, 1 blocks the viewer, 2 is blocked by the viewer, 3 anyone
		id := uuid.Must(uuid.NewV7())
		users = append(users, id)
		exec(`INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES ($1, $2, $3, 'x', $4, $4)`,
			id, fmt.Sprintf("s%d", i), fmt.Sprintf("s%d@example.com", i), now)
	}
	viewer := users[0]
	exec(`INSERT INTO blocks (blocker_id, blocked_id, id, created_at) VALUES ($1, $2, $3, $4), ($2, $5, $6, $4)`,
		users[1], viewer, uuid.Must(uuid.NewV7()), now, users[2], uuid.Must(uuid.NewV7()))

	const n = 5200 // the window holds 2,000
	rows := make([][]any, 0, n)
	for i := range n {
		words := []string{"common"}
		if i%3 == 0 {
			words = append(words, "common") // ranks higher
		}
		if i%40 == 0 {
			words = append(words, "dense") // 50 in the window: scanned on
		}
		if i%700 == 0 {
			words = append(words, "sparse") // 2-3 in the window: the index
		}
		if i == 7 || i == 1502 || i == 2900 {
			words = append(words, "rare") // only below the window
		}
		if i%25 == 0 {
			words = append(words, "alpha beta") // the phrase
		} else if i%5 == 0 {
			words = append(words, "beta alpha") // both words, not the phrase
		}
		author, vis := users[3], "public"
		switch i % 11 {
		case 1:
			vis = "unlisted"
		case 2:
			vis = "followers"
		case 3:
			author = users[1]
		case 4:
			author = users[2]
		case 5:
			author = viewer // the viewer's own unlisted thoughts are listed for them
			vis = "unlisted"
		}
		var deleted *time.Time
		if i%13 == 0 {
			deleted = &now
		}
		content := fmt.Sprintf("%v %d", words, i)
		if deleted != nil {
			content = ""
		}
		rows = append(rows, []any{uuid.Must(uuid.NewV7()), author, content, vis, now, deleted})
	}
	if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"thoughts"}, []string{"id", "author_id", "content", "visibility", "created_at", "deleted_at"},
		pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	exec(`ANALYZE thoughts`)

	rm := postgres.NewReadModel(db.Pool)
	for _, q := range []string{"common", "dense", "sparse", "rare", `"alpha beta"`, "alpha beta", "-common", "nothing"} {
		for _, page := range [][2]int{{20, 0}, {40, 40}, {100, 0}, {20, 90}} {
			limit, offset := page[0], page[1]
			wantRows, err := db.Pool.Query(ctx, `WITH candidates AS (
					SELECT t.id, t.search FROM thoughts t
					WHERE t.search @@ websearch_to_tsquery('simple', $1) AND t.deleted_at IS NULL
						AND (t.visibility = 'public' OR t.author_id = $2)
						AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = t.author_id AND b.blocked_id = $2)
						AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = $2 AND b.blocked_id = t.author_id)
					ORDER BY t.id DESC LIMIT 100
				)
				SELECT id FROM candidates ORDER BY ts_rank(search, websearch_to_tsquery('simple', $1)) DESC, id DESC
				LIMIT $3 OFFSET $4`, q, viewer, limit, offset)
			if err != nil {
				t.Fatal(err)
			}
			want, err := pgx.CollectRows(wantRows, pgx.RowTo[uuid.UUID])
			if err != nil {
				t.Fatal(err)
			}
			v := viewer
			got, err := rm.SearchThoughts(ctx, &v, q, limit, offset)
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			gotIDs := []uuid.UUID{}
			for _, th := range got {
				gotIDs = append(gotIDs, th.ID)
			}
			if want == nil {
				want = []uuid.UUID{}
			}
			if !slices.Equal(gotIDs, want) {
				t.Errorf("search %q limit %d offset %d:\n got %d %v\nwant %d %v", q, limit, offset, len(gotIDs), gotIDs, len(want), want)
			}
			if q == "rare" && limit == 20 && offset == 0 && len(want) != 3 {
				t.Errorf("rare: %d matches, want all 3", len(want))
			}
		}
	}
}
