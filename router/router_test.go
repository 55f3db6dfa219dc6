package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	natsadapter "github.com/thoughts-project/thoughts/adapters/nats"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
)

func like(corr string) events.Envelope {
	ctx := events.WithCorrelationID(context.Background(), corr)
	actor := uuid.Must(uuid.NewV7())
	return events.New(ctx, actor, events.LikeAdded{LikeID: uuid.New(), UserID: actor, ThoughtID: uuid.New()}, time.Now())
}

// recorder observes a test handler: attempts, successes, concurrency.
type recorder struct {
	mu          sync.Mutex
	calls       map[uuid.UUID]int
	handled     map[uuid.UUID]events.Envelope
	ctxCorr     map[uuid.UUID]string
	inflight    map[uuid.UUID]int
	maxInflight int
}

func newRecorder() *recorder {
	return &recorder{calls: map[uuid.UUID]int{}, handled: map[uuid.UUID]events.Envelope{}, ctxCorr: map[uuid.UUID]string{}, inflight: map[uuid.UUID]int{}}
}

// enter counts an attempt and returns its number (1-based) and a func to
// call when it ends.
func (r *recorder) enter(ctx context.Context, env events.Envelope) (int, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[env.ID]++
	r.inflight[env.ID]++
	r.maxInflight = max(r.maxInflight, r.inflight[env.ID])
	r.ctxCorr[env.ID] = events.CorrelationID(ctx)
	return r.calls[env.ID], func() {
		r.mu.Lock()
		r.inflight[env.ID]--
		r.mu.Unlock()
	}
}

func (r *recorder) succeed(env events.Envelope) {
	r.mu.Lock()
	r.handled[env.ID] = env
	r.mu.Unlock()
}

func (r *recorder) callsOf(id uuid.UUID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

func (r *recorder) wasHandled(id uuid.UUID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.handled[id]
	return ok
}

func (r *recorder) handledCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.handled)
}

func (r *recorder) max() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxInflight
}

func onLikes(name string, fn func(ctx context.Context, env events.Envelope) error) router.Handler {
	return router.Handler{Name: name, Events: []events.Event{events.LikeAdded{}}, Handle: fn}
}

// TestRetriedHandlerSucceedsWithoutPoison: a handler failing twice then
// succeeding is retried, handled, and not poisoned.
func TestRetriedHandlerSucceedsWithoutPoison(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		rec := newRecorder()
		r.start([]router.Handler{onLikes("flaky", func(ctx context.Context, env events.Envelope) error {
			n, exit := rec.enter(ctx, env)
			defer exit()
			if n <= 2 {
				return errors.New("transient failure")
			}
			rec.succeed(env)
			return nil
		})})
		env := like("corr-flaky")
		r.publish(env)
		eventually(t, patience, "event handled after retries", func() bool { return rec.wasHandled(env.ID) })
		if got := rec.callsOf(env.ID); got != 3 {
			t.Errorf("attempts = %d, want 3 (two failures, one success)", got)
		}
		if p := r.poisoned(); len(p) != 0 {
			t.Errorf("poison queue = %+v, want empty", p)
		}
	})
}

// TestAlwaysFailingHandlerIsPoisoned: after its retries the message lands on
// the poison topic with UUID, payload and metadata intact, plus the reason,
// topic and handler.
func TestAlwaysFailingHandlerIsPoisoned(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		rec := newRecorder()
		r.start([]router.Handler{onLikes("broken", func(ctx context.Context, env events.Envelope) error {
			_, exit := rec.enter(ctx, env)
			defer exit()
			return errors.New("permanent failure: the database said no")
		})})
		env := like("corr-broken")
		r.publish(env)
		var entries []pubsub.PoisonEntry
		eventually(t, patience, "message poisoned", func() bool { entries = r.poisoned(); return len(entries) == 1 })
		e := entries[0]
		if got, want := rec.callsOf(env.ID), testPolicy.MaxRetries+1; got != want {
			t.Errorf("attempts = %d, want %d", got, want)
		}
		want, err := events.Marshal(env.Event)
		if err != nil {
			t.Fatal(err)
		}
		if e.EventID != env.ID.String() || !sameJSON(e.Payload, want) {
			t.Errorf("poisoned copy: id %s payload %s, want %s %s", e.EventID, e.Payload, env.ID, want)
		}
		if e.Topic != events.TopicLikeAdded || e.Handler != "broken" || e.EventType != "LikeAdded" || e.CorrelationID != "corr-broken" {
			t.Errorf("poisoned copy: topic %q handler %q type %q correlation %q", e.Topic, e.Handler, e.EventType, e.CorrelationID)
		}
		if !strings.Contains(e.Reason, "the database said no") || strings.ContainsAny(e.Reason, "\r\n") {
			t.Errorf("reason_poisoned = %q", e.Reason)
		}
		for _, k := range []string{"reason_poisoned", "topic_poisoned", "handler_poisoned", events.MetaOccurredAt, events.MetaActorID, events.MetaFirstPoisonedAt} {
			if e.Metadata[k] == "" {
				t.Errorf("poisoned copy lacks metadata %s: %v", k, e.Metadata)
			}
		}
		if e.FirstSeen.IsZero() || time.Since(e.FirstSeen) > time.Minute {
			t.Errorf("first seen = %v", e.FirstSeen)
		}
	})
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && jsonEqual(x, y)
}

func jsonEqual(x, y any) bool {
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(bx) == string(by)
}

// TestPanickingHandlerIsRetriedThenPoisoned: a panic is recovered, retried
// like an error, and finally poisoned.
func TestPanickingHandlerIsRetriedThenPoisoned(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		rec := newRecorder()
		r.start([]router.Handler{onLikes("panicky", func(ctx context.Context, env events.Envelope) error {
			_, exit := rec.enter(ctx, env)
			defer exit()
			panic("kaboom")
		})})
		env := like("corr-panic")
		r.publish(env)
		var entries []pubsub.PoisonEntry
		eventually(t, patience, "message poisoned", func() bool { entries = r.poisoned(); return len(entries) == 1 })
		if got, want := rec.callsOf(env.ID), testPolicy.MaxRetries+1; got != want {
			t.Errorf("attempts = %d, want %d", got, want)
		}
		if e := entries[0]; e.EventID != env.ID.String() || !strings.Contains(e.Reason, "panic") || !strings.Contains(e.Reason, "kaboom") || e.Handler != "panicky" {
			t.Errorf("poisoned copy: %+v", e)
		}
	})
}

// TestUndecodablePayloadIsPoisonedAtOnce: a payload that can never be decoded
// goes to the poison queue on its first attempt, never to the handler, and is
// never redelivered.
func TestUndecodablePayloadIsPoisonedAtOnce(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		rec := newRecorder()
		r.start([]router.Handler{onLikes("strict", func(ctx context.Context, env events.Envelope) error {
			_, exit := rec.enter(ctx, env)
			defer exit()
			rec.succeed(env)
			return nil
		})})
		bad := []*message.Message{
			message.NewMessage(uuid.NewString(), []byte(`{"type":"NoSuchEvent","data":{}}`)),
			message.NewMessage(uuid.NewString(), []byte(`[1,2,3]`)),
			message.NewMessage(uuid.NewString(), []byte(`{"type":"LikeAdded","data":{"like_id":"not a uuid"}}`)),
		}
		if r.nats() {
			// The Postgres tables store payloads as JSON; JetStream takes anything.
			bad = append(bad, message.NewMessage("not-a-uuid", []byte("\x00 not json")))
		}
		for _, m := range bad {
			m.Metadata.Set(events.MetaCorrelationID, "corr-undecodable")
			if err := r.pub.Publish(events.TopicLikeAdded, m); err != nil {
				t.Fatal(err)
			}
		}
		good := like("corr-good")
		r.publish(good) // after the bad ones: handled only once they are dealt with
		eventually(t, patience, "every undecodable message poisoned", func() bool { return len(r.poisoned()) == len(bad) })
		eventually(t, patience, "the good event handled", func() bool { return rec.wasHandled(good.ID) })
		if n := rec.handledCount(); n != 1 {
			t.Errorf("handler saw %d events, want only the good one", n)
		}
		// One attempt each: the router logs every decoding attempt.
		if n := len(r.logs.records("undecodable event; poisoning it")); n != len(bad) {
			t.Errorf("decoding attempts = %d, want %d (no retries, no redelivery)", n, len(bad))
		}
		for _, e := range r.poisoned() {
			if !strings.Contains(e.Reason, "undecodable") || e.CorrelationID != "corr-undecodable" || e.Topic != events.TopicLikeAdded {
				t.Errorf("poisoned copy: %+v", e)
			}
		}
	})
}

// TestNoParallelRedeliveryWhileRetrying: a message whose retries take several
// seconds is never delivered a second time while the first delivery is still
// being retried, nor after it succeeded. Rather than waiting out AckWait, the
// test waits until the backend has recorded the ack: from then on nothing can
// be delivered again.
func TestNoParallelRedeliveryWhileRetrying(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		rec := newRecorder()
		r.start([]router.Handler{onLikes("slowfail", func(ctx context.Context, env events.Envelope) error {
			n, exit := rec.enter(ctx, env)
			defer exit()
			time.Sleep(testPolicy.Timeout * 8 / 10) // each attempt takes most of its timeout
			if n <= 2 {
				return errors.New("slow failure")
			}
			rec.succeed(env)
			return nil
		})})
		env := like("corr-slow")
		r.publish(env)
		eventually(t, patience, "event handled", func() bool { return rec.wasHandled(env.ID) })
		settled := r.settledCheck("slowfail", events.TopicLikeAdded)
		var deliveries int
		eventually(t, testPolicy.AckWait()+patience, "the backend recorded the ack", func() bool {
			var ok bool
			ok, deliveries = settled()
			return ok
		})
		if got := rec.callsOf(env.ID); got != 3 {
			t.Errorf("attempts = %d, want 3: the broker redelivered a message in retry", got)
		}
		if r.nats() && deliveries != 1 {
			t.Errorf("the server delivered the message %d times, want once", deliveries)
		}
		if m := rec.max(); m != 1 {
			t.Errorf("the same message ran %d times concurrently", m)
		}
	})
}

// settledCheck returns a check of whether handler has acknowledged every
// message of topic, so that none can be delivered to it again, and of how
// many deliveries (redeliveries included) the NATS server made; Postgres does
// not count them (-1).
func (r *rig) settledCheck(handler, topic string) func() (settled bool, deliveries int) {
	r.t.Helper()
	ctx := context.Background()
	if !r.nats() {
		return func() (bool, int) {
			var settled bool
			err := r.db.Pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM `+outbox.TableName(topic)+` m
				WHERE (m.transaction_id, m."offset") > (o.last_processed_transaction_id, o.offset_acked))
				FROM `+outbox.OffsetsTableName(topic)+` o WHERE o.consumer_group = $1`, handler).Scan(&settled)
			if err != nil {
				r.t.Fatalf("read the offsets of %s: %v", handler, err)
			}
			return settled, -1
		}
	}
	js := r.backend.JetStream()
	return func() (bool, int) {
		c, err := js.PushConsumer(ctx, natsadapter.StreamName(topic), natsadapter.DurableName(handler, topic))
		if err != nil {
			r.t.Fatalf("consumer of %s: %v", handler, err)
		}
		info := c.CachedInfo()
		settled := info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0 && info.AckFloor.Consumer == info.Delivered.Consumer
		return settled, int(info.Delivered.Consumer)
	}
}

// TestCorrelationIDReachesHandlerLogsAndPoison: the correlation ID of the
// event reaches the handler's context, its log lines, and a poisoned copy.
func TestCorrelationIDReachesHandlerLogsAndPoison(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		rec := newRecorder()
		r.start([]router.Handler{
			onLikes("logger", func(ctx context.Context, env events.Envelope) error {
				_, exit := rec.enter(ctx, env)
				defer exit()
				r.log.InfoContext(ctx, "test handler at work")
				rec.succeed(env)
				return nil
			}),
			onLikes("refuser", func(ctx context.Context, env events.Envelope) error {
				return errors.New("no")
			}),
		})
		env := like("corr-followed-through")
		r.publish(env)
		eventually(t, patience, "handled and poisoned", func() bool { return rec.wasHandled(env.ID) && len(r.poisoned()) == 1 })
		rec.mu.Lock()
		ctxCorr, envCorr := rec.ctxCorr[env.ID], rec.handled[env.ID].CorrelationID
		rec.mu.Unlock()
		if ctxCorr != "corr-followed-through" || envCorr != "corr-followed-through" {
			t.Errorf("handler context correlation %q, envelope %q", ctxCorr, envCorr)
		}
		lines := r.logs.records("test handler at work")
		if len(lines) != 1 || lines[0]["correlation_id"] != "corr-followed-through" {
			t.Errorf("handler log lines = %v", lines)
		}
		if failed := r.logs.records("handler failed"); len(failed) == 0 || failed[0]["correlation_id"] != "corr-followed-through" ||
			failed[0]["handler"] != "refuser" || failed[0]["event_id"] != env.ID.String() {
			t.Errorf("router's failure log lines = %v", failed)
		}
		if e := r.poisoned()[0]; e.CorrelationID != "corr-followed-through" || e.Handler != "refuser" {
			t.Errorf("poisoned copy: %+v", e)
		}
	})
}

// TestTwoRoutersShareTheWork: two router processes running the same handler
// handle each event once between them.
func TestTwoRoutersShareTheWork(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		rec := newRecorder()
		var byRouter [2]atomic.Int64
		for i := range 2 {
			r.start([]router.Handler{onLikes("shared", func(ctx context.Context, env events.Envelope) error {
				_, exit := rec.enter(ctx, env)
				defer exit()
				time.Sleep(time.Millisecond)
				byRouter[i].Add(1)
				rec.succeed(env)
				return nil
			})})
		}
		const n = 60
		var envs []events.Envelope
		for range n {
			envs = append(envs, like("corr-shared"))
		}
		r.publish(envs...)
		eventually(t, patience, "every event handled", func() bool { return rec.handledCount() == n })
		for _, env := range envs {
			if c := rec.callsOf(env.ID); c != 1 {
				t.Errorf("event %s handled %d times", env.ID, c)
			}
		}
		t.Logf("router 1 handled %d, router 2 %d", byRouter[0].Load(), byRouter[1].Load())
		if r.nats() && (byRouter[0].Load() == 0 || byRouter[1].Load() == 0) {
			// On Postgres a consumer group reads serially (fail-over); on
			// NATS the queue group spreads the work.
			t.Errorf("one router did all the work: %d / %d", byRouter[0].Load(), byRouter[1].Load())
		}
	})
}

// TestFailingHandlerDoesNotStallAnother: a handler whose every event fails
// slowly does not hold up another handler of the same topic.
func TestFailingHandlerDoesNotStallAnother(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		healthy := newRecorder()
		r.start([]router.Handler{
			onLikes("struggling", func(ctx context.Context, env events.Envelope) error {
				time.Sleep(50 * time.Millisecond)
				return errors.New("dependency down")
			}),
			onLikes("healthy", func(ctx context.Context, env events.Envelope) error {
				healthy.succeed(env)
				return nil
			}),
		})
		const n = 20
		var envs []events.Envelope
		for range n {
			envs = append(envs, like("corr-isolation"))
		}
		r.publish(envs...)
		// The struggling handler needs ~0.3 s per event (three slow attempts
		// and pauses), ~6 s for all; the healthy one must not wait for it.
		eventually(t, patience, "healthy handler done", func() bool { return healthy.handledCount() == n })
		if p := len(r.poisoned()); p >= n {
			t.Errorf("the healthy handler finished only after the struggling one poisoned all %d events", p)
		}
		eventually(t, patience, "struggling handler's events poisoned", func() bool { return len(r.poisoned()) == n })
	})
}

// TestShutdownLeavesInFlightMessagesForRedelivery: closing the router
// interrupts a message in flight without acking it; the next router gets it.
func TestShutdownLeavesInFlightMessagesForRedelivery(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		rec := newRecorder()
		started, interrupted := make(chan struct{}), make(chan struct{})
		var startOnce, interruptOnce sync.Once
		first := r.start([]router.Handler{onLikes("patient", func(ctx context.Context, env events.Envelope) error {
			startOnce.Do(func() { close(started) })
			<-ctx.Done() // works until interrupted
			interruptOnce.Do(func() { close(interrupted) })
			return ctx.Err()
		})})
		env := like("corr-shutdown")
		r.publish(env)
		select {
		case <-started:
		case <-time.After(patience):
			t.Fatal("handler never started")
		}
		// Close waits for in-flight handlers up to its timeout, and reports
		// one it gave up on: no error means the handler was interrupted.
		if err := first.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		select {
		case <-interrupted:
		default:
			t.Error("Close returned while the handler was still at work")
		}
		r.start([]router.Handler{onLikes("patient", func(ctx context.Context, env events.Envelope) error {
			_, exit := rec.enter(ctx, env)
			defer exit()
			rec.succeed(env)
			return nil
		})})
		eventually(t, testPolicy.AckWait()+patience, "interrupted event redelivered to the next router", func() bool { return rec.wasHandled(env.ID) })
		if p := r.poisoned(); len(p) != 0 {
			t.Errorf("an interrupted message was poisoned: %+v", p)
		}
	})
}

// TestOutboxEventsReachHandlers: events committed through the unit of work
// and the outbox arrive intact (through the forwarder on NATS), and a relay
// repeated for the same event is dropped by JetStream's de-duplication.
func TestOutboxEventsReachHandlers(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		rec := newRecorder()
		r.start([]router.Handler{{Name: "e2e", Events: []events.Event{events.ThoughtCreated{}}, Handle: func(ctx context.Context, env events.Envelope) error {
			_, exit := rec.enter(ctx, env)
			defer exit()
			rec.succeed(env)
			return nil
		}}})
		uow := r.unitOfWork()
		ctx := events.WithCorrelationID(context.Background(), "corr-e2e")
		actor, parent := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
		env := events.New(ctx, actor, events.ThoughtCreated{ThoughtID: uuid.Must(uuid.NewV7()), UserID: actor, InReplyToID: &parent}, time.Now())
		commit := func(envs ...events.Envelope) {
			t.Helper()
			if err := uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return tx.Publish(ctx, envs...) }); err != nil {
				t.Fatal(err)
			}
		}
		commit(env)
		eventually(t, patience, "committed event handled", func() bool { return rec.wasHandled(env.ID) })
		rec.mu.Lock()
		got := rec.handled[env.ID]
		rec.mu.Unlock()
		ev, ok := got.Event.(events.ThoughtCreated)
		if !ok || ev.ThoughtID != env.Event.(events.ThoughtCreated).ThoughtID || ev.InReplyToID == nil || *ev.InReplyToID != parent {
			t.Errorf("event = %#v", got.Event)
		}
		if got.CorrelationID != "corr-e2e" || got.ActorID != actor || !got.OccurredAt.Equal(env.OccurredAt) {
			t.Errorf("envelope = %+v, want correlation corr-e2e, actor %s, occurred %s", got, actor, env.OccurredAt)
		}
		if !r.nats() {
			return
		}
		// The same event committed again, as a relay repeated after a crash
		// would send it: JetStream drops it.
		commit(env)
		sentinel := events.New(ctx, actor, events.ThoughtCreated{ThoughtID: uuid.Must(uuid.NewV7()), UserID: actor}, time.Now())
		commit(sentinel)
		eventually(t, patience, "sentinel handled", func() bool { return rec.wasHandled(sentinel.ID) })
		if c := rec.callsOf(env.ID); c != 1 {
			t.Errorf("repeated relay delivered: event handled %d times", c)
		}
	})
}

// TestPoisonedEventRequeuedIsProcessed: requeueing sends the poisoned event
// back to its topic (not dropped by JetStream's duplicate window, though its
// event ID was published moments before) and the handler processes it.
func TestPoisonedEventRequeuedIsProcessed(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		var broken atomic.Bool
		broken.Store(true)
		rec := newRecorder()
		r.start([]router.Handler{onLikes("fixable", func(ctx context.Context, env events.Envelope) error {
			_, exit := rec.enter(ctx, env)
			defer exit()
			if broken.Load() {
				return errors.New("bug not fixed yet")
			}
			rec.succeed(env)
			return nil
		})})
		env := like("corr-requeue")
		r.publish(env)
		eventually(t, patience, "poisoned", func() bool { return len(r.poisoned()) == 1 })
		ctx := context.Background()
		byEvent, err := r.backend.PoisonFind(ctx, env.ID.String())
		if err != nil || len(byEvent) != 1 {
			t.Fatalf("find by event ID: %v %v", byEvent, err)
		}
		bySeq, err := r.backend.PoisonFind(ctx, strconv.FormatUint(byEvent[0].Seq, 10))
		if err != nil || len(bySeq) != 1 || bySeq[0].EventID != env.ID.String() {
			t.Fatalf("find by entry number: %v %v", bySeq, err)
		}
		broken.Store(false) // the fix is deployed
		if err := r.backend.PoisonRequeue(ctx, bySeq[0]); err != nil {
			t.Fatal(err)
		}
		eventually(t, patience, "requeued event handled", func() bool { return rec.wasHandled(env.ID) })
		if p := r.poisoned(); len(p) != 0 {
			t.Errorf("poison queue after requeue: %+v", p)
		}
		rec.mu.Lock()
		if got := rec.handled[env.ID]; got.CorrelationID != "corr-requeue" {
			t.Errorf("requeued event lost its correlation ID: %+v", got)
		}
		rec.mu.Unlock()
		if _, err := r.backend.PoisonFind(ctx, env.ID.String()); !errors.Is(err, pubsub.ErrNoPoisonEntry) {
			t.Errorf("find after requeue: %v", err)
		}

		// Purge empties the queue.
		broken.Store(true)
		r.publish(like("corr-purge"), like("corr-purge"))
		eventually(t, patience, "two more poisoned", func() bool { return len(r.poisoned()) == 2 })
		n, err := r.backend.PoisonPurge(ctx)
		if err != nil || n != 2 {
			t.Fatalf("purge = %d, %v", n, err)
		}
		if size, err := r.backend.PoisonSize(ctx); err != nil || size != 0 {
			t.Errorf("size after purge = %d, %v", size, err)
		}
	})
}

// TestBusyHandlerDoesNotDelayOthersNewEvents: while one handler holds a
// message (a long retry, a slow call), events published meanwhile reach the
// other handlers at once. On Postgres this needs the consuming transaction to
// hold no transaction ID (see adapters/pubsub), or every consumer waits for it.
func TestBusyHandlerDoesNotDelayOthersNewEvents(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		// One attempt of up to 30 s: longer than another database's long
		// transaction on a shared test server is likely to hold everyone's
		// Postgres reads back.
		r.policy = router.Policy{MaxRetries: 0, InitialInterval: time.Millisecond, Multiplier: 1, MaxInterval: time.Millisecond, Timeout: 30 * time.Second}
		release := make(chan struct{})
		busy := make(chan struct{}, 1)
		var busyDone atomic.Bool
		fast := newRecorder()
		r.start([]router.Handler{
			onLikes("busy", func(ctx context.Context, env events.Envelope) error {
				select {
				case busy <- struct{}{}:
				default:
				}
				select {
				case <-release:
				case <-ctx.Done():
				}
				busyDone.Store(true)
				return nil
			}),
			onLikes("fast", func(ctx context.Context, env events.Envelope) error {
				fast.succeed(env)
				return nil
			}),
		})
		first := like("corr-busy")
		r.publish(first)
		select {
		case <-busy:
		case <-time.After(patience):
			t.Fatal("busy handler never started")
		}
		second := like("corr-busy")
		r.publish(second)
		eventually(t, 25*time.Second, "fast handler got the new event", func() bool { return fast.wasHandled(second.ID) })
		if busyDone.Load() {
			t.Error("the new event reached the fast handler only once the busy handler let go")
		}
		close(release)
	})
}
