package router_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
)

// TestTransientErrorsAreNotPoisoned: a message failing with an error the
// router's Transient classifies (the database unreachable) is handed back
// and delivered again once its retries are spent, as often as it takes,
// never poisoned; any other error is poisoned once its retries are spent.
func TestTransientErrorsAreNotPoisoned(t *testing.T) {
	t.Parallel()
	errDown := errors.New("database unreachable")
	ps := gochannel.NewGoChannel(gochannel.Config{Persistent: true}, nil)
	defer ps.Close()
	poisoned, err := ps.Subscribe(context.Background(), router.PoisonTopic)
	if err != nil {
		t.Fatal(err)
	}
	outage, broken := like("corr-outage"), like("corr-broken")
	var outageAttempts atomic.Int32
	handled := make(chan struct{})
	p := router.Policy{MaxRetries: 1, InitialInterval: time.Millisecond, Multiplier: 1, MaxInterval: time.Millisecond, Timeout: time.Second}
	rt, err := router.New(router.Config{
		Handlers: []router.Handler{{Name: "h", Events: []events.Event{events.LikeAdded{}}, Policy: p,
			Handle: func(ctx context.Context, env events.Envelope) error {
				switch env.ID {
				case outage.ID:
					// Down for three deliveries of two attempts each.
					if outageAttempts.Add(1) <= 6 {
						return errDown
					}
					close(handled)
					return nil
				case broken.ID:
					return errors.New("constraint violated")
				}
				return nil
			}}},
		Subscriber:      func(router.Handler) (message.Subscriber, error) { return ps, nil },
		PoisonPublisher: ps,
		Transient:       func(err error) bool { return errors.Is(err, errDown) },
		Logger:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rt.Run(context.Background()) }()
	defer func() { rt.Close(); <-done }()
	<-rt.Running()
	for _, env := range []events.Envelope{outage, broken} {
		msg, err := outbox.ToMessage(env)
		if err != nil {
			t.Fatal(err)
		}
		if err := ps.Publish(events.TopicLikeAdded, msg); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-handled:
	case <-time.After(30 * time.Second):
		t.Fatalf("the message failing transiently was not delivered again until handled (%d attempts)", outageAttempts.Load())
	}
	select {
	case m := <-poisoned:
		if m.UUID != broken.ID.String() {
			t.Errorf("poisoned %s, want only the broken message %s", m.UUID, broken.ID)
		}
		m.Ack()
	case <-time.After(30 * time.Second):
		t.Fatal("the message failing for good was never poisoned")
	}
	select {
	case m := <-poisoned:
		t.Errorf("also poisoned %s", m.UUID)
	case <-time.After(200 * time.Millisecond):
	}
}
