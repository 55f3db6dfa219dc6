package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
)

// TestSessionUse: a live session is reported live by one read; its
// last_seen_at, when over a minute old, moves forward (in the background),
// and a recent one is left alone; a revoked session, or another user's, is
// not live.
func TestSessionUse(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	alice := createUsers(t, db, "alice")[0]
	stale, fresh := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	longAgo := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, last_seen_at) VALUES ($1, $3, $4, $4), ($2, $3, now(), now())`,
		stale, fresh, alice.ID, longAgo); err != nil {
		t.Fatal(err)
	}
	var freshSeen time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT last_seen_at FROM sessions WHERE id = $1`, fresh).Scan(&freshSeen); err != nil {
		t.Fatal(err)
	}
	sessions := postgres.NewSessions(db.Pool)
	for _, id := range []uuid.UUID{stale, fresh} {
		if live, err := sessions.Use(ctx, alice.ID, id); err != nil || !live {
			t.Fatalf("Use(%s) = %v, %v; want live", id, live, err)
		}
	}
	seen := func(id uuid.UUID) time.Time {
		t.Helper()
		var at time.Time
		if err := db.Pool.QueryRow(ctx, `SELECT last_seen_at FROM sessions WHERE id = $1`, id).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	deadline := time.Now().Add(10 * time.Second)
	for !seen(stale).After(longAgo) {
		if time.Now().After(deadline) {
			t.Fatal("last_seen_at of a session last seen an hour ago did not move")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := seen(fresh); !got.Equal(freshSeen) {
		t.Errorf("a session seen just now was touched again: %s → %s", freshSeen, got)
	}
	if live, err := sessions.Use(ctx, uuid.New(), stale); err != nil || live {
		t.Errorf("Use by another user = %v, %v; want not live", live, err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE id = $1`, stale); err != nil {
		t.Fatal(err)
	}
	if live, err := sessions.Use(ctx, alice.ID, stale); err != nil || live {
		t.Errorf("Use of a revoked session = %v, %v; want not live", live, err)
	}
}
