package service

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/adapters/logs"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/migrations"
	"github.com/thoughts-project/thoughts/ports/httpapi"
)

// TestGracefulShutdownDrainsRequests: a request in flight when the stop signal
// arrives still gets its answer, and new connections are refused afterwards.
func TestGracefulShutdownDrainsRequests(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	addr := ln.Addr().String()
	started := make(chan struct{})
	release := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveHTTP(ctx, ln, handler, 10*time.Second, time.Minute, slog.New(slog.DiscardHandler))
	}()

	var body string
	var reqErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			reqErr = err
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		body, reqErr = string(b), err
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("request never reached the handler")
	}
	cancel() // the signal
	// Once new connections are refused the server is shutting down; with
	// the request still in flight it must not have returned.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections 10 s after the stop signal")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("server stopped with a request in flight: %v", err)
	default:
	}
	close(release)
	wg.Wait()
	if reqErr != nil || body != "finished" {
		t.Fatalf("in-flight request: body %q, err %v", body, reqErr)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serveHTTP: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not return after its last request finished")
	}
	if _, err := http.Get("http://" + addr + "/slow"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

// TestConcurrentMigrations: processes starting together apply the migrations
// once, without racing.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t)
	ctx := context.Background()
	pending, err := postgres.MigrationsPending(ctx, db.Pool)
	if err != nil || !pending {
		t.Fatalf("empty database: pending = %v, err = %v", pending, err)
	}
	ready := readiness(db.Pool)
	if err := ready(ctx); err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Fatalf("readiness before migrations = %v, want a pending-migrations error", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := postgres.Connect(ctx, db.URL)
			if err != nil {
				errs <- err
				return
			}
			defer pool.Close()
			errs <- applySchema(ctx, pool, slog.New(slog.DiscardHandler))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent migration: %v", err)
		}
	}
	if err := ready(ctx); err != nil {
		t.Fatalf("readiness after migrations = %v", err)
	}
	var applied int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	entries, _ := migrationFiles()
	if applied != entries {
		t.Errorf("goose recorded %d migrations, want %d (each once)", applied, entries)
	}
}

func migrationFiles() (int, error) {
	entries, err := fs.Glob(migrations.FS, "*.sql")
	return len(entries), err
}

// TestReadyzReportsTheDatabase: /readyz of an API process, over HTTP with the
// real checks: 503 while migrations are pending, 200 once they are applied,
// 503 again when the database goes away; /healthz stays 200 throughout.
func TestReadyzReportsTheDatabase(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t)
	cfg := testConfig(t, db, "postgres")
	api := startProcess(t, cfg, apiOptions)
	waitFor(t, "the API never answered /healthz", func() bool { code, _ := get(t, api.base+"/healthz"); return code == 200 })

	ready := func(wantCode int, wantDetail string) {
		t.Helper()
		resp, err := http.Get(api.base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("/readyz body: %v", err)
		}
		if resp.StatusCode != wantCode {
			t.Fatalf("/readyz = %d %v, want %d", resp.StatusCode, body, wantCode)
		}
		if wantCode != 200 {
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("/readyz %d Content-Type %q, want a problem", wantCode, ct)
			}
			if detail, _ := body["detail"].(string); !strings.Contains(detail, wantDetail) {
				t.Errorf("/readyz detail %q, want it to mention %q", detail, wantDetail)
			}
		}
	}
	ready(503, "migrations are pending")

	if err := Migrate(context.Background(), cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	ready(200, "")

	admin, err := pgx.Connect(context.Background(), pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	name := db.Pool.Config().ConnConfig.Database
	if _, err := admin.Exec(context.Background(), `DROP DATABASE `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
		t.Fatal(err)
	}
	ready(503, "database unreachable")
	if code, _ := get(t, api.base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d with the database gone, want 200 (the process itself is alive)", code)
	}
}

// TestPanicInAHandlerIsRecovered: a handler that panics (here: registration
// with the password hasher missing, a nil interface call) answers a 500
// problem carrying the correlation ID, logs the panic with it, and the
// process keeps serving.
func TestPanicInAHandlerIsRecovered(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var logBuf syncBuffer
	logger := slog.New(logs.WithCorrelation(slog.NewJSONHandler(&logBuf, nil)))
	s, err := Open(context.Background(), testConfig(t, db, "postgres"), logger, apiOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.App.Commands.Register.Hasher = nil
	handler, err := s.APIHandler()
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, Endpoint{Name: "api", Listener: ln, Handler: handler}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
	})
	base := "http://" + ln.Addr().String()

	req, err := http.NewRequest("POST", base+"/api/v1/auth/register", strings.NewReader(`{"username":"panicky","email":"p@example.com","password":"correct horse"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Correlation-ID", "corr-panic")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("X-Correlation-ID") != "corr-panic" {
		t.Fatalf("panic answered %d %q (correlation %q): %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Correlation-ID"), body)
	}
	if strings.Contains(string(body), "nil pointer") || strings.Contains(string(body), "goroutine") {
		t.Errorf("the problem leaks internals: %s", body)
	}
	if logged := logBuf.String(); !strings.Contains(logged, `"msg":"panic in handler"`) || !strings.Contains(logged, `"correlation_id":"corr-panic"`) {
		t.Errorf("the panic was not logged with its correlation ID:\n%s", logged)
	}
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("after the panic /readyz = %d, want 200", code)
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRevocationReachesOtherProcessesAtOnce: two API processes on one
// database. A session that process B has cached as live is refused by B as
// soon as it is revoked through A, long before B's cache would expire: the
// revocation reaches B as a database notification.
func TestRevocationReachesOtherProcessesAtOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	cfg := testConfig(t, db, "postgres")
	a, b := startProcess(t, cfg, apiOptions), startProcess(t, cfg, apiOptions)
	for _, p := range []*process{a, b} {
		waitFor(t, "an API process never became ready", func() bool { code, _ := get(t, p.base+"/readyz"); return code == 200 })
	}
	c := client{t: t, base: a.base}
	alice := c.register("alice")
	me := func(p *process) int {
		t.Helper()
		req, err := http.NewRequest("GET", p.base+"/api/v1/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+alice.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := me(b); code != 200 {
		t.Fatalf("B before the revocation: %d, want 200", code)
	}
	c.call("POST", "/api/v1/auth/logout", alice.token, nil, 204)
	revoked := time.Now()
	deadline := revoked.Add(10 * time.Second) // a notification takes milliseconds
	for me(b) != 401 {
		if time.Now().After(deadline) {
			t.Fatalf("B still accepts the session %s after its revocation through A (cache TTL %s)", time.Since(revoked), httpapi.SessionCacheTTL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("B refused the revoked session %s after the revocation", time.Since(revoked))
}
