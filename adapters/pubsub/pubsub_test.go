package pubsub_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	natsadapter "github.com/thoughts-project/thoughts/adapters/nats"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/events"
)

var quiet = slog.New(slog.DiscardHandler)

func open(t *testing.T, backend string) (*pubsub.Backend, pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	cfg, _ := pgxpool.ParseConfig(db.URL)
	cfg.MaxConns = 3
	subPool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(subPool.Close)
	var dial natsadapter.Dialer
	if backend == pubsub.NATS {
		e, err := natsadapter.StartEmbedded(t.TempDir(), quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Shutdown)
		dial = e.Dial
	}
	b, err := pubsub.Open(pubsub.Config{Backend: backend, Pool: db.Pool, SubscriberPool: subPool, Dial: dial,
		PoisonTopic: "thoughts.poison", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, db
}

func commit(t *testing.T, db pgtest.DB, mode outbox.Mode) events.Envelope {
	t.Helper()
	uow, err := postgres.NewUnitOfWork(db.Pool, outbox.New(mode, nil))
	if err != nil {
		t.Fatal(err)
	}
	actor := uuid.Must(uuid.NewV7())
	env := events.New(context.Background(), actor, events.LikeAdded{LikeID: uuid.New(), UserID: actor, ThoughtID: uuid.New()}, time.Now())
	if err := uow.InTx(context.Background(), func(ctx context.Context, tx command.Tx) error { return tx.Publish(ctx, env) }); err != nil {
		t.Fatal(err)
	}
	return env
}

// gauge reads one gauge from c; ok is false if c did not report it.
func gauge(t *testing.T, c prometheus.Collector, name, consumer string) (float64, bool) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if consumer == "" || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == consumer) {
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second) // generous: see router/backends_test.go patience
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestForwarderLagMetric: the outbox lag is the age of the oldest committed
// event the forwarder has not relayed, and returns to 0 once it has.
func TestForwarderLagMetric(t *testing.T) {
	t.Parallel()
	b, db := open(t, pubsub.NATS)
	if err := b.Provision(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	c := b.Collector(nil)
	if lag, ok := gauge(t, c, "thoughts_outbox_lag_seconds", pubsub.ForwarderConsumerGroup); !ok || lag != 0 {
		t.Fatalf("lag with an empty outbox = %v, %v", lag, ok)
	}
	commit(t, db, outbox.Forward)
	eventually(t, "lag grows while nothing relays", func() bool {
		lag, _ := gauge(t, c, "thoughts_outbox_lag_seconds", pubsub.ForwarderConsumerGroup)
		return lag >= 0.2
	})
	fwd, err := b.Forwarder(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fwd.Run(context.Background()) }()
	defer func() { fwd.Close(); <-done }()
	eventually(t, "lag back to 0 once relayed", func() bool {
		lag, _ := gauge(t, c, "thoughts_outbox_lag_seconds", pubsub.ForwarderConsumerGroup)
		return lag == 0
	})
	if size, ok := gauge(t, c, "thoughts_poison_queue_messages", ""); !ok || size != 0 {
		t.Errorf("poison queue size = %v, %v", size, ok)
	}
	if failed, _ := gauge(t, c, "thoughts_event_metrics_scrape_error", ""); failed != 0 {
		t.Error("scrape reported an error")
	}
}

// TestHandlerLagMetricOnPostgres: on Postgres the lag is each handler's
// (consumer group's) over its topics.
func TestHandlerLagMetricOnPostgres(t *testing.T) {
	t.Parallel()
	b, db := open(t, pubsub.Postgres)
	subs := []pubsub.Subscription{{Handler: "h", Topics: []string{events.TopicLikeAdded, events.TopicBoostAdded}, AckWait: 5 * time.Second}}
	if err := b.Provision(context.Background(), subs); err != nil {
		t.Fatal(err)
	}
	c := b.Collector(subs)
	commit(t, db, outbox.Direct)
	eventually(t, "lag grows while the handler reads nothing", func() bool {
		lag, _ := gauge(t, c, "thoughts_outbox_lag_seconds", "h")
		return lag >= 0.2
	})
	sub, err := b.Subscriber(subs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ch, err := sub.Subscribe(context.Background(), events.TopicLikeAdded)
	if err != nil {
		t.Fatal(err)
	}
	(<-ch).Ack()
	eventually(t, "lag back to 0 once consumed", func() bool {
		lag, _ := gauge(t, c, "thoughts_outbox_lag_seconds", "h")
		return lag == 0
	})
}
