package pubsub

import (
	"time"

	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/thoughts-project/thoughts/adapters/outbox"
)

// Forwarder relays committed events from the outbox table to JetStream.
type Forwarder struct {
	fwd *forwarder.Forwarder
	pub message.Publisher
}

// Forwarder returns the outbox forwarder (NATS backend only: on Postgres
// events are written straight to their topic tables). Processes running it
// share consumer group "forwarder", which reads serially (fail-over, not
// scale-out). decorate, if given, is applied to its router (metrics).
func (b *Backend) Forwarder(decorate func(*message.Router)) (*Forwarder, error) {
	if b.cfg.Backend != NATS {
		return nil, fmt.Errorf("the outbox forwarder runs only with the nats backend, not %s", b.cfg.Backend)
	}
	// Relaying is cheap and nothing else reads this table: batches of 100.
	// A batch is relayed in well under a second unless NATS is down, when
	// reading it again sooner would not help.
	sub, err := b.sqlSubscriber(ForwarderConsumerGroup, 30*time.Second, 100, b.cfg.PollInterval)
	if err != nil {
		return nil, err
	}
	pub, err := b.Publisher()
	if err != nil {
		_ = sub.Close()
		return nil, err
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: b.cfg.CloseTimeout}, b.wlog)
	if err != nil {
		_ = sub.Close()
		_ = pub.Close()
		return nil, fmt.Errorf("create forwarder router: %w", err)
	}
	if decorate != nil {
		decorate(router)
	}
	fwd, err := forwarder.NewForwarder(sub, pub, b.wlog, forwarder.Config{
		ForwarderTopic: outbox.ForwarderTopic,
		CloseTimeout:   b.cfg.CloseTimeout,
		// Only our outbox writes this table, always enveloped; a row that
		// cannot be unwrapped would otherwise block every event behind it.
		// The forwarder logs it at error level with its payload.
		AckWhenCannotUnwrap: true,
		Router:              router,
	})
	if err != nil {
		_ = sub.Close()
		_ = pub.Close()
		return nil, fmt.Errorf("create forwarder: %w", err)
	}
	return &Forwarder{fwd: fwd, pub: pub}, nil
}

// Run relays until Close; a publish that fails (broker unreachable) leaves
// the event in the outbox and is retried, in order.
func (f *Forwarder) Run(ctx context.Context) error { return f.fwd.Run(ctx) }

// Running is closed once the forwarder runs.
func (f *Forwarder) Running() chan struct{} { return f.fwd.Running() }

// Close stops relaying, then closes the JetStream publisher.
func (f *Forwarder) Close() error {
	return errors.Join(f.fwd.Close(), f.pub.Close())
}
