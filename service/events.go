package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	natsadapter "github.com/thoughts-project/thoughts/adapters/nats"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
)

// ErrSplitNeedsBroker: `thoughts api` and `thoughts router` are separate
// processes, which an embedded broker cannot connect.
var ErrSplitNeedsBroker = errors.New("NATS_URL: with EVENTS_BACKEND=nats, `thoughts api` and `thoughts router` need a shared NATS server; " +
	"set NATS_URL, use EVENTS_BACKEND=postgres, or run everything in one process with `thoughts serve`")

// Config.EventSubscribers (EVENT_SUBSCRIBERS, default 8) is how many queue
// subscriptions each handler has per topic in a process (NATS). Each message
// is handled on a goroutine of its own from delivery to ack, so a handler
// works on up to MaxAckPending (64) messages of a topic at once, and the
// router batches their effects; a message is still held by one delivery until
// acked, and kept in progress for up to the handler's whole retry span
// (Policy.AckWait), so a message being retried is never delivered again in
// parallel. One subscription
// handling one message at a time, each acked synchronously before the next,
// made the pipeline as slow as one handler transaction plus two round trips
// to NATS. (On Postgres a consumer group reads serially, a batch at a time.)
//
// Config.EventHandlerConns (EVENT_HANDLER_CONNS, default 16) sizes the event
// handlers' own database pool: with that many messages in flight per topic
// they would otherwise queue for the connections the HTTP API uses, and the
// API for theirs.

// Broker is the event backend of a process: the backend's connections, the
// embedded NATS server if it runs one, and the pool watermill-sql
// subscribers read with.
type Broker struct {
	backend  *pubsub.Backend
	embedded *natsadapter.Embedded
	subPool  *pgxpool.Pool
}

// BrokerOptions say what a process needs of its broker.
type BrokerOptions struct {
	// Embedded allows starting the embedded NATS server when the backend is
	// NATS and NATS_URL is empty (serve, the poison tooling); otherwise that
	// is ErrSplitNeedsBroker.
	Embedded bool
	// SubscriberConns sizes the pool watermill-sql subscribers read with
	// (the handlers' on Postgres, the forwarder's on NATS); 0 for a process
	// that runs no event processing.
	SubscriberConns int
}

// OpenBroker connects to the configured backend; pool is the application's
// pool, for publishing and the poison tooling.
func OpenBroker(ctx context.Context, cfg Config, logger *slog.Logger, pool *pgxpool.Pool, opts BrokerOptions) (*Broker, error) {
	b := &Broker{}
	var dial natsadapter.Dialer
	if cfg.EventsBackend == pubsub.NATS {
		switch {
		case cfg.NATSURL != "":
			dial = natsadapter.External(cfg.NATSURL, natsadapter.ConnOptions{}, logger)
		case !opts.Embedded:
			return nil, ErrSplitNeedsBroker
		default:
			e, err := natsadapter.StartEmbedded(filepath.Join(cfg.DataDir, "nats"), logger)
			if errors.Is(err, natsadapter.ErrStoreInUse) {
				return nil, fmt.Errorf("DATA_DIR: %w: stop the `thoughts serve` using it, or set NATS_URL", err)
			}
			if err != nil {
				return nil, fmt.Errorf("DATA_DIR: %w", err)
			}
			b.embedded, dial = e, e.Dial
		}
	}
	if opts.SubscriberConns > 0 {
		pcfg := pool.Config()
		pcfg.MaxConns = int32(opts.SubscriberConns)
		pcfg.MinConns = 0
		sp, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("create subscriber pool: %w", err)
		}
		b.subPool = sp
	}
	backend, err := pubsub.Open(pubsub.Config{
		Backend:        cfg.EventsBackend,
		Pool:           pool,
		SubscriberPool: b.subPool,
		Dial:           dial,
		PoisonTopic:    router.PoisonTopic,
		// See pubsub.Config.MaxAckPending for the trade-off.
		MaxAckPending: 64,
		Subscribers:   cfg.eventSubscribers(),
		// Handlers are idempotent: a lost ack costs a redelivery that
		// stores nothing, and waiting for each ack's confirmation halved
		// the throughput.
		AckAsync:     !cfg.EventAckSync,
		BatchSize:    cfg.EventBatchSize,
		CloseTimeout: cfg.ShutdownTimeout,
		Streams: natsadapter.StreamOptions{
			Replicas: cfg.NATSStreams.replicas(),
			MaxAge:   cfg.NATSStreams.maxAge(),
			MaxBytes: cfg.NATSStreams.maxBytes(),
		},
		Logger: logger,
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("EVENTS_BACKEND=%s: %w", cfg.EventsBackend, err)
	}
	b.backend = backend
	return b, nil
}

// Backend is the opened event backend.
func (b *Broker) Backend() *pubsub.Backend { return b.backend }

// Close releases the broker: backend connection, subscriber pool, then the
// embedded server. Processing on it is stopped first.
func (b *Broker) Close() {
	if b.backend != nil {
		if err := b.backend.Close(); err != nil {
			slog.Warn("close event backend", "err", err)
		}
	}
	if b.subPool != nil {
		b.subPool.Close()
	}
	if b.embedded != nil {
		b.embedded.Shutdown()
	}
}

// Subscriptions are what the backend provisions and subscribes for hs: each
// handler's topics, with the redelivery timeout of its own retry policy.
func Subscriptions(hs []router.Handler) []pubsub.Subscription {
	out := make([]pubsub.Subscription, len(hs))
	for i, h := range hs {
		out[i] = subscription(h)
	}
	return out
}

// Retired are subscriptions that earlier versions' handlers had and this
// one's do not: StartProcessing removes them (pubsub.Backend.Retire), or the
// consumers nobody reads any more would keep their topics' events forever (on
// NATS the stream keeps a message until every consumer acked it; on Postgres
// the pruner keeps what a consumer group has not passed). A pair a handler
// of this process still subscribes to is never retired. What a retired
// consumer had not read yet is dropped with it: at the upgrade that split
// the likes, a like of a remote thought committed by the old version and not
// yet federated is not sent (the other server's like count misses it).
var Retired = []pubsub.Subscription{
	// Federation reads only the likes of remote thoughts
	// (events.TopicRemoteThoughtLiked) since likes of local thoughts, which
	// concern only notifications, got a topic of their own.
	{Handler: "federation", Topics: []string{events.TopicLikeAdded}},
}

// retired is Retired without the pairs hs subscribe to.
func retired(hs []router.Handler) []pubsub.Subscription {
	var out []pubsub.Subscription
	for _, r := range Retired {
		s := pubsub.Subscription{Handler: r.Handler}
		for _, t := range r.Topics {
			if !slices.ContainsFunc(hs, func(h router.Handler) bool { return h.Name == r.Handler && slices.Contains(h.Topics(), t) }) {
				s.Topics = append(s.Topics, t)
			}
		}
		if len(s.Topics) > 0 {
			out = append(out, s)
		}
	}
	return out
}

func subscription(h router.Handler) pubsub.Subscription {
	return pubsub.Subscription{Handler: h.Name, Topics: h.Topics(), AckWait: h.Policy.AckWait(), NakDelay: h.Policy.InitialInterval}
}

// subscriberConns sizes a process's subscriber pool for hs: one connection
// per handler and topic (each holds its consumer lock on one), plus the
// forwarder and slack.
func subscriberConns(hs []router.Handler) int {
	n := 4
	for _, h := range hs {
		n += len(h.Topics())
	}
	return n
}

// Processing is the running forwarder (NATS) and router of a process.
type Processing struct {
	stopOnce  sync.Once
	forwarder *pubsub.Forwarder
	router    *router.Router
	poisonPub message.Publisher
	done      chan error // the first unexpected stop of forwarder or router
	log       *slog.Logger
}

// StartProcessing provisions streams/consumers (or tables) for handlers, then
// starts the forwarder (NATS backend) and the router, and returns once both
// run. They run until Stop, or until ctx is cancelled: that stops the
// subscriptions at once, as a crash would (tests use it; processes pass a
// context that is never cancelled and call Stop). reg, if not nil, receives
// the router's metrics.
func StartProcessing(ctx context.Context, b *Broker, handlers []router.Handler, reg prometheus.Registerer, logger *slog.Logger, cfg Config) (*Processing, error) {
	if err := router.ValidateHandlers(handlers); err != nil {
		return nil, err
	}
	if err := b.backend.Provision(ctx, Subscriptions(handlers)); err != nil {
		return nil, fmt.Errorf("EVENTS_BACKEND=%s: provision: %w", cfg.EventsBackend, err)
	}
	if err := b.backend.Retire(ctx, retired(handlers)); err != nil {
		return nil, fmt.Errorf("EVENTS_BACKEND=%s: %w", cfg.EventsBackend, err)
	}
	p := &Processing{done: make(chan error, 2), log: logger}
	if b.backend.Kind() == pubsub.NATS {
		fwd, err := b.backend.Forwarder(reg)
		if err != nil {
			return nil, err
		}
		p.forwarder = fwd
		go func() { p.done <- stopped("outbox forwarder", fwd.Run(ctx)) }()
		if err := p.wait(ctx, fwd.Running()); err != nil {
			p.Stop()
			return nil, err
		}
	}
	poisonPub, err := b.backend.PoisonPublisher()
	if err != nil {
		p.Stop()
		return nil, err
	}
	p.poisonPub = poisonPub
	r, err := router.New(router.Config{
		Handlers: handlers,
		Subscriber: func(h router.Handler) (message.Subscriber, error) {
			return b.backend.Subscriber(subscription(h))
		},
		PoisonPublisher: poisonPub,
		CloseTimeout:    cfg.ShutdownTimeout,
		Logger:          logger,
		Metrics:         reg,
		Transient:       postgres.Unavailable,
		NoBatch:         cfg.EventNoBatch,
		MaxConcurrent:   cfg.eventSubscribers(),
	})
	if err != nil {
		p.Stop()
		return nil, err
	}
	p.router = r
	go func() { p.done <- stopped("router", r.Run(ctx)) }()
	if err := p.wait(ctx, r.Running()); err != nil {
		p.Stop()
		return nil, err
	}
	logger.InfoContext(ctx, "event processing running", "events_backend", cfg.EventsBackend, "handlers", len(handlers))
	return p, nil
}

func stopped(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s stopped: %w", what, err)
	}
	return fmt.Errorf("%s stopped", what)
}

// Done receives the reason if the forwarder or the router stops on its own
// (or, once Stop was called, as it stops).
func (p *Processing) Done() <-chan error { return p.done }

func (p *Processing) wait(ctx context.Context, running chan struct{}) error {
	select {
	case <-running:
		return nil
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop closes, in order, the router (in-flight messages finish or are left
// unacked for redelivery), the forwarder and the poison publisher. Calls
// after the first do nothing.
func (p *Processing) Stop() { p.stopOnce.Do(p.stop) }

func (p *Processing) stop() {
	if p.router != nil {
		p.log.Info("shutting down: closing the router")
		if err := p.router.Close(); err != nil {
			p.log.Warn("close router", "err", err)
		}
	}
	if p.forwarder != nil {
		if err := p.forwarder.Close(); err != nil {
			p.log.Warn("close outbox forwarder", "err", err)
		}
	}
	if p.poisonPub != nil {
		if err := p.poisonPub.Close(); err != nil {
			p.log.Warn("close poison publisher", "err", err)
		}
	}
}
