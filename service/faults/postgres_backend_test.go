//go:build faults

package faults

import (
	"context"
	"testing"
	"time"
)

// TestPostgresBackendRouterKilled: a burst of likes over HTTP on the
// Postgres backend, two `thoughts router` processes and one `thoughts api`;
// one router is killed with SIGKILL mid-burst. Every like is notified
// exactly once.
func TestPostgresBackendRouterKilled(t *testing.T) {
	n := likes(t)
	dir := t.TempDir()
	pg := startPostgres(t)
	db := pg.url("thoughts")
	migrate(t, db)
	env := thoughtsEnv(dir, db, "postgres", "")
	// router2 starts first, so it holds the consumer groups' locks: router1
	// waits on them and takes over when router2 dies.
	r2 := startThoughts(t, dir, "router2", env, "router")
	r1 := startThoughts(t, dir, "router1", env, "router")
	apiProc := startThoughts(t, dir, "api", env, "api")
	a := newAPI(apiProc.base)
	pop := populate(t, a, "pg", n)

	start := time.Now()
	var killedAt time.Duration
	var liked1, liked2 float64
	b := likeAll(context.Background(), a, pop, n, 16, func(sent int64) {
		if sent == int64(n*2/5) {
			liked1, liked2 = handled(r1.metrics, "notifications:likes.added"), handled(r2.metrics, "notifications:likes.added")
			r2.kill()
			killedAt = time.Since(start)
		}
	})
	took := time.Since(start)
	if r2.running() {
		t.Fatal("router2 was never killed")
	}
	statuses, _, bodies := b.failures()
	if len(statuses) != 0 {
		t.Errorf("answers other than 200: %v, e.g. %q", statuses, bodies)
	}
	got, wait := awaitNotified(t, pg.pool(), n, 3*time.Minute)
	if liked2 <= 0 {
		t.Errorf("router2 had handled %v likes when killed: it was not the one consuming", liked2)
	}
	report(t, "sent %d / %v; burst %v (%.0f likes/s), router2 SIGKILLed at %v after handling %.0f likes (router1 then: %.0f), last notification %v after the burst",
		b.sent.Load(), got, took.Round(time.Millisecond), float64(n)/took.Seconds(), killedAt.Round(time.Millisecond), liked2, liked1, wait.Round(time.Millisecond))
	if int(b.sent.Load()) != n || got.stored != n || got.notified != n || got.duplicates != 0 || got.missing != 0 {
		t.Errorf("want %d sent, stored and notified once each", n)
	}
}
