package pubsub_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
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
	return openWith(t, backend, func(*pubsub.Config) {})
}

// openWith is open with the configuration changed by adjust.
func openWith(t *testing.T, backend string, adjust func(*pubsub.Config)) (*pubsub.Backend, pgtest.DB) {
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
	bcfg := pubsub.Config{Backend: backend, Pool: db.Pool, SubscriberPool: subPool, Dial: dial,
		PoisonTopic: "thoughts.poison", Logger: quiet}
	adjust(&bcfg)
	b, err := pubsub.Open(bcfg)
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

// subscribeLikes subscribes s's handler to the likes topic until the test
// ends.
func subscribeLikes(t *testing.T, b *pubsub.Backend, s pubsub.Subscription) <-chan *message.Message {
	t.Helper()
	sub, err := b.Subscriber(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	ch, err := sub.Subscribe(context.Background(), events.TopicLikeAdded)
	if err != nil {
		t.Fatal(err)
	}
	return ch
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
	ch := subscribeLikes(t, b, subs[0])
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

// TestIdleConsumerWakesOnCommit: an idle Postgres consumer, whose next poll
// is a minute away, reads a committed event at once when it is woken: by the
// database's announcement (a committing process elsewhere, AnnounceOn) or,
// in the committing process, directly (WakeLocally, no announcement at all).
func TestIdleConsumerWakesOnCommit(t *testing.T) {
	t.Parallel()
	for name, wire := range map[string]func(*outbox.Outbox, *pubsub.Backend, pgtest.DB){
		"announced":  func(ob *outbox.Outbox, _ *pubsub.Backend, db pgtest.DB) { ob.AnnounceOn(db.Pool, quiet) },
		"in process": func(ob *outbox.Outbox, b *pubsub.Backend, _ pgtest.DB) { ob.WakeLocally(b.Wake) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const poll = time.Minute
			b, db := openWith(t, pubsub.Postgres, func(c *pubsub.Config) {
				c.PollInterval, c.MaxPollInterval, c.IdlePollInterval = poll, poll, poll
			})
			subs := []pubsub.Subscription{{Handler: "h", Topics: []string{events.TopicLikeAdded}, AckWait: 30 * time.Second}}
			if err := b.Provision(context.Background(), subs); err != nil {
				t.Fatal(err)
			}
			ch := subscribeLikes(t, b, subs[0])
			// The consumer's first poll finds nothing; it then waits a minute
			// unless woken. The listener must be up for an announcement to
			// reach it.
			eventually(t, "listener up", b.Listening)
			time.Sleep(200 * time.Millisecond)

			ob := outbox.New(outbox.Direct, nil)
			wire(ob, b, db)
			uow, err := postgres.NewUnitOfWork(db.Pool, ob)
			if err != nil {
				t.Fatal(err)
			}
			// A read finds a row only once every older write transaction on
			// the server has ended (tests running beside this one have
			// theirs), so one wake-up may find nothing: commit one event
			// every 200 ms, each waking the consumer, until one is read.
			// Without wake-ups nothing is read before the minute's poll.
			stop, exited := make(chan struct{}), make(chan struct{})
			first := make(chan string, 1)
			go func() {
				defer close(exited)
				for i := 0; ; i++ {
					actor := uuid.Must(uuid.NewV7())
					env := events.New(context.Background(), actor, events.LikeAdded{LikeID: uuid.New(), UserID: actor, ThoughtID: uuid.New()}, time.Now())
					if err := uow.InTx(context.Background(), func(ctx context.Context, tx command.Tx) error { return tx.Publish(ctx, env) }); err != nil {
						t.Error(err)
						return
					}
					if i == 0 {
						first <- env.ID.String()
					}
					select {
					case <-stop:
						return
					case <-time.After(200 * time.Millisecond):
					}
				}
			}()
			defer func() {
				close(stop)
				<-exited
			}()
			var want string
			select {
			case want = <-first:
			case <-exited:
				t.Fatal("the first commit failed")
			}
			committed := time.Now()
			select {
			case m := <-ch:
				m.Ack()
				if m.UUID != want {
					t.Fatalf("read %s first, want the first committed event %s", m.UUID, want)
				}
				t.Logf("read %v after the commit", time.Since(committed).Round(time.Millisecond))
			case <-time.After(20 * time.Second):
				t.Fatal("no committed event read within 20 s: the consumer was not woken")
			}
		})
	}
}
