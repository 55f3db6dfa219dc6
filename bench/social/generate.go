package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// GenConfig sizes and seeds the data set.
type GenConfig struct {
	Users    int
	Thoughts int
	Seed     uint64
	// PasswordHash is stored for every user (one Argon2id hash of a known
	// password: hashing 10,000 passwords would take minutes).
	PasswordHash string
	// Now is when the data is generated: every row is older.
	Now    time.Time
	Logger *slog.Logger
}

// GenStats describes the generated data set.
type GenStats struct {
	Users          int64   `json:"users"`
	Follows        int64   `json:"follows"`
	PendingFollows int64   `json:"pending_follows"`
	Thoughts       int64   `json:"thoughts"`
	Replies        int64   `json:"replies"`
	FollowersOnly  int64   `json:"followers_only"`
	Unlisted       int64   `json:"unlisted"`
	Deleted        int64   `json:"deleted"`
	Tags           int64   `json:"tags"`
	ThoughtTags    int64   `json:"thought_tags"`
	Mentions       int64   `json:"mentions"`
	Likes          int64   `json:"likes"`
	Boosts         int64   `json:"boosts"`
	TopPostersPct  float64 `json:"top_1pct_accounts_share_of_thoughts_pct"`
	MaxFollowers   int     `json:"max_followers"`
	Over1kFollowed int     `json:"accounts_with_over_1000_followers"`
	DenseFollows   int     `json:"viewer_dense_follows"`
	// DenseMinPosts is the fewest thoughts of an account viewer_dense follows.
	DenseMinPosts int `json:"viewer_dense_min_posts_per_followee"`
	SparseFollows int `json:"viewer_sparse_follows"`
	// SparseMaxPosts is the most thoughts of an account viewer_sparse follows.
	SparseMaxPosts int `json:"viewer_sparse_max_posts_per_followee"`
	// SparseNewer is how many thoughts are newer than the newest one
	// viewer_sparse's feed holds: what a naive feed query walks past.
	SparseNewer int `json:"thoughts_newer_than_viewer_sparse_feed"`
	// Seconds per phase, and in all.
	Phases  map[string]float64 `json:"phase_seconds"`
	Seconds float64            `json:"seconds"`
}

// loadedTables are bulk-loaded with their secondary indexes and foreign keys
// dropped, then rebuilt. users is loaded before, with its indexes (it is small).
var loadedTables = []string{"follows", "thoughts", "likes", "boosts", "tags", "thought_tags", "thought_mentions"}

// countedTables are the tables whose rows thought_stats counts; their
// counter triggers are disabled during the load and the counters computed in
// bulk instead.
var countedTables = []string{"likes", "boosts", "thoughts"}

// Generate fills an empty, migrated database with the data set.
func Generate(ctx context.Context, pool *pgxpool.Pool, cfg GenConfig) (GenStats, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	began := time.Now()
	st := GenStats{Phases: map[string]float64{}}
	phase := func(name string, since time.Time) {
		st.Phases[name] = time.Since(since).Seconds()
		log.Info("generate: phase done", "phase", name, "seconds", fmt.Sprintf("%.1f", time.Since(since).Seconds()))
	}

	t0 := time.Now()
	m, err := newModel(cfg)
	if err != nil {
		return st, err
	}
	m.describe(&st)
	phase("plan", t0)

	var existing int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM thoughts)`).Scan(&existing); err != nil {
		return st, fmt.Errorf("check database is empty: %w", err)
	}
	if existing > 0 {
		return st, errors.New("database already holds users or thoughts; generate into a fresh one")
	}

	t0 = time.Now()
	prog := newProgress(log)
	defer prog.stop()
	if err := copyRows(ctx, pool, prog, "users", []string{"id", "username", "email", "password_hash", "display_name", "locked", "created_at", "updated_at"}, m.userRows()); err != nil {
		return st, err
	}
	st.Users = int64(len(m.users))

	schema, err := dropForLoad(ctx, pool)
	if err != nil {
		return st, err
	}
	phase("users and schema prep", t0)

	// Two streams in parallel: thoughts (the server computes each search
	// vector) and everything else.
	t0 = time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	var fs followStats
	copyCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() {
		defer func() {
			if errs[0] != nil {
				cancel() // the other stream need not finish
			}
		}()
		errs[0] = copyRows(copyCtx, pool, prog, "thoughts", []string{"id", "author_id", "content", "content_warning", "sensitive",
			"visibility", "in_reply_to_id", "in_reply_to_author_id", "created_at", "deleted_at"}, m.thoughtRows())
	})
	wg.Go(func() {
		defer func() {
			if errs[1] != nil {
				cancel()
			}
		}()
		ctx := copyCtx
		errs[1] = func() error {
			if err := copyRows(ctx, pool, prog, "follows", []string{"follower_id", "following_id", "id", "state", "created_at", "accepted_at"}, m.followRows(&fs)); err != nil {
				return err
			}
			if err := copyRows(ctx, pool, prog, "likes", []string{"user_id", "thought_id", "id", "created_at"}, m.likeRows(&st.Likes)); err != nil {
				return err
			}
			if err := copyRows(ctx, pool, prog, "boosts", []string{"id", "user_id", "thought_id", "created_at"}, m.boostRows(&st.Boosts)); err != nil {
				return err
			}
			if err := copyRows(ctx, pool, prog, "tags", []string{"name", "created_at"}, m.tagRows(&st.Tags)); err != nil {
				return err
			}
			if err := copyRows(ctx, pool, prog, "thought_tags", []string{"tag", "thought_id"}, m.thoughtTagRows(&st.ThoughtTags)); err != nil {
				return err
			}
			return copyRows(ctx, pool, prog, "thought_mentions", []string{"thought_id", "user_id"}, m.mentionRows(&st.Mentions))
		}()
	})
	wg.Wait()
	prog.stop()
	if err := errors.Join(errs...); err != nil {
		return st, err
	}
	st.Follows, st.PendingFollows, st.MaxFollowers, st.Over1kFollowed = fs.total, fs.pending, fs.maxFollowers, fs.over1k
	phase("copy", t0)

	t0 = time.Now()
	if err := schema.restoreIndexes(ctx, pool, log); err != nil {
		return st, err
	}
	phase("indexes", t0)
	t0 = time.Now()
	if err := schema.restoreForeignKeys(ctx, pool); err != nil {
		return st, err
	}
	phase("foreign keys", t0)

	t0 = time.Now()
	if _, err := pool.Exec(ctx, `TRUNCATE thought_stats`); err != nil {
		return st, fmt.Errorf("clear thought_stats: %w", err)
	}
	// The same counts the triggers keep: live replies, likes, boosts; a row
	// only for a thought with at least one.
	if _, err := pool.Exec(ctx, `INSERT INTO thought_stats (thought_id, replies_count, likes_count, boosts_count)
		SELECT thought_id, sum(r)::int, sum(l)::int, sum(b)::int FROM (
			SELECT in_reply_to_id AS thought_id, count(*) AS r, 0 AS l, 0 AS b FROM thoughts
			WHERE in_reply_to_id IS NOT NULL AND deleted_at IS NULL GROUP BY in_reply_to_id
			UNION ALL SELECT thought_id, 0, count(*), 0 FROM likes GROUP BY thought_id
			UNION ALL SELECT thought_id, 0, 0, count(*) FROM boosts GROUP BY thought_id
		) s GROUP BY thought_id`); err != nil {
		return st, fmt.Errorf("compute thought_stats: %w", err)
	}
	if err := setCounterTriggers(ctx, pool, true); err != nil {
		return st, err
	}
	phase("counters", t0)

	// VACUUM, not only ANALYZE: index-only scans (the feed's) need the
	// visibility map, and otherwise autovacuum would do it mid-benchmark.
	t0 = time.Now()
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return st, fmt.Errorf("vacuum analyze: %w", err)
	}
	phase("vacuum analyze", t0)
	st.Seconds = time.Since(began).Seconds()
	return st, nil
}

// describe fills the statistics known from the plan.
func (m *model) describe(st *GenStats) {
	st.Thoughts = int64(len(m.thoughts))
	posts := make([]int, len(m.users))
	for _, t := range m.thoughts {
		posts[t.author]++
		switch {
		case t.deleted:
			st.Deleted++
		case t.vis == visFollowers:
			st.FollowersOnly++
		case t.vis == visUnlisted:
			st.Unlisted++
		}
		if t.reply >= 0 {
			st.Replies++
		}
	}
	sorted := slices.Clone(posts)
	sort.Sort(sort.Reverse(sort.IntSlice(sorted)))
	top := 0
	for _, p := range sorted[:max(1, len(m.users)/100)] {
		top += p
	}
	st.TopPostersPct = 100 * float64(top) / float64(len(m.thoughts))
	st.DenseFollows, st.SparseFollows = len(m.denseTo), len(m.quiet)
	st.DenseMinPosts = len(m.thoughts)
	for _, u := range m.denseTo {
		st.DenseMinPosts = min(st.DenseMinPosts, posts[u])
	}
	newest := -1
	for i, t := range m.thoughts {
		if slices.Contains(m.quiet, int(t.author)) {
			newest = i
		}
	}
	st.SparseNewer = len(m.thoughts) - 1 - newest
	for _, q := range m.quiet {
		st.SparseMaxPosts = max(st.SparseMaxPosts, posts[q])
	}
}

// progress logs the rows copied per table every few seconds.
type progress struct {
	log    *slog.Logger
	mu     sync.Mutex
	counts map[string]*atomic.Int64
	order  []string
	done   chan struct{}
	once   sync.Once
}

func newProgress(log *slog.Logger) *progress {
	p := &progress{log: log, counts: map[string]*atomic.Int64{}, done: make(chan struct{})}
	go p.run()
	return p
}

func (p *progress) counter(table string) *atomic.Int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.counts[table]
	if !ok {
		c = &atomic.Int64{}
		p.counts[table] = c
		p.order = append(p.order, table)
	}
	return c
}

func (p *progress) run() {
	const every = 3 * time.Second
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := map[string]int64{}
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		var attrs []any
		for _, t := range p.order {
			n := p.counts[t].Load()
			if n != last[t] {
				attrs = append(attrs, t, fmt.Sprintf("%d (%.0f rows/s)", n, float64(n-last[t])/every.Seconds()))
			}
			last[t] = n
		}
		p.mu.Unlock()
		if len(attrs) > 0 {
			p.log.Info("generate: copying", attrs...)
		}
	}
}

func (p *progress) stop() { p.once.Do(func() { close(p.done) }) }

// copyRows streams rows into table with COPY and logs the rate.
func copyRows(ctx context.Context, pool *pgxpool.Pool, prog *progress, table string, cols []string, next func() []any) error {
	counter := prog.counter(table)
	began := time.Now()
	n, err := pool.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
		row := next()
		if row != nil {
			counter.Add(1)
		}
		return row, nil
	}))
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	secs := time.Since(began).Seconds()
	prog.log.Info("generate: copied", "table", table, "rows", n, "seconds", fmt.Sprintf("%.1f", secs),
		"rows_per_s", fmt.Sprintf("%.0f", float64(n)/max(secs, 1e-3)))
	return nil
}

func pgUUID(u [16]byte) pgtype.UUID { return pgtype.UUID{Bytes: u, Valid: true} }

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

var nullUUID = pgtype.UUID{}

func (m *model) userRows() func() []any {
	i := 0
	return func() []any {
		if i == len(m.users) {
			return nil
		}
		u := m.users[i]
		i++
		created := msTime(u.created)
		return []any{pgUUID(u.id), u.name, u.name + "@bench.invalid", m.cfg.PasswordHash,
			fmt.Sprintf("Bench %s", u.name), u.locked, created, created}
	}
}

func (m *model) thoughtRows() func() []any {
	r := rand.New(rand.NewPCG(m.cfg.Seed, 0x74686f75)) // "thou"
	i := 0
	var buf []byte
	row := make([]any, 10)
	return func() []any {
		if i == len(m.thoughts) {
			return nil
		}
		t := m.thoughts[i]
		content, cw := "", ""
		deleted := pgtype.Timestamptz{}
		if t.deleted {
			deleted = pgtype.Timestamptz{Time: msTime(m.after(r, t.ms)), Valid: true}
		} else {
			buf = m.content(r, i, buf)
			content = string(buf)
			if t.cw {
				cw = "about " + m.words[m.wordW.sample(r)]
			}
		}
		reply, replyAuthor := nullUUID, nullUUID
		if t.reply >= 0 {
			reply = pgUUID(m.ids[t.reply])
			replyAuthor = pgUUID(m.users[m.thoughts[t.reply].author].id)
		}
		row[0], row[1], row[2], row[3], row[4] = pgUUID(m.ids[i]), pgUUID(m.users[t.author].id), content, cw, t.cw
		row[5], row[6], row[7], row[8], row[9] = visNames[t.vis], reply, replyAuthor, msTime(t.ms), deleted
		i++
		return row
	}
}

type followStats struct {
	total, pending int64
	maxFollowers   int
	over1k         int
}

func (m *model) followRows(fs *followStats) func() []any {
	r := rand.New(rand.NewPCG(m.cfg.Seed, 0x666f6c6c)) // "foll"
	followers := make([]int, len(m.users))
	seen := map[int]bool{}
	var targets []int
	u, k := -1, 0
	row := make([]any, 6)
	return func() []any {
		for k == len(targets) {
			u++
			if u == len(m.users) {
				for _, n := range followers {
					fs.maxFollowers = max(fs.maxFollowers, n)
					if n > 1000 {
						fs.over1k++
					}
				}
				return nil
			}
			targets, k = m.followees(r, u, seen, targets[:0]), 0
		}
		v := targets[k]
		k++
		followers[v]++
		lo := max(m.users[u].created, m.users[v].created)
		ms := lo + r.Int64N(m.now-3_600_000-lo)
		state, accepted := "accepted", pgtype.Timestamptz{Time: msTime(ms), Valid: true}
		if m.users[v].locked && u != m.dense && u != m.sparse && r.Float64() < pendingShare {
			state, accepted = "pending", pgtype.Timestamptz{}
			fs.pending++
		}
		fs.total++
		row[0], row[1], row[2], row[3], row[4], row[5] = pgUUID(m.users[u].id), pgUUID(m.users[v].id), pgUUID(uuidV7(ms, r)), state, msTime(ms), accepted
		return row
	}
}

// interactionRows yields one row per (user, thought) pair: counts per user
// from perUser, targets from model.target, each pair at most once.
func (m *model) interactionRows(stream uint64, perThought float64, excludeOwn bool, emit func(u int, t int32, ms int64) []any, n *int64) func() []any {
	r := rand.New(rand.NewPCG(m.cfg.Seed, stream))
	counts := m.perUser(r, int(perThought*float64(len(m.thoughts))), len(m.likeable)/2)
	seen := map[int32]bool{}
	u, left, tries := -1, 0, 0
	return func() []any {
		for {
			for left == 0 || tries > 50*counts[u]+100 {
				u++
				if u == len(m.users) {
					return nil
				}
				left, tries = counts[u], 0
				clear(seen)
			}
			tries++
			t := m.target(r)
			if seen[t] || (excludeOwn && int(m.thoughts[t].author) == u) {
				continue
			}
			seen[t] = true
			left--
			*n++
			return emit(u, t, m.after(r, m.thoughts[t].ms))
		}
	}
}

func (m *model) likeRows(n *int64) func() []any {
	r := rand.New(rand.NewPCG(m.cfg.Seed, 0x6c696b65)) // "like" (IDs)
	row := make([]any, 4)
	return m.interactionRows(0x6c696b66, likesPerThought, false, func(u int, t int32, ms int64) []any {
		row[0], row[1], row[2], row[3] = pgUUID(m.users[u].id), pgUUID(m.ids[t]), pgUUID(uuidV7(ms, r)), msTime(ms)
		return row
	}, n)
}

func (m *model) boostRows(n *int64) func() []any {
	r := rand.New(rand.NewPCG(m.cfg.Seed, 0x626f6f73)) // "boos"
	row := make([]any, 4)
	return m.interactionRows(0x626f6f74, boostsPerThought, true, func(u int, t int32, ms int64) []any {
		row[0], row[1], row[2], row[3] = pgUUID(uuidV7(ms, r)), pgUUID(m.users[u].id), pgUUID(m.ids[t]), msTime(ms)
		return row
	}, n)
}

func (m *model) tagRows(n *int64) func() []any {
	i := -1
	return func() []any {
		for i++; i < len(m.tags) && m.tagFirst[i] < 0; i++ {
		}
		if i >= len(m.tags) {
			return nil
		}
		*n++
		return []any{m.tags[i], msTime(m.thoughts[m.tagFirst[i]].ms)}
	}
}

func (m *model) thoughtTagRows(n *int64) func() []any {
	i, k := 0, 0
	return func() []any {
		for i < len(m.thoughts) && k == int(m.thoughts[i].ntags) {
			i, k = i+1, 0
		}
		if i == len(m.thoughts) {
			return nil
		}
		tag := m.tagsOf(i)[k]
		k++
		*n++
		return []any{m.tags[tag], pgUUID(m.ids[i])}
	}
}

func (m *model) mentionRows(n *int64) func() []any {
	i := -1
	return func() []any {
		for i++; i < len(m.thoughts) && m.thoughts[i].mention < 0; i++ {
		}
		if i >= len(m.thoughts) {
			return nil
		}
		*n++
		return []any{pgUUID(m.ids[i]), pgUUID(m.users[m.thoughts[i].mention].id)}
	}
}
