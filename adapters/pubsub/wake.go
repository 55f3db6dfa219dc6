package pubsub

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/adapters/outbox"
)

// wakes listens on outbox.WakeChannel (LISTEN) on a connection of its own
// and wakes the table consumers of each announced topic, so an idle consumer
// polls rarely (IdlePollInterval, a safety net) instead of every few
// milliseconds, and still reads a new event at once. While the listener is
// down (database restart) consumers fall back to fast polling, and every
// consumer is woken when it is back (announcements may have been missed).
type wakes struct {
	connect func(ctx context.Context) (*pgx.Conn, error)
	log     func(msg string, err error)

	mu     sync.Mutex
	topics map[string][]chan struct{}
	up     atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
}

func newWakes(connect func(ctx context.Context) (*pgx.Conn, error), log func(string, error)) *wakes {
	return &wakes{connect: connect, log: log, topics: map[string][]chan struct{}{}}
}

// register returns a channel that receives (without blocking the sender:
// one pending wake is enough) whenever topic is announced.
func (w *wakes) register(topic string) <-chan struct{} {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.topics[topic] = append(w.topics[topic], ch)
	if w.done == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel, w.done = cancel, make(chan struct{})
		go w.run(ctx)
	}
	return ch
}

// listening reports whether announcements arrive.
func (w *wakes) listening() bool { return w.up.Load() }

func (w *wakes) close() {
	w.mu.Lock()
	cancel, done := w.cancel, w.done
	w.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// wake wakes the consumers of topic, or every consumer for "". It runs on
// every commit of the process (Backend.Wake), so it looks the topic up
// rather than walk every topic.
func (w *wakes) wake(topic string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if topic != "" {
		nudge(w.topics[topic])
		return
	}
	for _, chs := range w.topics {
		nudge(chs)
	}
}

// nudge sends each of chs a wake-up without blocking: one pending is enough.
func nudge(chs []chan struct{}) {
	for _, ch := range chs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (w *wakes) run(ctx context.Context) {
	defer close(w.done)
	for ctx.Err() == nil {
		err := w.listen(ctx)
		w.up.Store(false)
		if ctx.Err() != nil {
			return
		}
		w.log("outbox listener lost; consumers poll until it is back", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (w *wakes) listen(ctx context.Context) error {
	conn, err := w.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+outbox.WakeChannel); err != nil {
		return err
	}
	w.up.Store(true)
	// Whatever was announced while not listening.
	w.wake("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		w.wake(n.Payload)
	}
}
