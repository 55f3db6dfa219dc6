package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// A request stuck behind a lock is stopped at its deadline: the client gets a
// 503 problem with Retry-After soon after it, the statement is cancelled on
// the server (the lock wait ends, the connection goes back to the pool), and
// nothing of the write is kept; once the lock is gone the same request works.
func TestRequestDeadlineStopsAStuckRequest(t *testing.T) {
	t.Parallel()
	const timeout = 400 * time.Millisecond
	rig := apitest.New(t, apitest.Options{RequestTimeout: timeout})
	alice, bob := rig.Register("alice"), rig.Register("bob")
	th := rig.Think(alice, map[string]any{"content": "like me"})
	likePath := "/api/v1/thoughts/" + th["id"].(string) + "/like"

	// Another session inserts bob's like and keeps its transaction open:
	// the API's INSERT ... ON CONFLICT waits for it to end.
	ctx := context.Background()
	conn, blocker := holdInSession(t, rig, `INSERT INTO likes (user_id, thought_id, id, created_at) VALUES ($1, $2, gen_random_uuid(), now())`,
		bob.ID, th["id"])

	start := time.Now()
	answered := make(chan apitest.Response, 1)
	go func() { answered <- rig.Post(likePath, bob.Token, nil) }()
	var resp apitest.Response
	select {
	case resp = <-answered:
	case <-time.After(timeout + 10*time.Second):
		_ = blocker.Rollback(ctx) // lets the request finish
		<-answered
		t.Fatalf("no answer 10 s after the request's deadline: the request waited for the lock")
	}
	took := time.Since(start)
	apitest.Expect(t, resp, http.StatusServiceUnavailable)
	if took < timeout || took > timeout+5*time.Second {
		t.Errorf("answered after %v; the deadline is %v", took, timeout)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	if p := resp.Map(t); p["type"] != "urn:thoughts:problem:unavailable" || p["status"] != float64(http.StatusServiceUnavailable) {
		t.Errorf("problem = %v", p)
	}

	// The statement was cancelled on the server, not left waiting: no
	// backend of this database but the blocker's waits for a lock.
	var waiting int
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if waiting != 0 {
		t.Errorf("%d statements still wait for the lock after the request was answered", waiting)
	}
	// The connection goes back to the pool once pgx has cleaned it up
	// (or closed it), which may end just after the answer.
	held := rig.DB.Pool.Stat().AcquiredConns()
	for held != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		held = rig.DB.Pool.Stat().AcquiredConns()
	}
	if held != 0 {
		t.Errorf("%d pool connections still held 5 s after the request was answered", held)
	}

	if err := blocker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The same request now succeeds. Its own 400-ms deadline can pass on a
	// machine running the whole suite (a fresh connection replaces the one
	// the cancelled request closed; CI saw one 503 here): a 503 says retry,
	// so the test does, as a client would, for up to 5 s.
	retry := time.Now().Add(5 * time.Second)
	after := rig.Post(likePath, bob.Token, nil)
	for after.Status == http.StatusServiceUnavailable && time.Now().Before(retry) {
		time.Sleep(100 * time.Millisecond)
		after = rig.Post(likePath, bob.Token, nil)
	}
	got := apitest.Expect(t, after, http.StatusOK).Map(t)
	if got["likes_count"] != float64(1) || got["liked"] != true {
		t.Errorf("after the lock: %v, want liked once", got)
	}
	var likes int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM likes WHERE thought_id = $1`, th["id"]).Scan(&likes); err != nil {
		t.Fatal(err)
	}
	if likes != 1 {
		t.Errorf("%d likes stored, want 1", likes)
	}
}

// Deleting an account is the one route the deadline does not bound: it
// erases everything the account made in one transaction, which must be able
// to finish however long a large account takes.
func TestAccountDeletionIsNotBoundedByTheDeadline(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	rig := apitest.New(t, apitest.Options{RequestTimeout: timeout})
	alice := rig.Register("alice")
	rig.Think(alice, map[string]any{"content": "soon gone"})

	// Another session holds alice's row: the deletion waits for it.
	ctx := context.Background()
	conn, blocker := holdInSession(t, rig, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, alice.ID)
	answered := make(chan apitest.Response, 1)
	go func() {
		answered <- rig.Do(apitest.Request{Method: http.MethodDelete, Path: "/api/v1/me", Token: alice.Token,
			Body: map[string]any{"password": "correct horse"}})
	}()
	select {
	case resp := <-answered:
		_ = blocker.Rollback(ctx)
		t.Fatalf("answered %d while the account's row was held, %v past the deadline: %s", resp.Status, 5*timeout, resp.Body)
	case <-time.After(6 * timeout):
	}
	if err := blocker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-answered:
		apitest.Expect(t, resp, http.StatusNoContent)
	case <-time.After(30 * time.Second):
		t.Fatal("no answer 30 s after the row was released")
	}
	var deleted bool
	if err := conn.QueryRow(ctx, `SELECT deleted_at IS NOT NULL FROM users WHERE id = $1`, alice.ID).Scan(&deleted); err != nil {
		t.Fatal(err)
	}
	if !deleted {
		t.Error("the account was not deleted")
	}
}

// holdInSession runs stmt in a transaction of a session of its own on the
// rig's database and leaves it open (the caller ends it); the session closes
// when the test ends.
func holdInSession(t *testing.T, rig *apitest.Rig, stmt string, args ...any) (*pgx.Conn, pgx.Tx) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, rig.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, stmt, args...); err != nil {
		t.Fatal(err)
	}
	return conn, tx
}
