package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
	"github.com/thoughts-project/thoughts/service"
)

// commit appends envs through the unit of work, in batches of one
// transaction each, as commands do.
func (r *rig) commit(batches ...[]events.Envelope) {
	r.t.Helper()
	uow := r.unitOfWork()
	for _, envs := range batches {
		if err := uow.InTx(context.Background(), func(ctx context.Context, tx command.Tx) error { return tx.Publish(ctx, envs...) }); err != nil {
			r.t.Fatal(err)
		}
	}
}

// TestBrokerOutageEventsWaitInOutbox: with the NATS server down, writes still
// commit (their events wait in the outbox); when it returns, on the same port
// and store, the backlog drains to the handlers.
func TestBrokerOutageEventsWaitInOutbox(t *testing.T) {
	t.Parallel()
	srv := startNATSServer(t)
	r := newRig(t, backendKind{"nats-external", func(_ *testing.T, cfg *service.Config) {
		cfg.EventsBackend, cfg.NATSURL = pubsub.NATS, srv.url()
	}})
	rec := newRecorder()
	r.start([]router.Handler{onLikes("outage", func(ctx context.Context, env events.Envelope) error {
		rec.succeed(env)
		return nil
	})})
	before := like("corr-before")
	r.commit([]events.Envelope{before})
	eventually(t, patience, "event before the outage handled", func() bool { return rec.wasHandled(before.ID) })

	srv.kill()
	var during []events.Envelope
	for range 5 {
		env := like("corr-during")
		during = append(during, env)
		r.commit([]events.Envelope{env}) // the API's writes keep committing
	}
	var waiting int
	if err := r.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+outbox.TableName(outbox.ForwarderTopic)).Scan(&waiting); err != nil || waiting != 6 {
		t.Fatalf("outbox rows = %d, %v; want 6", waiting, err)
	}
	srv.start()
	eventually(t, 60*time.Second, "backlog drained after the broker returned", func() bool {
		for _, env := range during {
			if !rec.wasHandled(env.ID) {
				return false
			}
		}
		return true
	})
}

// TestNoLossNoDuplicateEffectsAcrossAbruptStop: 1,000 events committed through
// the outbox; the router is stopped abruptly part-way (context cancelled, no
// time to drain) and restarted; every event is handled and an idempotent
// handler records each effect once, however many deliveries there were.
func TestNoLossNoDuplicateEffectsAcrossAbruptStop(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		if _, err := r.db.Pool.Exec(ctx, `CREATE TABLE test_effects (event_id uuid PRIMARY KEY);
			CREATE TABLE test_attempts (event_id uuid NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		ledger := router.Handler{Name: "ledger", Events: []events.Event{events.LikeAdded{}}, Handle: func(ctx context.Context, env events.Envelope) error {
			// Every delivery is counted, even one interrupted by the stop.
			if _, err := r.db.Pool.Exec(context.WithoutCancel(ctx), `INSERT INTO test_attempts (event_id) VALUES ($1)`, env.ID); err != nil {
				return err
			}
			// The effect is idempotent by event ID.
			_, err := r.db.Pool.Exec(ctx, `INSERT INTO test_effects (event_id) VALUES ($1) ON CONFLICT DO NOTHING`, env.ID)
			return err
		}}
		count := func(table string) int {
			var n int
			if err := r.db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		const total = 1000
		var published []uuid.UUID
		var batches [][]events.Envelope
		for range total / 100 {
			var batch []events.Envelope
			for range 100 {
				env := like("corr-ledger")
				batch = append(batch, env)
				published = append(published, env.ID)
			}
			batches = append(batches, batch)
		}
		runCtx, cancel := context.WithCancel(ctx)
		first := r.start([]router.Handler{ledger}, routerOpts{ctx: runCtx, closeTimeout: time.Millisecond})
		r.commit(batches...)
		eventually(t, patience, "a third handled before the stop", func() bool { return count("test_effects") >= total/3 })
		cancel()
		_ = first.Close() // times out at once: in-flight messages are abandoned
		stoppedAt := count("test_effects")

		r.start([]router.Handler{ledger})
		eventually(t, testPolicy.AckWait()+patience, "every event handled after the restart", func() bool { return count("test_effects") == total })
		var missing int
		if err := r.db.Pool.QueryRow(ctx, `SELECT count(*) FROM unnest($1::uuid[]) id WHERE NOT EXISTS (SELECT 1 FROM test_effects e WHERE e.event_id = id)`, published).Scan(&missing); err != nil {
			t.Fatal(err)
		}
		attempts := count("test_attempts")
		t.Logf("stopped at %d/%d; %d deliveries for %d events (%d redelivered)", stoppedAt, total, attempts, total, attempts-total)
		if missing != 0 || count("test_effects") != total || attempts < total {
			t.Errorf("missing %d, effects %d, attempts %d", missing, count("test_effects"), attempts)
		}
	})
}
