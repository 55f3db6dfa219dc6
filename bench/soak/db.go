package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/adapters/federation"
)

// soakDB is the soak's own database on the server of DATABASE_URL (-database),
// dropped and created afresh at every run.
const soakDB = "thoughts_bench_soak"

// soakPassword is every seeded user's password (nobody signs in: tokens are
// minted, but the column needs a real hash).
const soakPassword = "bench-soak-password"

// withDatabase returns dsn pointing at database name.
func withDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// recreate drops database db (ending its sessions) and creates it empty.
func recreate(ctx context.Context, adminURL, db string) error {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if err := dropDatabase(ctx, adminURL, db); err != nil {
		return fmt.Errorf("drop %s: %w", db, err)
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{db}.Sanitize()); err != nil {
		return fmt.Errorf("create %s (the role needs CREATEDB): %w", db, err)
	}
	return nil
}

// dropDatabase removes database db.
func dropDatabase(ctx context.Context, adminURL, db string) error {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	// FORCE may not end an autovacuum worker busy with the tables just
	// written (it belongs to the bootstrap superuser): try again for a while.
	for try := 0; ; try++ {
		_, err = admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{db}.Sanitize()+` WITH (FORCE)`)
		if err == nil || try == 20 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

// seedUser is one seeded account and its access token.
type seedUser struct {
	ID       uuid.UUID
	Username string
	Token    string
}

// seedThought is a thought likes may target.
type seedThought struct {
	ID     uuid.UUID
	Author int // index in the users
}

// seeded is the data the load starts from.
type seeded struct {
	Users    []seedUser
	Thoughts []seedThought
	Follows  [][2]int // follower, followee indexes
}

// seed stores users (with one shared Argon2id hash and one shared signing
// key, so the API does not spend minutes generating RSA keys), a session per
// user, thoughts and follows, straight into the database: nothing of it goes
// through the outbox. Tokens are minted with the API's secret and issuer.
func seed(ctx context.Context, pool *pgxpool.Pool, o options, signer *auth.JWT) (seeded, error) {
	var s seeded
	hasher, err := auth.NewArgon2Hasher(auth.DefaultArgon2Params)
	if err != nil {
		return s, err
	}
	hash, err := hasher.Hash(soakPassword)
	if err != nil {
		return s, err
	}
	key, err := rsa.GenerateKey(rand.Reader, federation.RSAKeyBits)
	if err != nil {
		return s, fmt.Errorf("generate the shared key: %w", err)
	}
	pair, err := federation.EncodeKeyPair(key)
	if err != nil {
		return s, err
	}
	r := mrand.New(mrand.NewPCG(o.seed, 0x736f616b)) // "soak"
	now := time.Now().UTC().Add(-time.Hour)
	sessions := make([]uuid.UUID, o.users)
	userRows := make([][]any, o.users)
	sessionRows := make([][]any, o.users)
	for i := range o.users {
		id := uuid.Must(uuid.NewV7())
		name := fmt.Sprintf("soak%05d", i)
		s.Users = append(s.Users, seedUser{ID: id, Username: name})
		userRows[i] = []any{id, name, name + "@soak.invalid", hash, "Soak " + name, false, now, now, pair.PublicKeyPEM, pair.PrivateKeyPEM}
		sessions[i] = uuid.Must(uuid.NewV7())
		sessionRows[i] = []any{sessions[i], id, now, now, "bench/soak"}
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"users"},
		[]string{"id", "username", "email", "password_hash", "display_name", "locked", "created_at", "updated_at", "public_key_pem", "private_key_pem"},
		pgx.CopyFromRows(userRows)); err != nil {
		return s, fmt.Errorf("seed users: %w", err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"sessions"}, []string{"id", "user_id", "created_at", "last_seen_at", "user_agent"},
		pgx.CopyFromRows(sessionRows)); err != nil {
		return s, fmt.Errorf("seed sessions: %w", err)
	}
	for i := range s.Users {
		tok, _, err := signer.Issue(s.Users[i].ID, sessions[i])
		if err != nil {
			return s, fmt.Errorf("mint token: %w", err)
		}
		s.Users[i].Token = tok
	}

	// Thoughts, oldest first, so their UUIDv7s are in time order.
	var thoughtRows [][]any
	for i := range o.users * o.seedThoughts {
		author := r.IntN(o.users)
		at := now.Add(time.Duration(i) * time.Millisecond)
		id := uuidV7At(at, r)
		s.Thoughts = append(s.Thoughts, seedThought{ID: id, Author: author})
		thoughtRows = append(thoughtRows, []any{id, s.Users[author].ID, words(r, 5+r.IntN(15)), "public", at})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"thoughts"}, []string{"id", "author_id", "content", "visibility", "created_at"},
		pgx.CopyFromRows(thoughtRows)); err != nil {
		return s, fmt.Errorf("seed thoughts: %w", err)
	}
	var followRows [][]any
	for f := range o.users {
		seen := map[int]bool{f: true}
		for range min(o.seedFollows, o.users-1) {
			t := r.IntN(o.users)
			for seen[t] {
				t = r.IntN(o.users)
			}
			seen[t] = true
			s.Follows = append(s.Follows, [2]int{f, t})
			followRows = append(followRows, []any{s.Users[f].ID, s.Users[t].ID, uuid.Must(uuid.NewV7()), "accepted", now, now})
		}
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"follows"}, []string{"follower_id", "following_id", "id", "state", "created_at", "accepted_at"},
		pgx.CopyFromRows(followRows)); err != nil {
		return s, fmt.Errorf("seed follows: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return s, fmt.Errorf("vacuum after seeding: %w", err)
	}
	return s, nil
}

// uuidV7At is a version 7 UUID of time t with random bits from r.
func uuidV7At(t time.Time, r *mrand.Rand) uuid.UUID {
	var u uuid.UUID
	ms := t.UnixMilli()
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	a, b := r.Uint64(), r.Uint64()
	for i := 6; i < 16; i++ {
		u[i] = byte(a >> (8 * (i % 8)))
		if i >= 8 {
			u[i] = byte(b >> (8 * (i % 8)))
		}
	}
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u
}

var vocabulary = strings.Fields(`soak steady river lamp morning quiet signal garden window paper coffee
	stone orbit cloud harbor letter meadow pixel rhythm silver thunder velvet winter yellow zephyr amber
	bridge candle desert ember forest glacier horizon island jungle kettle lantern marble nectar ocean`)

// words is n words of the vocabulary.
func words(r *mrand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = vocabulary[r.IntN(len(vocabulary))]
	}
	return strings.Join(w, " ")
}

// TableSize is one table's row count and total size (with indexes and
// TOAST).
type TableSize struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// tableSizes counts every table of the public schema exactly.
func tableSizes(ctx context.Context, pool *pgxpool.Pool) ([]TableSize, error) {
	rows, err := pool.Query(ctx, `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []TableSize
	for rows.Next() {
		var t TableSize
		if err := rows.Scan(&t.Table, &t.Bytes); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	for i := range out {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{out[i].Table}.Sanitize()).Scan(&out[i].Rows); err != nil {
			return nil, fmt.Errorf("count %s: %w", out[i].Table, err)
		}
	}
	slices.SortFunc(out, func(a, b TableSize) int { return strings.Compare(a.Table, b.Table) })
	return out, nil
}

// Completeness checks, after the load, that every like and follow made
// during the soak has exactly one notification, and measures the
// pipeline's lag for all of them from the database: the notification's ID
// is a UUIDv7 drawn when it is stored, the like's or follow's created_at is
// the request's clock.
type Completeness struct {
	Likes             int64   `json:"likes"`                // new likes of another user's thought during the soak
	LikeNotifications int64   `json:"like_notifications"`   // of those likes
	Follows           int64   `json:"follows"`              // new accepted follows during the soak
	FollowNotifs      int64   `json:"follow_notifications"` // of those follows
	Duplicates        int64   `json:"duplicates"`           // events with more than one notification of a type for a recipient
	DBLagP50ms        float64 `json:"db_lag_p50_ms"`        // stored notification - like/follow created_at, all events
	DBLagP99ms        float64 `json:"db_lag_p99_ms"`
	DBLagMaxms        float64 `json:"db_lag_max_ms"`
}

func uuidTimeSQL(col string) string {
	// The first 48 bits of a UUIDv7 are Unix milliseconds.
	return `to_timestamp(('x' || lpad(replace(left(` + col + `::text, 13), '-', ''), 16, '0'))::bit(64)::bigint / 1000.0)`
}

func completeness(ctx context.Context, pool *pgxpool.Pool, since time.Time) (Completeness, error) {
	var c Completeness
	err := pool.QueryRow(ctx, `SELECT count(*), count(n.event_id)
		FROM likes l JOIN thoughts t ON t.id = l.thought_id
		LEFT JOIN notifications n ON n.type = 'like' AND n.recipient_id = t.author_id AND n.actor_id = l.user_id AND n.thought_id = l.thought_id
		WHERE l.created_at >= $1 AND l.user_id <> t.author_id`, since).Scan(&c.Likes, &c.LikeNotifications)
	if err != nil {
		return c, fmt.Errorf("count like notifications: %w", err)
	}
	err = pool.QueryRow(ctx, `SELECT count(*), count(n.event_id)
		FROM follows f
		LEFT JOIN notifications n ON n.type = 'follow' AND n.recipient_id = f.following_id AND n.actor_id = f.follower_id
		WHERE f.created_at >= $1 AND f.state = 'accepted'`, since).Scan(&c.Follows, &c.FollowNotifs)
	if err != nil {
		return c, fmt.Errorf("count follow notifications: %w", err)
	}
	err = pool.QueryRow(ctx, `SELECT count(*) FROM (
		SELECT 1 FROM notifications WHERE thought_id IS NOT NULL GROUP BY type, recipient_id, actor_id, thought_id HAVING count(*) > 1
		UNION ALL
		SELECT 1 FROM notifications WHERE type = 'follow' GROUP BY recipient_id, actor_id HAVING count(*) > 1) d`).Scan(&c.Duplicates)
	if err != nil {
		return c, fmt.Errorf("count duplicate notifications: %w", err)
	}
	err = pool.QueryRow(ctx, `WITH lag AS (
			SELECT extract(epoch FROM `+uuidTimeSQL("n.id")+` - l.created_at) * 1000 AS ms
			FROM likes l JOIN thoughts t ON t.id = l.thought_id
			JOIN notifications n ON n.type = 'like' AND n.recipient_id = t.author_id AND n.actor_id = l.user_id AND n.thought_id = l.thought_id
			WHERE l.created_at >= $1
			UNION ALL
			SELECT extract(epoch FROM `+uuidTimeSQL("n.id")+` - f.created_at) * 1000
			FROM follows f JOIN notifications n ON n.type = 'follow' AND n.recipient_id = f.following_id AND n.actor_id = f.follower_id
			WHERE f.created_at >= $1)
		SELECT coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY ms), 0), coalesce(percentile_disc(0.99) WITHIN GROUP (ORDER BY ms), 0),
			coalesce(max(ms), 0) FROM lag`, since).Scan(&c.DBLagP50ms, &c.DBLagP99ms, &c.DBLagMaxms)
	if err != nil {
		return c, fmt.Errorf("measure notification lag: %w", err)
	}
	return c, nil
}
