package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	natsgo "github.com/nats-io/nats.go"
)

// SubscriberOptions configure a handler's subscriber.
type SubscriberOptions struct {
	Consumer ConsumerOptions
	// Subscribers is the number of concurrent subscriptions per topic in
	// this process; 0 means 1.
	Subscribers int
	// CloseTimeout bounds how long Close waits for in-flight messages.
	CloseTimeout time.Duration
	// NakDelay is the first redelivery delay after a nack, doubled per
	// delivery up to MaxNakDelay; 0 means one second.
	NakDelay, MaxNakDelay time.Duration
	// AckAsync acks without waiting for the server's confirmation: several
	// times faster, at the cost of a redelivery when an ack is lost.
	AckAsync bool
	// HoldLimit is the longest the router may hold a message (all its
	// handler's retries); 0 means Consumer.AckWait. When it is longer than
	// Consumer.AckWait, the subscriber tells the server the message is in
	// progress every third of AckWait while the router holds it, so the
	// consumer's AckWait can be short: a message held by a process that
	// died (SIGKILL, a lost machine) is delivered again after AckWait,
	// not after the handler's whole retry span.
	HoldLimit time.Duration
}

// holdLimit is o.HoldLimit, or the consumers' AckWait.
func (o SubscriberOptions) holdLimit() time.Duration {
	return max(o.HoldLimit, o.Consumer.AckWait)
}

// Subscriber is a Watermill subscriber reading one handler's durable
// consumers: on each topic it joins the queue group of the consumer
// EnsureConsumer created (queue group = durable name), so every process
// running the handler shares its messages.
//
// It replaces watermill-nats' JetStream subscriber, whose Close can close a
// subscription's output channel while a NATS callback is still sending on it
// (a data race the race detector reports, and a possible send on a closed
// channel). Here a subscription's output is closed only once no callback is
// running. The same lessons are kept: nats.go's automatic ack is off
// (ManualAck), the subscription repeats the consumer's settings, it binds to
// the consumer instead of creating one (so closing never deletes it), and a
// message whose payload cannot be read still reaches the router, which
// poisons it.
type Subscriber struct {
	nc      *natsgo.Conn
	js      natsgo.JetStreamContext
	handler string
	opts    SubscriberOptions
	delay   backoffDelay
	log     watermill.LoggerAdapter

	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	closers sync.WaitGroup
}

var _ message.Subscriber = (*Subscriber)(nil)

// NewSubscriber returns handler's subscriber on nc, which it owns.
func NewSubscriber(nc *natsgo.Conn, handler string, opts SubscriberOptions, logger watermill.LoggerAdapter) (*Subscriber, error) {
	if !ValidHandlerName(handler) {
		nc.Close()
		return nil, fmt.Errorf("handler name %q: use lower-case letters, digits, - and _", handler)
	}
	if opts.Consumer.AckWait <= 0 {
		nc.Close()
		return nil, errors.New("subscriber needs the consumers' AckWait")
	}
	js, err := nc.JetStream()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream: %w", err)
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = 30 * time.Second
	}
	first := opts.NakDelay
	if first <= 0 {
		first = time.Second
	}
	return &Subscriber{
		nc: nc, js: js, handler: handler, opts: opts,
		delay:   backoffDelay{first: first, max: max(opts.MaxNakDelay, first)},
		log:     logger.With(watermill.LogFields{"handler": handler}),
		closing: make(chan struct{}),
	}, nil
}

// subscription tracks the callbacks of one Subscribe call, so its output
// channel is closed only after the last one returned.
type subscription struct {
	mu     sync.Mutex
	cond   *sync.Cond
	active int
	done   bool
	// released is closed once the server no longer delivers to this
	// subscription: from then on, messages not yet taken by the router are
	// handed back (a nak before would come straight back here).
	released chan struct{}
}

func (s *subscription) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return false
	}
	s.active++
	return true
}

func (s *subscription) exit() {
	s.mu.Lock()
	s.active--
	if s.active == 0 {
		s.cond.Broadcast()
	}
	s.mu.Unlock()
}

// finish refuses new callbacks and waits for running ones.
func (s *subscription) finish() {
	s.mu.Lock()
	s.done = true
	for s.active > 0 {
		s.cond.Wait()
	}
	s.mu.Unlock()
}

// Subscribe delivers topic's messages until ctx is cancelled or Close.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("subscriber is closed")
	}
	durable := DurableName(s.handler, topic)
	out := make(chan *message.Message)
	state := &subscription{released: make(chan struct{})}
	state.cond = sync.NewCond(&state.mu)
	opts := append(s.opts.Consumer.subscribeOptions(), natsgo.Bind(StreamName(topic), durable))
	var subs []*natsgo.Subscription
	for range max(s.opts.Subscribers, 1) {
		sub, err := s.js.QueueSubscribe(topic, durable, func(m *natsgo.Msg) {
			if !state.enter() {
				s.nak(m, 0) // closing: let another process have it now
				return
			}
			// Each message on a goroutine of its own, so the router has
			// every message the server sent (up to MaxAckPending) at once
			// and can batch their effects; the callback returns at once.
			go func() {
				defer state.exit()
				s.deliver(ctx, state, m, out)
			}()
		}, opts...)
		if err != nil {
			for _, sub := range subs {
				_ = sub.Unsubscribe()
			}
			return nil, fmt.Errorf("subscribe %s to %s (consumer %s): %w", s.handler, topic, durable, err)
		}
		subs = append(subs, sub)
	}
	s.closers.Add(1)
	go func() {
		defer s.closers.Done()
		select {
		case <-ctx.Done():
		case <-s.closing:
		}
		// Drain rather than unsubscribe: messages the client already holds
		// still reach the callback, which hands them back (nak) instead of
		// leaving them to wait for AckWait.
		for _, sub := range subs {
			if err := sub.Drain(); err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) {
				s.log.Error("Cannot unsubscribe", err, watermill.LogFields{"topic": topic})
			}
		}
		close(state.released)
		state.finish()
		close(out)
	}()
	return out, nil
}

// deliver hands one message to the router and settles it with the server as
// the router decides. It runs on a goroutine of its own per message (the
// server sends at most MaxAckPending unacked messages per consumer), counted
// by state from the callback on.
func (s *Subscriber) deliver(ctx context.Context, state *subscription, m *natsgo.Msg, out chan<- *message.Message) {
	msg, _ := lenientUnmarshaler{}.Unmarshal(m)
	fields := watermill.LogFields{"topic": m.Subject, "message_uuid": msg.UUID}
	// The server's redelivery clock started when it sent the message, which
	// may have waited here behind others; restart it as handling begins.
	s.inProgress(m, fields)
	msgCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	msg.SetContext(msgCtx)
	// While the message is held past a third of AckWait, the server hears
	// it is in progress (HoldLimit).
	var beat <-chan time.Time
	if hold := s.opts.holdLimit(); hold > s.opts.Consumer.AckWait {
		ticker := time.NewTicker(s.opts.Consumer.AckWait / 3)
		defer ticker.Stop()
		beat = ticker.C
	}
	// The router always acks or nacks (its Timeout middleware bounds each
	// attempt, and closing cancels the message's context); the timer only
	// guards against a message it lost, which the server then redelivers.
	timer := time.NewTimer(s.opts.holdLimit())
	defer timer.Stop()
	for sent := false; !sent; {
		select {
		case out <- msg:
			sent = true
		case <-beat:
			s.inProgress(m, fields)
		case <-timer.C:
			s.log.Error("The router did not take the message in time; leaving it to the server's redelivery", nil, fields)
			return
		case <-state.released:
			s.nak(m, 0) // for another process
			return
		}
	}
	for {
		select {
		case <-beat:
			s.inProgress(m, fields)
			continue
		case <-msg.Acked():
			var err error
			if s.opts.AckAsync {
				err = m.Ack()
			} else {
				err = m.AckSync()
			}
			if err != nil {
				s.log.Error("Cannot ack; the message will be redelivered", err, fields)
			}
		case <-msg.Nacked():
			var delay time.Duration
			if md, err := m.Metadata(); err == nil {
				delay = s.delay.WaitTime(md.NumDelivered)
			}
			s.nak(m, delay)
		case <-timer.C:
			s.log.Error("No ack or nack in time; leaving the message to the server's redelivery", nil, fields)
		}
		return
	}
}

// inProgress restarts m's AckWait on the server.
func (s *Subscriber) inProgress(m *natsgo.Msg, fields watermill.LogFields) {
	if err := m.InProgress(); err != nil {
		s.log.Debug("Cannot signal progress", fields.Add(watermill.LogFields{"err": err}))
	}
}

func (s *Subscriber) nak(m *natsgo.Msg, delay time.Duration) {
	var err error
	if delay > 0 {
		err = m.NakWithDelay(delay)
	} else {
		err = m.Nak()
	}
	if err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) {
		s.log.Error("Cannot nack; the message will be redelivered after AckWait", err, nil)
	}
}

// Close stops every subscription, waits (up to CloseTimeout) for their
// callbacks to settle their messages, then drains and closes the connection.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.closers.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-time.After(s.opts.CloseTimeout):
		err = fmt.Errorf("subscriber %s: messages still in flight after %s", s.handler, s.opts.CloseTimeout)
	}
	// Draining the connection delivers what the client still holds (handed
	// back by the callbacks), flushes acks and naks, then closes.
	if derr := s.nc.Drain(); derr != nil && !errors.Is(derr, natsgo.ErrConnectionClosed) {
		s.log.Error("Cannot drain the connection", derr, nil)
	}
	for deadline := time.Now().Add(5 * time.Second); !s.nc.IsClosed() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	s.nc.Close()
	return err
}
