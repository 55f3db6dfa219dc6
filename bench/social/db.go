package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/federation"
)

// benchDB is the benchmark's own database, on the server of DATABASE_URL,
// unless -database names another (a smaller data set for a quick check can
// then live next to the full-size one).
const benchDB = "thoughts_bench_social"

// markerVersion changes whenever the generator's output does, so -reuse never
// measures data of an older shape.
const markerVersion = 1

// marker is stored as the database's comment once generation has finished:
// a database without one is incomplete.
type marker struct {
	Version     int       `json:"version"`
	Users       int       `json:"users"`
	Thoughts    int       `json:"thoughts"`
	Seed        uint64    `json:"seed"`
	GeneratedAt time.Time `json:"generated_at"`
	Stats       GenStats  `json:"stats"`
}

// withDatabase returns dsn pointing at database name.
func withDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// readMarker returns whether the bench database name exists and its marker,
// if it has a valid one.
func readMarker(ctx context.Context, admin *pgx.Conn, name string) (exists bool, m *marker, err error) {
	var comment *string
	err = admin.QueryRow(ctx, `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`, name).Scan(&comment)
	if err == pgx.ErrNoRows {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("look up %s: %w", name, err)
	}
	if comment == nil {
		return true, nil, nil
	}
	var mk marker
	if json.Unmarshal([]byte(*comment), &mk) != nil || mk.Version != markerVersion {
		return true, nil, nil
	}
	return true, &mk, nil
}

func writeMarker(ctx context.Context, admin *pgx.Conn, name string, m marker) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var stmt string
	if err := admin.QueryRow(ctx, `SELECT format('COMMENT ON DATABASE %I IS %L', $1::text, $2::text)`, name, string(b)).Scan(&stmt); err != nil {
		return fmt.Errorf("build comment: %w", err)
	}
	if _, err := admin.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("mark %s complete: %w", name, err)
	}
	return nil
}

// recreate drops the bench database name (ending its sessions) and creates
// it empty.
func recreate(ctx context.Context, admin *pgx.Conn, name string) error {
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+ident); err != nil {
		return fmt.Errorf("create %s (the role needs CREATEDB): %w", name, err)
	}
	return nil
}

// resetToGenerated removes what earlier load runs wrote (their thoughts and
// likes are newer than the generated data), so every run starts from the same
// data set.
func resetToGenerated(ctx context.Context, pool *pgxpool.Pool, generatedAt time.Time) (int64, error) {
	floor := uuidV7Floor(generatedAt.UnixMilli() + 1)
	var removed int64
	for _, table := range []string{"likes", "boosts", "thoughts"} {
		tag, err := pool.Exec(ctx, `DELETE FROM `+table+` WHERE id >= $1`, floor)
		if err != nil {
			return removed, fmt.Errorf("remove earlier runs' %s: %w", table, err)
		}
		removed += tag.RowsAffected()
	}
	if removed > 0 {
		if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) thoughts, likes, boosts, thought_stats, thought_tags`); err != nil {
			return removed, fmt.Errorf("vacuum after reset: %w", err)
		}
	}
	return removed, nil
}

// fixtures are what the load run draws from: every user, and the generated
// public live thoughts (likes target them).
type fixtures struct {
	users        []uuid.UUID
	dense        uuid.UUID
	sparse       uuid.UUID
	publicIDs    []uuid.UUID
	generatedAt  time.Time
	thoughtCount int64
}

func loadFixtures(ctx context.Context, pool *pgxpool.Pool, generatedAt time.Time) (fixtures, error) {
	f := fixtures{generatedAt: generatedAt}
	rows, err := pool.Query(ctx, `SELECT id, username FROM users ORDER BY id`)
	if err != nil {
		return f, fmt.Errorf("load users: %w", err)
	}
	for rows.Next() {
		var id uuid.UUID
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return f, fmt.Errorf("scan user: %w", err)
		}
		switch name {
		case denseViewerName:
			f.dense = id
		case sparseViewerName:
			f.sparse = id
		}
		f.users = append(f.users, id)
	}
	if err := rows.Err(); err != nil {
		return f, fmt.Errorf("load users: %w", err)
	}
	if f.dense == uuid.Nil || f.sparse == uuid.Nil {
		return f, fmt.Errorf("viewers %s and %s missing: regenerate without -reuse", denseViewerName, sparseViewerName)
	}
	rows, err = pool.Query(ctx, `SELECT id FROM thoughts WHERE visibility = 'public' AND deleted_at IS NULL AND id < $1`,
		uuidV7Floor(generatedAt.UnixMilli()+1))
	if err != nil {
		return f, fmt.Errorf("load public thoughts: %w", err)
	}
	f.publicIDs, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return f, fmt.Errorf("load public thoughts: %w", err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM thoughts`).Scan(&f.thoughtCount); err != nil {
		return f, fmt.Errorf("count thoughts: %w", err)
	}
	return f, nil
}

// shareOneSigningKey gives every user without an ActivityPub signing key one
// RSA key pair, the same for all. The API process otherwise starts by
// generating 10,000 keys in the background (one core for minutes), which
// would be measured as slowness of everything else. Shared keys are fine for
// a data set that never federates.
func shareOneSigningKey(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	key, err := rsa.GenerateKey(rand.Reader, federation.RSAKeyBits)
	if err != nil {
		return 0, fmt.Errorf("generate the shared key: %w", err)
	}
	pair, err := federation.EncodeKeyPair(key)
	if err != nil {
		return 0, err
	}
	tag, err := pool.Exec(ctx, `UPDATE users SET public_key_pem = $1, private_key_pem = $2 WHERE public_key_pem IS NULL`,
		pair.PublicKeyPEM, pair.PrivateKeyPEM)
	if err != nil {
		return 0, fmt.Errorf("share the signing key: %w", err)
	}
	return tag.RowsAffected(), nil
}

// benchUserAgent marks the sessions the benchmark starts, so a later run can
// remove them.
const benchUserAgent = "bench/social"

// startSessions starts one session for each user (access tokens are good
// only for a live session) and returns their IDs by user. The previous
// run's sessions are removed first.
func startSessions(ctx context.Context, pool *pgxpool.Pool, users []uuid.UUID) (map[uuid.UUID]uuid.UUID, error) {
	if _, err := pool.Exec(ctx, `DELETE FROM sessions WHERE user_agent = $1`, benchUserAgent); err != nil {
		return nil, fmt.Errorf("remove earlier runs' sessions: %w", err)
	}
	ids := make([]uuid.UUID, len(users))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	_, err := pool.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, last_seen_at, user_agent)
		SELECT s, u, now(), now(), $3 FROM unnest($1::uuid[], $2::uuid[]) AS x (s, u)`, ids, users, benchUserAgent)
	if err != nil {
		return nil, fmt.Errorf("start sessions: %w", err)
	}
	out := make(map[uuid.UUID]uuid.UUID, len(users))
	for i, u := range users {
		out[u] = ids[i]
	}
	return out, nil
}
