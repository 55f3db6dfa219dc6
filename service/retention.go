package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
)

// Retention: nothing the event pipeline writes grows without bound.
//
//   - The outbox (NATS) and the per-topic tables (Postgres) lose each row once
//     every consumer group has passed it (pubsub.PruneTopic).
//   - JetStream streams keep a message until every handler's consumer has
//     acked it (interest retention), within NATS_STREAM_MAX_AGE and
//     NATS_STREAM_MAX_BYTES (Config.NATSStreams).
//   - Notifications: read ones go NOTIFICATIONS_READ_RETENTION after they were
//     stored, all of them after NOTIFICATIONS_RETENTION.
//   - Processed inbox rows (federation, when it stores inbound activities):
//     to be deleted once handled and older than a week, by a step added to
//     pruner.pass below, batched as the others.
//   - The poison queue is kept until an operator requeues or purges it.
//
// Every process running event processing (serve, router) prunes every
// RETENTION_INTERVAL; an advisory lock lets one process at a time do a pass,
// the others skip theirs.

// pruneLockID is the advisory lock a pruning pass holds.
const pruneLockID = 0x7468_6f75_7072 // "thoupr"

type pruner struct {
	pool    *pgxpool.Pool
	cfg     Retention
	log     *slog.Logger
	deleted *prometheus.CounterVec
}

func newPruner(pool *pgxpool.Pool, cfg Retention, log *slog.Logger, reg prometheus.Registerer) (*pruner, error) {
	p := &pruner{pool: pool, cfg: cfg, log: log}
	deleted := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "thoughts_retention_deleted_rows_total",
		Help: "Rows deleted by the retention pruner, by table.",
	}, []string{"table"})
	if reg != nil {
		if err := reg.Register(deleted); err != nil {
			return nil, fmt.Errorf("register retention metric: %w", err)
		}
	}
	p.deleted = deleted
	return p, nil
}

// run prunes every interval until ctx is done.
func (p *pruner) run(ctx context.Context) {
	t := time.NewTicker(p.cfg.interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := p.pass(ctx); err != nil && ctx.Err() == nil {
			// The next pass tries again (the database may be down).
			p.log.WarnContext(ctx, "retention pass failed", "err", err)
		}
	}
}

// pass prunes once, unless another process is pruning.
func (p *pruner) pass(ctx context.Context) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, pruneLockID).Scan(&got); err != nil {
		return fmt.Errorf("retention: take lock: %w", err)
	}
	if !got {
		return nil
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, pruneLockID); err != nil {
			// Ending the session releases the lock.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	start := time.Now()
	batch := p.cfg.batchSize()
	// Every statement runs on the lock's connection: taking a second from
	// the pool while holding this one could wait for ever on a pool whose
	// other connections are all held by callers waiting in turn for one.
	deleted, err := pubsub.PruneTopics(ctx, conn, batch)
	total := int64(0)
	for topic, n := range deleted {
		if n > 0 {
			p.deleted.WithLabelValues(topic).Add(float64(n))
			total += n
		}
	}
	if err != nil {
		return err
	}
	n, err := postgres.PruneNotifications(ctx, conn, p.cfg.notifications(), time.Now(), batch)
	if n > 0 {
		p.deleted.WithLabelValues("notifications").Add(float64(n))
		total += n
	}
	if err != nil {
		return err
	}
	if total > 0 {
		p.log.DebugContext(ctx, "retention pass", "deleted_rows", total, "took", time.Since(start))
	}
	return nil
}
