// Package pgtest gives each test its own migrated PostgreSQL database, cloned
// from a template that is built once per schema version, so packages and tests
// run in parallel without sharing state. It needs a running server: DATABASE_URL,
// or the development cluster `make test` provisions.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/migrations"
)

// DefaultURL is the development cluster provisioned by scripts/dev-postgres.sh.
const DefaultURL = "postgres://thoughts:thoughts@127.0.0.1:5432/thoughts?sslmode=disable"

// AdminURL is the server tests create their databases on.
func AdminURL() string {
	if v := os.Getenv("DATABASE_URL"); v != "" {
		return v
	}
	return DefaultURL
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// schemaHash names the template after the migrations and outbox topics, so a
// changed schema gets a fresh template.
func schemaHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	h.Write([]byte(strings.Join(outbox.Topics(), ",")))
	return hex.EncodeToString(h.Sum(nil))[:16], err
}

// withDB returns dsn (a URL) pointing at database db.
func withDB(dsn, db string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("DATABASE_URL must be a postgres:// URL for tests")
	}
	u.Path = "/" + db
	return u.String(), nil
}

// buildTemplate creates and migrates the template database once per schema,
// serialised across test processes by an advisory lock.
func buildTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hash, err := schemaHash()
	if err != nil {
		return "", fmt.Errorf("hash schema: %w", err)
	}
	name := "thoughts_tmpl_" + hash
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", fmt.Errorf("connect to %s (run `make test`, which provisions PostgreSQL): %w", redact(AdminURL()), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(7468657400)`); err != nil {
		return "", fmt.Errorf("lock template: %w", err)
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock(7468657400)`)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	_, _ = admin.Exec(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	dsn, err := withDB(AdminURL(), building)
	if err != nil {
		return "", err
	}
	pool, err := postgres.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	quiet := slog.New(slog.DiscardHandler)
	err = postgres.Migrate(ctx, pool, quiet)
	if err == nil {
		err = outbox.InitSchema(ctx, wsql.BeginnerFromPgx(pool), nil)
	}
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	// Renaming makes the template appear complete or not at all.
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", fmt.Errorf("finish template: %w", err)
	}
	if _, err := admin.Exec(ctx, `COMMENT ON DATABASE `+name+` IS 'thoughts test template built `+time.Now().UTC().Format(time.RFC3339)+`'`); err != nil {
		return "", fmt.Errorf("date template: %w", err)
	}
	dropStaleTemplates(ctx, admin, name)
	return name, nil
}

// templateMaxAge is how long a template of another schema is kept. Test runs
// of other checkouts (other branches, worktrees) on the same server may still
// be cloning theirs: only templates no run has built for a day are dropped.
const templateMaxAge = 24 * time.Hour

// dropStaleTemplates drops the templates of other schemas built more than
// templateMaxAge ago (or undated, from before templates were dated).
func dropStaleTemplates(ctx context.Context, admin *pgx.Conn, keep string) {
	rows, err := admin.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database
		WHERE datname LIKE 'thoughts\_tmpl\_%' AND datname NOT LIKE '%\_building' AND datname <> $1`, keep)
	if err != nil {
		return
	}
	type template struct{ name, comment string }
	old, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (template, error) {
		var t template
		err := row.Scan(&t.name, &t.comment)
		return t, err
	})
	if err != nil {
		return
	}
	for _, t := range old {
		built, err := time.Parse(time.RFC3339, strings.TrimPrefix(t.comment, "thoughts test template built "))
		if err == nil && time.Since(built) < templateMaxAge {
			continue
		}
		_, _ = admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{t.name}.Sanitize()+` WITH (FORCE)`)
	}
}

// DB is a fresh, migrated database for one test.
type DB struct {
	Pool *pgxpool.Pool
	// URL connects to this database.
	URL string
}

// New creates a database for t from the migrated template and drops it when t
// ends.
func New(t testing.TB) DB {
	t.Helper()
	templateOnce.Do(func() { templateName, templateErr = buildTemplate() })
	if templateErr != nil {
		t.Fatalf("pgtest: %v", templateErr)
	}
	return create(t, templateName)
}

// NewEmpty creates an empty database (no migrations) for t.
func NewEmpty(t testing.TB) DB {
	t.Helper()
	return create(t, "template1")
}

func create(t testing.TB, template string) DB {
	t.Helper()
	ctx := context.Background()
	name := "thoughts_test_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	// CREATE DATABASE fails while another session is copying the same template;
	// retry briefly.
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+template)
		if err == nil || attempt == 50 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	dsn, err := withDB(AdminURL(), name)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return DB{Pool: pool, URL: dsn}
}

func redact(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "DATABASE_URL"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
