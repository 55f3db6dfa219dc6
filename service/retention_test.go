package service

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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
