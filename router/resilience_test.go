package router_test

import (
	"context"
	"fmt"
	"sync"
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

// TestNoLossAcrossAbruptStop: 1,000 events committed through the outbox; the
// router handles a third of them, then holds the deliveries it gets, so the
// abrupt stop (context cancelled, no time to drain) finds messages in flight;
// a new router then handles every event, the interrupted ones included.
// Delivery is at least once: the ledger has no key, so it shows an event
// handled twice rather than hiding it. Repeats are expected (a Postgres
// consumer replays its unfinished batch) and reported, not forbidden; that a
// real handler turns them into one effect is TestNotificationsSurviveAbruptStop.
func TestNoLossAcrossAbruptStop(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		// One row per delivery that reached the handler's effect.
		if _, err := r.db.Pool.Exec(ctx, `CREATE TABLE test_effects (event_id uuid NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		ledger := router.Handler{Name: "ledger", Events: []events.Event{events.LikeAdded{}}, Handle: func(ctx context.Context, env events.Envelope) error {
			_, err := r.db.Pool.Exec(ctx, `INSERT INTO test_effects (event_id) VALUES ($1)`, env.ID)
			return err
		}}
		handledEvents := func() int {
			var n int
			if err := r.db.Pool.QueryRow(ctx, `SELECT count(DISTINCT event_id) FROM test_effects`).Scan(&n); err != nil {
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

		// The first router records a third, then holds each delivery, before
		// its effect, until the stop.
		var handledFirst, held idSet
		firstLedger := ledger
		firstLedger.Handle = func(ctx context.Context, env events.Envelope) error {
			if handledFirst.len() >= total/3 {
				held.add(env.ID)
				return holdUntilStop(ctx)
			}
			if err := ledger.Handle(ctx, env); err != nil {
				return err
			}
			handledFirst.add(env.ID)
			return nil
		}
		runCtx, cancel := context.WithCancel(ctx)
		first := r.start([]router.Handler{firstLedger}, routerOpts{ctx: runCtx, closeTimeout: time.Millisecond})
		r.commit(batches...)
		eventually(t, patience, "a third handled, then a delivery held", func() bool { return handledFirst.len() >= total/3 && held.len() > 0 })
		cancel()
		if err := first.Close(); err != nil { // times out at once: in-flight messages are abandoned
			t.Logf("first router: %v", err)
		}
		stoppedAt := handledEvents()
		if stoppedAt == 0 || stoppedAt >= total {
			t.Fatalf("stopped after %d of %d events were handled; want part-way", stoppedAt, total)
		}

		// The held deliveries never reached the ledger: only a redelivery can
		// complete the count.
		r.start([]router.Handler{ledger})
		eventually(t, testPolicy.AckWait()+patience, "every event handled after the restart, the held ones included", func() bool { return handledEvents() == total })
		var missing, deliveries, repeated int
		if err := r.db.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM unnest($1::uuid[]) AS p(id) WHERE NOT EXISTS (SELECT 1 FROM test_effects e WHERE e.event_id = p.id)),
			(SELECT count(*) FROM test_effects),
			(SELECT count(*) FROM (SELECT event_id FROM test_effects GROUP BY event_id HAVING count(*) > 1) r)`, published).Scan(&missing, &deliveries, &repeated); err != nil {
			t.Fatal(err)
		}
		t.Logf("stopped at %d/%d handled with %d deliveries held; %d deliveries reached the ledger, %d events twice or more", stoppedAt, total, held.len(), deliveries, repeated)
		if missing != 0 {
			t.Errorf("%d of %d events never handled", missing, total)
		}
		if p := r.poisoned(); len(p) != 0 {
			t.Errorf("poisoned %d messages; an interrupted delivery is not a failure: %+v", len(p), p)
		}
	})
}

// holdUntilStop keeps a delivery in flight until the router stops (its
// context is cancelled), then gives it back as a stop does: an error wrapping
// context.Canceled is neither retried nor poisoned, and the message is nacked.
// Should the attempt's timeout come first (a stalled machine), it is given
// back the same way and comes round again.
func holdUntilStop(ctx context.Context) error {
	<-ctx.Done()
	return fmt.Errorf("held until the router stopped: %w", context.Canceled)
}

// idSet is a set of event IDs that concurrent handlers share.
type idSet struct {
	mu  sync.Mutex
	ids map[uuid.UUID]bool
}

func (s *idSet) add(id uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[uuid.UUID]bool{}
	}
	s.ids[id] = true
}

func (s *idSet) has(id uuid.UUID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}

func (s *idSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func (s *idSet) list() []uuid.UUID {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]uuid.UUID, 0, len(s.ids))
	for id := range s.ids {
		out = append(out, id)
	}
	return out
}
