package pubsub_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
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
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
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

// scrape collects c once and returns a reader of its gauges; ok is false for
// a gauge the scrape did not report.
func scrape(t *testing.T, c prometheus.Collector) func(name, consumer string) (v float64, ok bool) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return func(name, consumer string) (float64, bool) {
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
}

// lag reads consumer's outbox lag from one scrape of c, failing the test if
// the scrape did not report it or reported an error (a lag it could not read
// is reported as 0).
func lag(t *testing.T, c prometheus.Collector, consumer string) float64 {
	t.Helper()
	gauge := scrape(t, c)
	v, ok := gauge("thoughts_outbox_lag_seconds", consumer)
	if !ok {
		t.Fatalf("no thoughts_outbox_lag_seconds for %s", consumer)
	}
	if failed, ok := gauge("thoughts_event_metrics_scrape_error", ""); !ok || failed != 0 {
		t.Fatalf("scrape error gauge = %v (reported: %v)", failed, ok)
	}
	return v
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
	if got := lag(t, c, pubsub.ForwarderConsumerGroup); got != 0 {
		t.Fatalf("lag with an empty outbox = %v", got)
	}
	commit(t, db, outbox.Forward)
	eventually(t, "lag grows while nothing relays", func() bool { return lag(t, c, pubsub.ForwarderConsumerGroup) >= 0.2 })
	fwd, err := b.Forwarder(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fwd.Run(context.Background()) }()
	defer func() {
		fwd.Close()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("forwarder still running 30 s after Close")
		}
	}()
	eventually(t, "lag back to 0 once relayed", func() bool { return lag(t, c, pubsub.ForwarderConsumerGroup) == 0 })
	gauge := scrape(t, c)
	if size, ok := gauge("thoughts_poison_queue_messages", ""); !ok || size != 0 {
		t.Errorf("poison queue size = %v, %v", size, ok)
	}
	if failed, ok := gauge("thoughts_event_metrics_scrape_error", ""); !ok || failed != 0 {
		t.Errorf("scrape error gauge = %v (reported: %v)", failed, ok)
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
	eventually(t, "lag grows while the handler reads nothing", func() bool { return lag(t, c, "h") >= 0.2 })
	sub, err := b.Subscriber(subs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ch, err := sub.Subscribe(context.Background(), events.TopicLikeAdded)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed before the committed event came")
		}
		m.Ack()
	case <-time.After(45 * time.Second): // see eventually
		t.Fatal("committed event never delivered")
	}
	eventually(t, "lag back to 0 once consumed", func() bool { return lag(t, c, "h") == 0 })
}

// TestRetire: retiring a handler's subscription removes its durable consumer
// (NATS) or its consumer group's offsets (Postgres), which would otherwise
// keep the topic's events forever; other handlers' are left alone, and
// retiring again, or what never existed, is a no-op.
func TestRetire(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{pubsub.NATS, pubsub.Postgres} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b, db := open(t, backend)
			topic := events.TopicLikeAdded
			subs := []pubsub.Subscription{
				{Handler: "stays", Topics: []string{topic}, AckWait: 5 * time.Second},
				{Handler: "goes", Topics: []string{topic, events.TopicBoostAdded}, AckWait: 5 * time.Second},
			}
			if err := b.Provision(ctx, subs); err != nil {
				t.Fatal(err)
			}
			has := func(handler string) bool {
				t.Helper()
				if backend == pubsub.NATS {
					_, err := b.JetStream().PushConsumer(ctx, natsadapter.StreamName(topic), natsadapter.DurableName(handler, topic))
					if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
						t.Fatal(err)
					}
					return err == nil
				}
				var n int
				if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+outbox.OffsetsTableName(topic)+` WHERE consumer_group = $1`, handler).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n == 1
			}
			if !has("stays") || !has("goes") {
				t.Fatal("provisioning made no consumer for a handler")
			}
			for range 2 {
				if err := b.Retire(ctx, []pubsub.Subscription{{Handler: "goes", Topics: []string{topic}}, {Handler: "never", Topics: []string{"no.such.topic"}}}); err != nil {
					t.Fatal(err)
				}
			}
			if has("goes") {
				t.Error("the retired subscription is still there")
			}
			if !has("stays") {
				t.Error("retiring one handler's subscription removed another's")
			}
		})
	}
}
