package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/domain"
)

// schemaDefs lists the loaded tables' indexes, constraints and triggers (with
// their enabled state) as the server prints them.
func schemaDefs(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
		WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1)
		UNION ALL
		SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1)
		UNION ALL
		SELECT 'trigger ' || c.relname || '.' || tg.tgname || ' ' || tg.tgenabled::text
		FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
		WHERE NOT tg.tgisinternal AND c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1)
		ORDER BY 1`, append(slices.Clone(loadedTables), "users", "thought_stats"))
	if err != nil {
		t.Fatalf("list schema: %v", err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list schema: %v", err)
	}
	return defs
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestGenerateSmallDataSet runs the generator at a tiny scale against a real
// migrated database and checks what the benchmark relies on: row counts, the
// counters, id/time order, the viewers, and a schema left exactly as the
// migrations made it (indexes, foreign keys, enabled triggers).
func TestGenerateSmallDataSet(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	before := schemaDefs(t, db.Pool)
	now := time.Now().UTC()
	cfg := GenConfig{Users: 200, Thoughts: 2000, Seed: 7, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U", Now: now}
	st, err := Generate(ctx, db.Pool, cfg)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}

	if got := schemaDefs(t, db.Pool); !slices.Equal(got, before) {
		t.Errorf("schema after generation differs:\n got %q\nwant %q", got, before)
	}

	for _, c := range []struct {
		table string
		want  int64
	}{
		{"users", 200}, {"thoughts", 2000}, {"follows", st.Follows}, {"likes", st.Likes}, {"boosts", st.Boosts},
		{"tags", st.Tags}, {"thought_tags", st.ThoughtTags}, {"thought_mentions", st.Mentions},
	} {
		if got := count(t, db.Pool, `SELECT count(*) FROM `+c.table); got != c.want {
			t.Errorf("%s: %d rows, GenStats says %d", c.table, got, c.want)
		}
	}
	if st.Likes < 3000 || st.Boosts < 100 || st.Follows < 1000 || st.Replies < 100 || st.ThoughtTags < 300 {
		t.Errorf("data set too thin: %+v", st)
	}
	if got := count(t, db.Pool, `SELECT count(*) FROM thoughts WHERE in_reply_to_id IS NOT NULL`); got != st.Replies {
		t.Errorf("replies: %d, GenStats says %d", got, st.Replies)
	}
	if got := count(t, db.Pool, `SELECT count(*) FROM thoughts WHERE visibility = 'followers'`); got == 0 {
		t.Error("no followers-only thoughts")
	}

	// The bulk counters equal a count of the rows, thought by thought.
	statsMismatch := `SELECT count(*) FROM thoughts t LEFT JOIN thought_stats s ON s.thought_id = t.id
		WHERE coalesce(s.likes_count, 0) <> (SELECT count(*) FROM likes l WHERE l.thought_id = t.id)
		   OR coalesce(s.boosts_count, 0) <> (SELECT count(*) FROM boosts b WHERE b.thought_id = t.id)
		   OR coalesce(s.replies_count, 0) <> (SELECT count(*) FROM thoughts r WHERE r.in_reply_to_id = t.id AND r.deleted_at IS NULL)`
	if got := count(t, db.Pool, statsMismatch); got != 0 {
		t.Errorf("%d thoughts have counters that do not match their rows", got)
	}
	if got := count(t, db.Pool, `SELECT coalesce(sum(likes_count), 0) FROM thought_stats`); got != st.Likes {
		t.Errorf("sum of likes_count = %d, want %d", got, st.Likes)
	}

	// IDs are UUIDv7 of the creation time, so id order is time order; replies
	// answer older thoughts, by the author stored with them.
	if got := count(t, db.Pool, `SELECT count(*) FROM (SELECT created_at, lag(created_at) OVER (ORDER BY id) AS prev FROM thoughts) x
		WHERE prev >= created_at`); got != 0 {
		t.Errorf("%d thoughts are not newer than the thought before them in id order", got)
	}
	rows, err := db.Pool.Query(ctx, `SELECT id, created_at FROM thoughts`)
	if err != nil {
		t.Fatal(err)
	}
	type idTime struct {
		ID uuid.UUID
		At time.Time
	}
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[idTime])
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range all {
		if it.ID.Version() != 7 || !uuidTime(it.ID).Equal(it.At.Truncate(time.Millisecond)) {
			t.Fatalf("thought %s (version %d) created at %s: not a UUIDv7 of its time", it.ID, it.ID.Version(), it.At)
		}
		if it.At.Before(now.Add(-span-time.Hour)) || !it.At.Before(now) {
			t.Fatalf("thought %s created at %s, outside the past year", it.ID, it.At)
		}
	}
	if got := count(t, db.Pool, `SELECT count(*) FROM thoughts r JOIN thoughts p ON p.id = r.in_reply_to_id
		WHERE p.id >= r.id OR p.author_id <> r.in_reply_to_author_id`); got != 0 {
		t.Errorf("%d replies answer a newer thought or name the wrong author", got)
	}

	// The tags and mentions stored are those the content carries.
	rows, err = db.Pool.Query(ctx, `SELECT t.content, coalesce(array_agg(g.tag ORDER BY g.tag) FILTER (WHERE g.tag IS NOT NULL), '{}'),
			coalesce((SELECT array_agg(u.username ORDER BY u.username) FROM thought_mentions m JOIN users u ON u.id = m.user_id
				WHERE m.thought_id = t.id), '{}')
		FROM thoughts t LEFT JOIN thought_tags g ON g.thought_id = t.id GROUP BY t.id`)
	if err != nil {
		t.Fatal(err)
	}
	type parsed struct {
		Content  string
		Tags     []string
		Mentions []string
	}
	ts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[parsed])
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ts {
		tags, mentions := domain.ParseTags(p.Content), domain.ParseMentions(p.Content)
		slices.Sort(tags)
		slices.Sort(mentions)
		if !slices.Equal(tags, p.Tags) || !slices.Equal(mentions, p.Mentions) {
			t.Fatalf("content %q: stored tags %v mentions %v, content has %v and %v", p.Content, p.Tags, p.Mentions, tags, mentions)
		}
	}

	// viewer_dense follows the most active accounts; viewer_sparse follows
	// accounts with at most 20 thoughts each, all older than half a year.
	var dense, sparse int64
	var sparseMax, sparseNewest, denseMin int64
	err = db.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM follows f JOIN users u ON u.id = f.follower_id WHERE u.username = $1 AND f.state = 'accepted'),
			(SELECT count(*) FROM follows f JOIN users u ON u.id = f.follower_id WHERE u.username = $2 AND f.state = 'accepted'),
			(SELECT max(n) FROM (SELECT count(t.id) AS n FROM follows f JOIN users u ON u.id = f.follower_id
				LEFT JOIN thoughts t ON t.author_id = f.following_id WHERE u.username = $2 GROUP BY f.following_id) x),
			(SELECT count(*) FROM thoughts WHERE id > (SELECT t.id FROM follows f JOIN users u ON u.id = f.follower_id
				JOIN thoughts t ON t.author_id = f.following_id WHERE u.username = $2 ORDER BY t.id DESC LIMIT 1)),
			(SELECT min(n) FROM (SELECT count(t.id) AS n FROM follows f JOIN users u ON u.id = f.follower_id
				LEFT JOIN thoughts t ON t.author_id = f.following_id WHERE u.username = $1 GROUP BY f.following_id) x)`,
		denseViewerName, sparseViewerName).Scan(&dense, &sparse, &sparseMax, &sparseNewest, &denseMin)
	if err != nil {
		t.Fatalf("inspect viewers: %v", err)
	}
	if dense != int64(st.DenseFollows) || dense < 30 {
		t.Errorf("viewer_dense follows %d accounts (GenStats: %d)", dense, st.DenseFollows)
	}
	if sparse != quietAccounts || sparseMax > quietMaxPosts || sparseMax < 3 {
		t.Errorf("viewer_sparse follows %d accounts with up to %d thoughts, want %d with at most %d", sparse, sparseMax, quietAccounts, quietMaxPosts)
	}
	if sparseNewest < 2000*45/100 || sparseNewest != int64(st.SparseNewer) {
		t.Errorf("%d thoughts are newer than viewer_sparse's newest feed item (GenStats: %d), want about half", sparseNewest, st.SparseNewer)
	}
	if denseMin < 2 {
		t.Errorf("viewer_dense follows an account with %d thoughts: not an active one", denseMin)
	}
	if st.TopPostersPct < 5 { // 1% if uniform; ~14% at this size, ~68% at full size
		t.Errorf("the top 1%% of accounts post %.1f%% of thoughts: not skewed", st.TopPostersPct)
	}

	// The triggers are live again: a like through SQL moves the counter.
	var liker, target uuid.UUID
	err = db.Pool.QueryRow(ctx, `SELECT u.id, t.id FROM users u CROSS JOIN LATERAL (
			SELECT t.id FROM thoughts t WHERE t.deleted_at IS NULL AND NOT EXISTS (
				SELECT 1 FROM likes l WHERE l.user_id = u.id AND l.thought_id = t.id) LIMIT 1) t
		WHERE u.username = $1`, "u00100").Scan(&liker, &target)
	if err != nil {
		t.Fatalf("pick a new like: %v", err)
	}
	likes := func() int64 {
		return count(t, db.Pool, `SELECT coalesce((SELECT likes_count FROM thought_stats WHERE thought_id = $1), 0)`, target)
	}
	was := likes()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO likes (user_id, thought_id, id, created_at) VALUES ($1, $2, $3, now())`,
		liker, target, uuid.Must(uuid.NewV7())); err != nil {
		t.Fatalf("insert like: %v", err)
	}
	if got := likes(); got != was+1 {
		t.Errorf("likes_count after a new like = %d, want %d: counter trigger not re-enabled", got, was+1)
	}
	replies := func() int64 {
		return count(t, db.Pool, `SELECT coalesce((SELECT replies_count FROM thought_stats WHERE thought_id = $1), 0)`, target)
	}
	was = replies()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO thoughts (id, author_id, content, visibility, in_reply_to_id, in_reply_to_author_id, created_at)
		SELECT $1, $2, 'a reply', 'public', t.id, t.author_id, now() FROM thoughts t WHERE t.id = $3`,
		uuid.Must(uuid.NewV7()), liker, target); err != nil {
		t.Fatalf("insert reply: %v", err)
	}
	if got := replies(); got != was+1 {
		t.Errorf("replies_count after a new reply = %d, want %d: counter trigger not re-enabled", got, was+1)
	}
	if got := count(t, db.Pool, statsMismatch); got != 0 {
		t.Errorf("after a like and a reply, %d thoughts have counters that do not match their rows", got)
	}
}

// Generating the same config twice gives the same data.
func TestModelIsDeterministic(t *testing.T) {
	t.Parallel()
	cfg := GenConfig{Users: 100, Thoughts: 500, Seed: 3, Now: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	a, err := newModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.ids, b.ids) || !slices.Equal(a.thoughts, b.thoughts) {
		t.Error("two models of one config differ")
	}
	if _, err := newModel(GenConfig{Users: 5, Thoughts: 500}); err == nil {
		t.Error("newModel accepted 5 users")
	}
}

// The open loop keeps its schedule and measures from it: the requests offered
// all arrive, and a server that holds each one for a while shows that delay.
func TestOpenLoopOffersTheScheduledRequests(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Path == "/fail" {
			http.Error(w, "no", http.StatusTeapot)
			return
		}
		time.Sleep(5 * time.Millisecond) // the server's work, not synchronisation
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	client := newClient()
	mk := func(path string) request {
		return func(ctx context.Context, _, _ int) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		}
	}
	m := openLoop(context.Background(), client, 200, 200*time.Millisecond, time.Second, http.StatusOK, mk("/ok"))
	if m.Requests != 200 || m.Errors != 0 || served.Load() != 240 {
		t.Errorf("measured %d requests (%d errors), server saw %d; want 200 measured, 240 sent", m.Requests, m.Errors, served.Load())
	}
	if m.P50ms < 5 || m.MaxMs < m.P99ms || m.P99ms < m.P50ms {
		t.Errorf("p50 %.2f ms, p99 %.2f ms, max %.2f ms: the server takes 5 ms per request", m.P50ms, m.P99ms, m.MaxMs)
	}

	m = openLoop(context.Background(), client, 100, 0, 500*time.Millisecond, http.StatusOK, mk("/fail"))
	if m.Requests != 50 || m.Errors != 50 || len(m.ErrorSamples) != 1 || m.AchievedRPS != 0 {
		t.Errorf("failing server: %d requests, %d errors, samples %q, %.1f req/s", m.Requests, m.Errors, m.ErrorSamples, m.AchievedRPS)
	}
}

func TestClosedLoopCountsOnlyTheMeasuredPart(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }))
	t.Cleanup(srv.Close)
	var sent atomic.Int64
	m := closedLoop(context.Background(), newClient(), 4, 100*time.Millisecond, 300*time.Millisecond, http.StatusCreated,
		func(ctx context.Context, _, _ int) (*http.Request, error) {
			sent.Add(1)
			return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		})
	if m.Errors != 0 || m.Requests == 0 || int64(m.Requests) >= sent.Load() {
		t.Errorf("measured %d of %d requests with %d errors; want some, fewer than all (warm-up), none failed", m.Requests, sent.Load(), m.Errors)
	}
	if m.AchievedRPS != float64(int(float64(m.Requests)/0.3*10+0.5))/10 {
		t.Errorf("achieved %.1f req/s for %d requests in 0.3 s", m.AchievedRPS, m.Requests)
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Millisecond, 0.99: 990 * time.Millisecond, 1: time.Second, 0: time.Millisecond} {
		if got := quantile(d, q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
}

func TestUUIDv7(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	floor, next := uuidV7Floor(at.UnixMilli()), uuidV7Floor(at.UnixMilli()+1)
	for range 100 {
		u := uuidV7(at.UnixMilli(), r)
		if u.Version() != 7 || u.Variant() != uuid.RFC4122 || !uuidTime(u).Equal(at) {
			t.Fatalf("uuidV7 = %s: version %d, variant %v, time %s", u, u.Version(), u.Variant(), uuidTime(u))
		}
		if u.String() < floor.String() || u.String() >= next.String() {
			t.Fatalf("%s is outside [%s, %s)", u, floor, next)
		}
	}
}
