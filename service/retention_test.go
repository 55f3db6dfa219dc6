package service

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/events"
)

// TestProcessingPrunesTheOutbox: a process running event processing prunes
// the table its backend relays or consumes from once every consumer has
// passed the rows, and counts what it deleted in /metrics.
func TestProcessingPrunesTheOutbox(t *testing.T) {
	t.Parallel()
	for backend, topic := range map[string]string{"nats": outbox.ForwarderTopic, "postgres": events.TopicLikeAdded} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			db := pgtest.NewEmpty(t)
			cfg := testConfig(t, db, backend)
			cfg.Retention.Interval = 50 * time.Millisecond
			serve := startProcess(t, cfg, serveOptions)
			waitFor(t, "serve never became ready", func() bool { code, _ := get(t, serve.base+"/readyz"); return code == 200 })
			mode := outbox.Direct
			if backend == "nats" {
				mode = outbox.Forward
			}
			uow, _ := postgres.NewUnitOfWork(db.Pool, outbox.New(mode, nil))
			const n = 50
			for range n {
				actor := uuid.Must(uuid.NewV7())
				env := events.New(context.Background(), actor, events.LikeAdded{LikeID: uuid.New(), UserID: actor, ThoughtID: uuid.New()}, time.Now())
				if err := uow.InTx(context.Background(), func(ctx context.Context, tx command.Tx) error { return tx.Publish(ctx, env) }); err != nil {
					t.Fatal(err)
				}
			}
			rows := func() int {
				var c int
				if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+outbox.TableName(topic)).Scan(&c); err != nil {
					t.Fatal(err)
				}
				return c
			}
			waitFor(t, "the table was never pruned", func() bool { return rows() == 0 })
			want := fmt.Sprintf(`thoughts_retention_deleted_rows_total{table=%q} %d`, topic, n)
			waitFor(t, "the metrics never counted the pruned rows", func() bool {
				_, body := get(t, serve.metrics+"/metrics")
				return strings.Contains(body, want)
			})
		})
	}
}

// TestRetentionPassNeedsOneConnection: a retention pass runs every statement
// on the connection that holds its lock, so it completes on a pool of one
// connection (it used to take a second one for its deletes while holding
// the first, and waited for ever there; on a busy pool, until a caller
// holding the other connections let one go).
func TestRetentionPassNeedsOneConnection(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Migrate(ctx, Config{DatabaseURL: db.URL}, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	pcfg := db.Pool.Config()
	pcfg.MaxConns = 1
	one, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	p, err := newPruner(one, Retention{NotificationsRead: time.Hour, Notifications: 24 * time.Hour}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	passCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	if err := p.pass(passCtx); err != nil {
		t.Fatalf("a retention pass on a pool of one connection: %v", err)
	}
}
