package router

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
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
	go func() { errs <- b.handle(ctx, envOf(uuid.Must(uuid.NewV7()))) }()
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
			results[i] = b.handle(ctx, envOf(id))
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
	go func() { defer wg2.Done(); retryErr = b.handle(ctx, envOf(bad)) }()
	go func() { defer wg2.Done(); otherErr = b.handle(ctx, envOf(other)) }()
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
	if err := b.handle(ctx, envOf(bad)); err != nil {
		t.Fatalf("bad event, now handled: %v", err)
	}
	if b.isAlone(bad.String()) {
		t.Error("an event that succeeded is still handled alone")
	}
}
