package router

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/thoughts-project/thoughts/app/events"
)

// Batching, and why it sits inside the handler function.
//
// Watermill's router hands each message to the handler function on a
// goroutine of its own, and the subscribers keep many messages in flight (up
// to EVENT_SUBSCRIBERS per topic on NATS, a whole read batch on Postgres). A
// handler with a HandleBatch does not handle its message there: it queues the
// event to the handler's batcher and waits. The batcher's worker takes every
// event queued at that moment (up to MaxBatch) and applies them with one
// HandleBatch call — one statement and one commit instead of one per event —
// then wakes each waiting call with the outcome. Nothing waits to fill a
// batch: under light load a batch is one event; under heavy load events queue
// while a batch commits, and the next batch takes them all (group commit). The one
// wait is for the rest of a delivery (events.Delivery: a Postgres consumer's
// read batch, handed over at once): its messages reach the handler on
// goroutines of their own, and a worker that took the first alone would
// split one read into several small batches. A worker gathers until every
// delivery it holds events of has arrived, or no message came for
// deliveryWait.
//
// Every message still goes through the whole middleware chain on its own:
// its correlation ID, its retries, its timeout, its poisoning, its ack. If a
// batch fails, each of its calls handles its own event again with Handle
// (handlers are idempotent, so what the failed batch did apply is not
// applied twice): a poison event fails alone and is retried and poisoned
// alone, and the others succeed. An event whose Handle failed is handled
// alone on its retries too, so it cannot fail batch after batch.

// DefaultMaxBatch bounds the events one HandleBatch call gets.
const DefaultMaxBatch = 100

// defaultBatchWorkers is how many batches of one handler may run at once in
// a process. One: while a batch commits, the events arriving queue for the
// next, which takes them all. With two, the second worker took each event as
// it came while the first committed, so batches were smaller (~4.6 events
// against ~7.4) and their commits more, two at a time; on NATS,
// where a handler's commit waits for the WAL flush, the pipeline spent ~14%
// more CPU per event than with one (bench/README.md, "One batch at a time").
// On Postgres a consumer's read is the batch either way.
const defaultBatchWorkers = 1

// deliveryWait bounds a worker's wait for the next message of a delivery.
// They arrive microseconds apart; one that does not arrive (its attempt
// timed out, the router is closing) holds the others no longer than this.
const deliveryWait = 5 * time.Millisecond

type batchReq struct {
	ctx      context.Context
	env      events.Envelope
	delivery *events.Delivery // nil: the subscriber delivers one at a time
	done     chan error       // buffered: the worker never blocks on it
}

// batcher gathers one handler's events into HandleBatch calls.
type batcher struct {
	h    Handler
	max  int
	log  *slog.Logger
	reqs chan *batchReq
	stop chan struct{}
	wg   sync.WaitGroup
	// deliveryWait is deliveryWait, or a test's.
	deliveryWait time.Duration
	// gathering is held by the worker taking requests: one batch gathers
	// at a time (with several workers, another may be applying its own), so
	// two workers never split a delivery between them.
	gathering sync.Mutex
	// alone holds the IDs of events whose Handle failed: until it succeeds
	// (or is poisoned) such an event is handled on its own.
	aloneMu sync.Mutex
	alone   map[string]struct{}
}

func newBatcher(h Handler, maxBatch, workers int, log *slog.Logger) *batcher {
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	if workers <= 0 {
		workers = defaultBatchWorkers
	}
	b := &batcher{h: h, max: maxBatch, log: log, reqs: make(chan *batchReq), stop: make(chan struct{}), alone: map[string]struct{}{},
		deliveryWait: deliveryWait}
	for range workers {
		b.wg.Add(1)
		go b.work()
	}
	return b
}

// close stops the workers once no handler call is waiting (the router has
// stopped).
func (b *batcher) close() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	b.wg.Wait()
}

// handle applies env through a batch, or alone if it failed before or its
// batch failed. It calls arrived once env is queued, or once it is known
// that it will not be (see events.Delivery).
func (b *batcher) handle(ctx context.Context, env events.Envelope, arrived func()) error {
	id := env.ID.String()
	if b.isAlone(id) {
		arrived()
		return b.handleAlone(ctx, id, env)
	}
	r := &batchReq{ctx: ctx, env: env, delivery: events.DeliveryOf(ctx), done: make(chan error, 1)}
	select {
	case b.reqs <- r:
		arrived()
	case <-b.stop:
		arrived()
		return b.handleAlone(ctx, id, env)
	case <-ctx.Done():
		arrived()
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		b.log.DebugContext(ctx, "batch failed; handling the event alone", "handler", b.h.Name, "event_id", id, "err", err)
		return b.handleAlone(ctx, id, env)
	case <-ctx.Done():
		// The batch may still apply the event; the redelivery is then a
		// no-op.
		return ctx.Err()
	}
}

func (b *batcher) handleAlone(ctx context.Context, id string, env events.Envelope) error {
	err := b.h.Handle(ctx, env)
	b.aloneMu.Lock()
	defer b.aloneMu.Unlock()
	if err == nil {
		delete(b.alone, id)
		return nil
	}
	// Bounded: poisoned events stay in the set; forget them all rather
	// than grow without end (at worst one more batch fails for each).
	if len(b.alone) >= 10_000 {
		clear(b.alone)
	}
	b.alone[id] = struct{}{}
	return err
}

func (b *batcher) isAlone(id string) bool {
	b.aloneMu.Lock()
	defer b.aloneMu.Unlock()
	_, ok := b.alone[id]
	return ok
}

func (b *batcher) work() {
	defer b.wg.Done()
	for {
		// Fresh slices each time: the previous batch's watcher may still
		// be reading its own.
		batch, ok := b.gather()
		if !ok {
			return
		}
		var envs []events.Envelope
		// A call that gave up (its attempt timed out, the router is
		// closing) is not applied: it has been nacked and will come again.
		var live []*batchReq
		for _, r := range batch {
			if r.ctx.Err() != nil {
				r.done <- r.ctx.Err()
				continue
			}
			live = append(live, r)
			envs = append(envs, r.env)
		}
		if len(live) == 0 {
			continue
		}
		b.run(live, envs)
	}
}

// gather waits for a request and returns it with every other one queued,
// up to max, once every delivery among them has arrived (or deliveryWait
// passed); false once the batcher stops.
func (b *batcher) gather() ([]*batchReq, bool) {
	b.gathering.Lock()
	defer b.gathering.Unlock()
	var (
		batch      []*batchReq
		deliveries []*events.Delivery // of the batch's requests, not yet complete
		timer      *time.Timer
	)
	add := func(r *batchReq) {
		batch = append(batch, r)
		if d := r.delivery; d != nil && !slices.Contains(deliveries, d) {
			deliveries = append(deliveries, d)
		}
	}
	select {
	case r := <-b.reqs:
		add(r)
	case <-b.stop:
		return nil, false
	}
	for len(batch) < b.max {
		select {
		case r := <-b.reqs:
			add(r)
			continue
		default:
		}
		deliveries = slices.DeleteFunc(deliveries, func(d *events.Delivery) bool {
			select {
			case <-d.Complete():
				return true
			default:
				return false
			}
		})
		if len(deliveries) == 0 {
			break
		}
		// The wait restarts with each arrival: it bounds the gap between
		// two messages, which is what load stretches.
		if timer == nil {
			timer = time.NewTimer(b.deliveryWait)
			defer timer.Stop()
		} else {
			timer.Reset(b.deliveryWait)
		}
		select {
		case r := <-b.reqs:
			add(r)
		case <-deliveries[0].Complete():
		case <-timer.C:
			return batch, true
		case <-b.stop:
			return batch, true
		}
	}
	return batch, true
}

func (b *batcher) run(batch []*batchReq, envs []events.Envelope) {
	// The batch outlives no call waiting on it by much: it gets the
	// handler's per-attempt timeout, and is cancelled once every call
	// waiting for it has given up. It carries no one event's correlation
	// ID: each envelope has its own.
	ctx, cancel := context.WithTimeout(context.Background(), b.h.Policy.Timeout)
	defer cancel()
	waiting := make(chan struct{})
	go func() {
		for _, r := range batch {
			select {
			case <-r.ctx.Done():
			case <-waiting:
				return
			}
		}
		cancel()
	}()
	began := time.Now()
	err := b.h.HandleBatch(ctx, envs)
	close(waiting)
	if err != nil {
		b.log.Debug("batch failed", "handler", b.h.Name, "events", len(envs), "err", err)
	} else {
		b.log.Debug("batch handled", "handler", b.h.Name, "events", len(envs), "took", time.Since(began))
	}
	for _, r := range batch {
		r.done <- err
	}
}
