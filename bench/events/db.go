package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/service"
)

// database is one benchmark database and its pool, opened the way `thoughts
// serve` opens it (postgres.Connect: pgxpool's default size).
type database struct {
	Name string
	URL  string
	Pool *pgxpool.Pool
}

// serverDatabases creates each database on the server of adminURL as
// thoughts_bench_events_<name>, dropping a leftover of the same name first.
// The Thoughts schema is applied as `thoughts serve` does (migrations, then
// the outbox tables). Released databases are dropped unless keep.
func serverDatabases(adminURL string, keep bool, logger *slog.Logger) func(ctx context.Context, name string, migrated bool) (database, func(), error) {
	return func(ctx context.Context, name string, migrated bool) (database, func(), error) {
		dbName := "thoughts_bench_events_" + name
		admin, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return database{}, nil, fmt.Errorf("connect to %s: %w", redact(adminURL), err)
		}
		defer admin.Close(context.WithoutCancel(ctx))
		ident := pgx.Identifier{dbName}.Sanitize()
		if err := dropDatabase(ctx, admin, ident); err != nil {
			return database{}, nil, fmt.Errorf("drop %s: %w", dbName, err)
		}
		if _, err := admin.Exec(ctx, `CREATE DATABASE `+ident); err != nil {
			return database{}, nil, fmt.Errorf("create %s: %w", dbName, err)
		}
		drop := func() {
			if keep {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			admin, err := pgx.Connect(ctx, adminURL)
			if err != nil {
				logger.Warn("drop benchmark database", "db", dbName, "err", err)
				return
			}
			defer admin.Close(ctx)
			if err := dropDatabase(ctx, admin, ident); err != nil {
				logger.Warn("drop benchmark database", "db", dbName, "err", err)
			}
		}
		dsn, err := withDatabase(adminURL, dbName)
		if err != nil {
			drop()
			return database{}, nil, err
		}
		pool, err := postgres.Connect(ctx, dsn)
		if err != nil {
			drop()
			return database{}, nil, err
		}
		release := func() { pool.Close(); drop() }
		if migrated {
			if err := service.Migrate(ctx, service.Config{DatabaseURL: dsn}, slog.New(slog.DiscardHandler)); err != nil {
				release()
				return database{}, nil, err
			}
		}
		return database{Name: dbName, URL: dsn, Pool: pool}, release, nil
	}
}

// dropDatabase drops the database ident if it exists, ending its sessions.
// PostgreSQL 15 refuses WITH (FORCE) to a role that is not a superuser while
// an autovacuum worker is in the database (insufficient privilege: the
// worker is nobody's process); a plain DROP DATABASE stops the worker itself
// but fails while other sessions remain. Both are tried, for up to ten
// seconds.
func dropDatabase(ctx context.Context, admin *pgx.Conn, ident string) error {
	var err error
	for range 20 {
		if _, err = admin.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err == nil {
			return nil
		}
		if _, plainErr := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+ident); plainErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	return err
}

func withDatabase(dsn, db string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("database URL must be a postgres:// URL")
	}
	u.Path = "/" + db
	return u.String(), nil
}

// redact shows a database URL without its password.
func redact(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(unparsable database URL)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// cast is who likes what: authors[i] wrote thoughts[i]; likers never author.
type cast struct {
	authors, likers, thoughts []uuid.UUID
}

// like returns the liker and thought of event seq: every liker likes every
// thought in turn, never their own, and nobody blocks anybody.
func (c cast) like(seq int) (liker, thought uuid.UUID) {
	n := len(c.thoughts)
	return c.likers[seq%n], c.thoughts[(seq/n+seq)%n]
}

// seed stores users authors and users likers and one public thought per
// author, through the repositories the commands use.
func seed(ctx context.Context, uow command.UnitOfWork, users int) (cast, error) {
	var c cast
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		newUser := func(name string) (uuid.UUID, error) {
			u, err := domain.NewUser(uuid.Must(uuid.NewV7()), name, name+"@bench.invalid", "not-a-hash: benchmark users cannot log in", now)
			if err != nil {
				return uuid.Nil, err
			}
			return u.ID, tx.Users().Create(ctx, u)
		}
		for i := range users {
			author, err := newUser(fmt.Sprintf("author%d", i))
			if err != nil {
				return err
			}
			liker, err := newUser(fmt.Sprintf("liker%d", i))
			if err != nil {
				return err
			}
			t, err := domain.NewThought(uuid.Must(uuid.NewV7()), author, domain.ThoughtDraft{
				Content: fmt.Sprintf("thought %d, liked by the benchmark", i), Visibility: domain.VisibilityPublic,
			}, now)
			if err != nil {
				return err
			}
			if err := tx.Thoughts().Create(ctx, t); err != nil {
				return err
			}
			c.authors = append(c.authors, author)
			c.likers = append(c.likers, liker)
			c.thoughts = append(c.thoughts, t.ID)
		}
		return nil
	})
	if err != nil {
		return cast{}, fmt.Errorf("seed users and thoughts: %w", err)
	}
	return c, nil
}
