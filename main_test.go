package main

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/migrations"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestGracefulShutdownDrainsRequests: a request in flight when the stop signal
// arrives still gets its answer, and new connections are refused afterwards.
func TestGracefulShutdownDrainsRequests(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	started := make(chan struct{})
	release := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := Config{HTTPAddr: addr, ShutdownTimeout: 10 * time.Second}
	go func() { done <- runHTTP(ctx, cfg, slog.New(slog.DiscardHandler), handler) }()

	var body string
	var reqErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/slow")
			if err != nil && time.Now().Before(deadline) && strings.Contains(err.Error(), "refused") {
				time.Sleep(10 * time.Millisecond) // server not listening yet
				continue
			}
			if err != nil {
				reqErr = err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			return
		}
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("request never reached the handler")
	}
	cancel() // the signal
	select {
	case err := <-done:
		t.Fatalf("server stopped with a request in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	wg.Wait()
	if reqErr != nil || body != "finished" {
		t.Fatalf("in-flight request: body %q, err %v", body, reqErr)
	}
	if err := <-done; err != nil {
		t.Fatalf("runHTTP: %v", err)
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
