// Package postgres implements Thoughts' repositories, unit of work and read
// model on PostgreSQL with pgx/v5, and applies the schema migrations.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/migrations"
)

// Connect opens a pool and checks the server answers.
func Connect(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "thoughts"
	}
	// Our queries are short index lookups whose estimated cost can still cross
	// the JIT threshold (the visibility subqueries of the feed and search
	// statements do); compiling them costs ~30 ms for nothing, for every
	// execution, cached plan or not.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	// A connection attempt to an unreachable host (packets dropped, not
	// refused) would otherwise wait for the kernel's TCP timeout, minutes,
	// holding the request that needed it.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return pool, nil
}

// defaultMaxConns is the pool size unless the DSN sets pool_max_conns.
// pgxpool's own default, the number of CPUs (at least 4), leaves requests
// queueing in the pool while the database has CPU to spare: a request holds
// its connection across network round trips and commit flushes. Measured with
// 32 concurrent clients on 2 cores: liking ~1,100 requests/s with 4
// connections, ~1,600 with 16 (more commits share a WAL flush), the home feed
// ~950 and ~1,200 (and less CPU per request, less waiting and waking in the
// pool); 32 connections gained nothing more.
func defaultMaxConns() int32 {
	return int32(max(16, 4*runtime.GOMAXPROCS(0)))
}

// migrationLockID is the advisory lock goose holds while migrating, so processes
// starting together apply migrations once, one after the other.
const migrationLockID = 0x7468_6f75_6768 // "though"

func migrationProvider(pool *pgxpool.Pool, logger *slog.Logger) (*goose.Provider, func() error, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, nil, fmt.Errorf("create migration lock: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true)}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, opts...)
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("create migration provider: %w", err)
	}
	return p, db.Close, nil
}

// Migrate applies every pending migration under an advisory lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	p, closeDB, err := migrationProvider(pool, logger)
	if err != nil {
		return err
	}
	defer closeDB()
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	if logger != nil {
		for _, r := range results {
			logger.InfoContext(ctx, "migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	return nil
}

// MigrationsPending reports whether the database lacks any embedded migration.
func MigrationsPending(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	p, closeDB, err := migrationProvider(pool, nil)
	if err != nil {
		return false, err
	}
	defer closeDB()
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("check migrations: %w", err)
	}
	return pending, nil
}

// querier is what repositories need: a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pgUUID is id as pgx encodes it directly (uuid.UUID goes through its
// driver.Valuer: a string, parsed back).
func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

// notFound maps pgx.ErrNoRows to domain.ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Errorf(domain.ErrNotFound, "%s not found", what)
	}
	return err
}

// uniqueViolation reports the constraint of a unique violation, if err is one.
func uniqueViolation(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	return "", false
}
