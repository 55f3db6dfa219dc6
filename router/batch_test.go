package router

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/events"
)

// A batch with one bad event in it: the batch fails as a whole, each of its
// events is handled again alone, the good ones succeed and only the bad one
// fails; its retries are handled alone (they never fail another batch), and
// once it succeeds it may join batches again.
func TestBatchWithOneBadEvent(t *testing.T) {
	t.Parallel()
	bad := uuid.Must(uuid.NewV7())
	var (
		mu           sync.Mutex
		applied      = map[uuid.UUID]int{} // effects, by event
		batches      [][]uuid.UUID
		alone        []uuid.UUID
		badSucceeds  bool
		releaseFirst = make(chan struct{})
		firstStarted = make(chan struct{})
		first        sync.Once
	)
	h := Handler{
		Name:   "test",
		Policy: Policy{MaxRetries: 0, InitialInterval: time.Millisecond, Multiplier: 1, MaxInterval: time.Millisecond, Timeout: 10 * time.Second},
		Handle: func(ctx context.Context, env events.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			alone = append(alone, env.ID)
			if env.ID == bad && !badSucceeds {
				return errors.New("bad event")
			}
			applied[env.ID]++
			return nil
		},
		HandleBatch: func(ctx context.Context, envs []events.Envelope) error {
			// The first batch waits until every other event is queued, so
			// the second batch holds them all.
			first.Do(func() {
				close(firstStarted)
				<-releaseFirst
			})
			mu.Lock()
			defer mu.Unlock()
			var ids []uuid.UUID
			for _, env := range envs {
				ids = append(ids, env.ID)
			}
			batches = append(batches, ids)
			for _, env := range envs {
				if env.ID == bad && !badSucceeds {
					// Part of the batch may have been applied before it
					// failed (the handler is idempotent).
					return errors.New("batch with a bad event")
				}
			}
			for _, env := range envs {
				applied[env.ID]++
			}
			return nil
		},
	}
	b := newBatcher(h, 100, 1, slog.New(slog.DiscardHandler))
	defer b.close()

	envOf := func(id uuid.UUID) events.Envelope {
		return events.Envelope{ID: id, Event: events.LikeAdded{LikeID: uuid.New(), UserID: uuid.New(), ThoughtID: uuid.New()}}
	}
	ctx := context.Background()
	errs := make(chan error, 1)
	go func() { errs <- b.handle(ctx, envOf(uuid.Must(uuid.NewV7())), func() {}) }()
	<-firstStarted
	ids := []uuid.UUID{bad}
	for range 9 {
		ids = append(ids, uuid.Must(uuid.NewV7()))
	}
	results := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = b.handle(ctx, envOf(id), func() {})
		}()
	}
	// Let the ten queue behind the running batch (the check below needs
	// only two of them to have queued in time).
	time.Sleep(100 * time.Millisecond)
	close(releaseFirst)
	wg.Wait()
	if err := <-errs; err != nil {
		t.Fatalf("first event: %v", err)
	}
	for i, id := range ids {
		switch {
		case id == bad && results[i] == nil:
			t.Error("the bad event succeeded")
		case id != bad && results[i] != nil:
			t.Errorf("good event %d failed with the bad one: %v", i, results[i])
		}
	}
	mu.Lock()
	if len(batches) < 2 || len(batches[1]) < 2 {
		t.Errorf("batches %v: want the queued events gathered into one", batches)
	}
	for _, id := range ids[1:] {
		if applied[id] != 1 {
			t.Errorf("good event applied %d times, want once", applied[id])
		}
	}
	if applied[bad] != 0 {
		t.Errorf("bad event applied %d times", applied[bad])
	}
	nBatches := len(batches)
	mu.Unlock()

	// Its retry is handled alone, even with other events in flight.
	other := uuid.Must(uuid.NewV7())
	var wg2 sync.WaitGroup
	var retryErr, otherErr error
	wg2.Add(2)
	go func() { defer wg2.Done(); retryErr = b.handle(ctx, envOf(bad), func() {}) }()
	go func() { defer wg2.Done(); otherErr = b.handle(ctx, envOf(other), func() {}) }()
	wg2.Wait()
	if retryErr == nil || otherErr != nil {
		t.Errorf("retry of the bad event: %v; concurrent good event: %v", retryErr, otherErr)
	}
	mu.Lock()
	for _, batch := range batches[nBatches:] {
		for _, id := range batch {
			if id == bad {
				t.Errorf("the bad event's retry joined batch %v", batch)
			}
		}
	}
	badSucceeds = true
	mu.Unlock()
	if err := b.handle(ctx, envOf(bad), func() {}); err != nil {
		t.Fatalf("bad event, now handled: %v", err)
	}
	if b.isAlone(bad.String()) {
		t.Error("an event that succeeded is still handled alone")
	}
}

// The messages of one delivery (a Postgres consumer's read batch) reach the
// batcher on goroutines of their own, some time apart: they are applied in
// one batch, where the same events without a delivery are not; a delivery
// whose last message never arrives is applied once the wait runs out.
func TestBatchGathersADelivery(t *testing.T) {
	t.Parallel()
	// run hands n events to a batcher 2 ms apart, each with ctx from
	// withCtx, and returns the sizes of the batches applied.
	run := func(t *testing.T, n int, wait time.Duration, withCtx func([]events.Envelope, context.Context) context.Context, missing int) []int {
		var rec sizeRecorder
		b := newBatcher(rec.handler(nil), 100, 2, slog.New(slog.DiscardHandler))
		b.deliveryWait = wait
		defer b.close()
		envs := make([]events.Envelope, n)
		for i := range envs {
			envs[i] = likeEnv()
		}
		ctx := withCtx(envs, context.Background())
		var wg sync.WaitGroup
		for i, env := range envs[:n-missing] {
			if i > 0 {
				time.Sleep(2 * time.Millisecond)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				arrived := func() {}
				if d := events.DeliveryOf(ctx); d != nil {
					arrived = func() { d.Arrived(env.ID.String()) }
				}
				if err := b.handle(ctx, env, arrived); err != nil {
					t.Errorf("event %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		return rec.batches()
	}
	delivered := func(envs []events.Envelope, ctx context.Context) context.Context {
		ids := make([]string, len(envs))
		for i, env := range envs {
			ids[i] = env.ID.String()
		}
		return events.WithDelivery(ctx, events.NewDelivery(ids))
	}
	alone := func(_ []events.Envelope, ctx context.Context) context.Context { return ctx }

	if got := run(t, 6, 10*time.Second, delivered, 0); len(got) != 1 || got[0] != 6 {
		t.Errorf("one delivery of 6 events: batches %v, want [6]", got)
	}
	if got := run(t, 6, 10*time.Second, alone, 0); len(got) < 2 {
		t.Errorf("6 events without a delivery, 2 ms apart: batches %v, want more than one (nothing waits)", got)
	}
	began := time.Now()
	got := run(t, 4, 50*time.Millisecond, delivered, 1)
	if len(got) != 1 || got[0] != 3 {
		t.Errorf("a delivery of 4 whose last never arrives: batches %v, want [3]", got)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("a delivery of 4 whose last never arrives took %v to apply", took)
	}
}

// While a batch is being applied, the events that arrive wait for the next
// one, which takes them all: the default batcher applies one batch at a time
// (a second worker would take the first arrivals into batches of their own).
func TestEventsArrivingDuringACommitFormTheNextBatch(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var rec sizeRecorder
		release := make(chan struct{}) // every batch commits only once the test lets it
		b := newBatcher(rec.handler(release), 100, 0, slog.New(slog.DiscardHandler))
		defer b.close()
		var wg sync.WaitGroup
		handle := func() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := b.handle(context.Background(), likeEnv(), func() {}); err != nil {
					t.Error(err)
				}
			}()
		}
		handle()
		synctest.Wait() // the first batch is committing
		for range 10 {
			handle()
		}
		synctest.Wait() // the ten are queued, or in a batch of their own
		close(release)
		wg.Wait()
		if sizes := rec.batches(); len(sizes) != 2 || sizes[0] != 1 || sizes[1] != 10 {
			t.Errorf("batches %v, want [1 10]: the events that arrived while the first batch committed, all in the next", sizes)
		}
	})
}

// likeEnv is an event a batching handler takes.
func likeEnv() events.Envelope {
	return events.Envelope{ID: uuid.Must(uuid.NewV7()), Event: events.LikeAdded{LikeID: uuid.New(), UserID: uuid.New(), ThoughtID: uuid.New()}}
}

// sizeRecorder records the size of each batch its handler applies.
type sizeRecorder struct {
	mu    sync.Mutex
	sizes []int
}

// handler is a batching handler that records each batch, then (if hold is
// not nil) commits it only once hold is closed. Its Handle always fails: no
// event is expected to be handled alone.
func (r *sizeRecorder) handler(hold <-chan struct{}) Handler {
	return Handler{
		Name:   "test",
		Policy: Policy{MaxRetries: 0, InitialInterval: time.Millisecond, Multiplier: 1, MaxInterval: time.Millisecond, Timeout: 10 * time.Second},
		Handle: func(context.Context, events.Envelope) error { return errors.New("handled alone") },
		HandleBatch: func(_ context.Context, envs []events.Envelope) error {
			r.mu.Lock()
			r.sizes = append(r.sizes, len(envs))
			r.mu.Unlock()
			if hold != nil {
				<-hold
			}
			return nil
		},
	}
}

// batches are the sizes of the batches applied so far, in order.
func (r *sizeRecorder) batches() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sizes)
}
