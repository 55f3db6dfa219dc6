package router_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/auth"
	natsadapter "github.com/thoughts-project/thoughts/adapters/nats"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
)

// TestNotificationsSurviveAbruptStop is the no-loss, no-duplicate test with
// the real notification handler: 1,000 LikeAdded events committed through the
// outbox; the router notifies a third, then stores each next notification but
// holds its delivery unacked until the abrupt stop; a new router gets those
// events again. Every event yields exactly one notification, counted per
// event in the real table: a redelivery after the effect adds nothing.
//
// Run twice: with the handler's batch path (the router gathers the events in
// flight and the handler stores each batch's notifications with one
// statement; the first router holds a whole batch after storing it, a crash
// mid-batch) and with every event handled alone.
func TestNotificationsSurviveAbruptStop(t *testing.T) {
	t.Parallel()
	for _, batched := range []bool{true, false} {
		name := "alone"
		if batched {
			name = "batched"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			notificationsSurviveAbruptStop(t, batched)
		})
	}
}

func notificationsSurviveAbruptStop(t *testing.T, batched bool) {
	eachBackend(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		hasher, err := auth.NewArgon2Hasher(auth.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32})
		if err != nil {
			t.Fatal(err)
		}
		uow := r.unitOfWork()
		application := app.New(app.Deps{UoW: uow, Hasher: hasher, Reads: postgres.NewReadModel(r.db.Pool)})

		// An author with a thought, and likers.
		now := time.Now().UTC().Truncate(time.Microsecond)
		mkUser := func(name string) domain.User {
			u, err := domain.NewUser(uuid.Must(uuid.NewV7()), name, name+"@example.com", "x", now)
			if err != nil {
				t.Fatal(err)
			}
			if err := uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return tx.Users().Create(ctx, u) }); err != nil {
				t.Fatal(err)
			}
			return u
		}
		author := mkUser("author")
		var likers []domain.User
		for i := range 10 {
			likers = append(likers, mkUser("liker"+string(rune('a'+i))))
		}
		th, err := application.Commands.PostThought.Handle(ctx, command.PostThought{AuthorID: author.ID, Draft: domain.ThoughtDraft{Content: "like me"}})
		if err != nil {
			t.Fatal(err)
		}

		var attempts, batchCalls atomic.Int64
		// The real handler, as the handler list binds it, counting attempts.
		notify := router.Handlers(app.Deps{UoW: uow})[0]
		handle, handleBatch := notify.Handle, notify.HandleBatch
		if handleBatch == nil {
			t.Fatal("the notifications handler has no batch path")
		}
		notify.Handle = func(ctx context.Context, env events.Envelope) error {
			attempts.Add(1)
			return handle(ctx, env)
		}
		notify.HandleBatch = nil
		if batched {
			notify.HandleBatch = func(ctx context.Context, envs []events.Envelope) error {
				attempts.Add(int64(len(envs)))
				batchCalls.Add(1)
				return handleBatch(ctx, envs)
			}
		}
		count := func() int {
			var n int
			if err := r.db.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE recipient_id = $1 AND type = 'like'`, author.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		const total = 1000
		var published []uuid.UUID
		var batches [][]events.Envelope
		for b := range total / 100 {
			var batch []events.Envelope
			for i := range 100 {
				liker := likers[(b*100+i)%len(likers)]
				env := events.New(events.WithCorrelationID(ctx, "corr-noloss"), liker.ID,
					events.LikeAdded{LikeID: uuid.Must(uuid.NewV7()), UserID: liker.ID, ThoughtID: th.ID}, now)
				batch = append(batch, env)
				published = append(published, env.ID)
			}
			batches = append(batches, batch)
		}

		// The first router notifies a third; after that it stores each
		// notification and holds the delivery, never acked, until the stop.
		var notifiedFirst, held, notifiedAgain idSet
		firstNotify := notify
		firstNotify.Handle = func(ctx context.Context, env events.Envelope) error {
			if err := notify.Handle(ctx, env); err != nil {
				return err
			}
			if notifiedFirst.len() >= total/3 {
				held.add(env.ID)
				return holdUntilStop(ctx)
			}
			notifiedFirst.add(env.ID)
			return nil
		}
		secondNotify := notify
		secondNotify.Handle = func(ctx context.Context, env events.Envelope) error {
			err := notify.Handle(ctx, env)
			if err == nil {
				notifiedAgain.add(env.ID)
			}
			return err
		}
		if batched {
			// The first router stores a whole batch, then holds every
			// delivery in it until the stop.
			firstNotify.HandleBatch = func(ctx context.Context, envs []events.Envelope) error {
				if err := notify.HandleBatch(ctx, envs); err != nil {
					return err
				}
				if notifiedFirst.len() >= total/3 {
					for _, env := range envs {
						held.add(env.ID)
					}
					return holdUntilStop(ctx)
				}
				for _, env := range envs {
					notifiedFirst.add(env.ID)
				}
				return nil
			}
			secondNotify.HandleBatch = func(ctx context.Context, envs []events.Envelope) error {
				err := notify.HandleBatch(ctx, envs)
				if err == nil {
					for _, env := range envs {
						notifiedAgain.add(env.ID)
					}
				}
				return err
			}
		}
		runCtx, cancel := context.WithCancel(ctx)
		first := r.start([]router.Handler{firstNotify}, routerOpts{ctx: runCtx, closeTimeout: time.Millisecond})
		r.commit(batches...)
		eventually(t, patience, "a third notified, then a delivery held", func() bool { return notifiedFirst.len() >= total/3 && held.len() > 0 })
		cancel()
		if err := first.Close(); err != nil { // in-flight messages are abandoned unacked
			t.Logf("first router: %v", err)
		}
		stoppedAt := count()
		if stoppedAt == 0 || stoppedAt >= total {
			t.Fatalf("stopped with %d of %d notifications stored; want part-way", stoppedAt, total)
		}

		r.start([]router.Handler{secondNotify})
		var notRedelivered []uuid.UUID
		var stored int
		// A delivery the stop interrupted comes back after AckWait, or, if
		// it was nacked, after the subscriber's backoff for its delivery
		// count: up to a minute (pubsub: MaxNakDelay) for one delivered
		// many times while the first router held it.
		wait := testPolicy.AckWait() + time.Minute + patience
		deadline := time.Now().Add(wait)
		for {
			notRedelivered = notRedelivered[:0]
			for _, id := range held.list() {
				if !notifiedAgain.has(id) {
					notRedelivered = append(notRedelivered, id)
				}
			}
			if stored = count(); len(notRedelivered) == 0 && stored >= total {
				break
			}
			if time.Now().After(deadline) {
				// Say which part failed: a held delivery never handed to
				// the second router, or an event never notified at all.
				t.Fatalf("after %s: %d of %d notifications stored; %d of %d held deliveries not delivered again (e.g. %v); %d poisoned; logged: %d failed, %d interrupted by shutdown; %s",
					wait, stored, total, len(notRedelivered), held.len(), notRedelivered[:min(3, len(notRedelivered))], len(r.poisoned()),
					len(r.logs.records("handler failed")), len(r.logs.records("handler interrupted by shutdown; the event will be delivered again")),
					r.consumerState(notify.Name, events.TopicLikeAdded))
			}
			time.Sleep(10 * time.Millisecond)
		}
		// Per published event, its notifications in the real table.
		var missing, repeated, rows int
		if err := r.db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE n > 1),
			(SELECT count(*) FROM notifications WHERE recipient_id = $2)
			FROM (SELECT (SELECT count(*) FROM notifications n WHERE n.event_id = p.id) AS n FROM unnest($1::uuid[]) AS p(id)) per_event`,
			published, author.ID).Scan(&missing, &repeated, &rows); err != nil {
			t.Fatal(err)
		}
		t.Logf("stopped at %d/%d with %d deliveries held after their notification; %d deliveries for %d events, %d batches", stoppedAt, total, held.len(), attempts.Load(), total, batchCalls.Load())
		if batched && (batchCalls.Load() == 0 || batchCalls.Load() >= attempts.Load()) {
			t.Errorf("%d batches for %d deliveries: the events were not batched", batchCalls.Load(), attempts.Load())
		}
		if missing != 0 || repeated != 0 || rows != total {
			t.Errorf("events without a notification %d, with more than one %d; the author has %d notifications, want %d", missing, repeated, rows, total)
		}
		if p := r.poisoned(); len(p) != 0 {
			t.Errorf("poisoned %d messages: %+v", len(p), p)
		}
	})
}

// consumerState describes where handler's messages of topic are, for a
// failure message: on NATS, the rows the forwarder has not relayed and the
// durable consumer's pending, unacked and redelivered counts; on Postgres,
// the rows after the group's offset.
func (r *rig) consumerState(handler, topic string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rowsAfter := func(topic, group string) string {
		var n int
		if err := r.db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+outbox.TableName(topic)+` m
			WHERE m."offset" > coalesce((SELECT max(offset_acked) FROM `+outbox.OffsetsTableName(topic)+` WHERE consumer_group = $1), 0)`, group).Scan(&n); err != nil {
			return fmt.Sprintf("offsets of %s: %v", group, err)
		}
		return fmt.Sprintf("%d rows after %s's offset", n, group)
	}
	if !r.nats() {
		return rowsAfter(topic, handler)
	}
	fwd := rowsAfter(outbox.ForwarderTopic, pubsub.ForwarderConsumerGroup)
	c, err := r.backend.JetStream().PushConsumer(ctx, natsadapter.StreamName(topic), natsadapter.DurableName(handler, topic))
	if err != nil {
		return fmt.Sprintf("outbox: %s; consumer %s: %v", fwd, handler, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return fmt.Sprintf("outbox: %s; consumer %s: %v", fwd, handler, err)
	}
	return fmt.Sprintf("outbox: %s; JetStream consumer %s: %d not yet delivered, %d delivered and not acked, %d redelivered",
		fwd, info.Name, info.NumPending, info.NumAckPending, info.NumRedelivered)
}
