package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	natsadapter "github.com/thoughts-project/thoughts/adapters/nats"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/router"
)

// errSplitNeedsBroker: `thoughts api` and `thoughts router` are separate
// processes, which an embedded broker cannot connect.
var errSplitNeedsBroker = errors.New("NATS_URL: with EVENTS_BACKEND=nats, `thoughts api` and `thoughts router` need a shared NATS server; " +
	"set NATS_URL, use EVENTS_BACKEND=postgres, or run everything in one process with `thoughts serve`")

// Config.EventSubscribers (EVENT_SUBSCRIBERS, default 8) is how many messages
// of one topic each handler works on at once in a process (NATS: queue subscriptions to the handler's durable
// consumer; on Postgres a consumer group reads serially whatever the count).
// Each message is still held by one subscription from delivery to ack, and
// AckWait covers its whole retry span, so a message being retried is never
// delivered again in parallel. One subscription, each message acked
// synchronously before the next, made the pipeline as slow as one handler
// transaction plus two round trips to NATS.
//
// Config.EventHandlerConns (EVENT_HANDLER_CONNS, default 16) sizes the event
// handlers' own database pool: with that many messages in flight per topic
// they would otherwise queue for the connections the HTTP API uses, and the
// API for theirs.

// handlerApplication is the application the event handlers run with, on a
// pool of their own (closed by the caller after the router stopped).
//
// On Postgres the handlers commit without waiting for the WAL flush
// (synchronous_commit=off): the subscriber acks a message by a synchronous
// commit made after the handler's, and a flush writes the WAL in order, so an
// acked message's effects are always on disk with its ack. A crash can only
// lose the effects of messages not yet acked, which are delivered again. The
// batch's ack is then the one flush for up to BatchSize events instead of one
// per event. On NATS the ack goes to the broker, not to this WAL: the handlers
// commit synchronously.
func handlerApplication(ctx context.Context, cfg Config, logger *slog.Logger, pool *pgxpool.Pool) (app.Application, *pgxpool.Pool, error) {
	pcfg := pool.Config()
	pcfg.MaxConns, pcfg.MinConns = cfg.eventHandlerConns(), 0
	if cfg.EventsBackend == pubsub.Postgres {
		pcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	hp, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return app.Application{}, nil, fmt.Errorf("create event handler pool: %w", err)
	}
	uow, err := unitOfWork(cfg, logger, hp)
	if err != nil {
		hp.Close()
		return app.Application{}, nil, err
	}
	// Event handlers need no password hasher or token issuer.
	return app.New(app.Deps{UoW: uow, Reads: postgres.NewReadModel(hp)}), hp, nil
}

// broker opens the event backend. With NATS and no NATS_URL it starts the
// embedded server if embedded allows it.
type broker struct {
	backend  *pubsub.Backend
	embedded *natsadapter.Embedded
	subPool  *pgxpool.Pool
}

// openBroker connects to the configured backend. subscriberConns sizes the
// pool watermill-sql subscribers read with (0: no subscribers in this process).
func openBroker(ctx context.Context, cfg Config, logger *slog.Logger, pool *pgxpool.Pool, embedded bool, subscriberConns int) (*broker, error) {
	b := &broker{}
	var dial natsadapter.Dialer
	if cfg.EventsBackend == pubsub.NATS {
		switch {
		case cfg.NATSURL != "":
			dial = natsadapter.External(cfg.NATSURL, natsadapter.ConnOptions{}, logger)
		case !embedded:
			return nil, errSplitNeedsBroker
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
	if subscriberConns > 0 {
		pcfg := pool.Config()
		pcfg.MaxConns = int32(subscriberConns)
		pcfg.MinConns = 0
		sp, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			b.close()
			return nil, fmt.Errorf("create subscriber pool: %w", err)
		}
		b.subPool = sp
	}
	policy := router.DefaultPolicy()
	backend, err := pubsub.Open(pubsub.Config{
		Backend:        cfg.EventsBackend,
		Pool:           pool,
		SubscriberPool: b.subPool,
		Dial:           dial,
		PoisonTopic:    router.PoisonTopic,
		AckWait:        policy.AckWait(),
		// See pubsub.Config.MaxAckPending for the trade-off.
		MaxAckPending: 64,
		Subscribers:   cfg.eventSubscribers(),
		// Handlers are idempotent: a lost ack costs a redelivery that
		// stores nothing, and waiting for each ack's confirmation halved
		// the throughput.
		AckAsync:     true,
		CloseTimeout: cfg.ShutdownTimeout,
		Logger:       logger,
	})
	if err != nil {
		b.close()
		return nil, fmt.Errorf("EVENTS_BACKEND=%s: %w", cfg.EventsBackend, err)
	}
	b.backend = backend
	return b, nil
}

// close releases the broker: backend connection, subscriber pool, then the
// embedded server.
func (b *broker) close() {
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

func subscriptions(hs []router.Handler) []pubsub.Subscription {
	out := make([]pubsub.Subscription, len(hs))
	for i, h := range hs {
		out[i] = pubsub.Subscription{Handler: h.Name, Topics: h.Topics}
	}
	return out
}

// subscriberConns: one per handler and topic, plus the forwarder and slack.
func subscriberConns(hs []router.Handler) int {
	n := 4
	for _, h := range hs {
		n += len(h.Topics)
	}
	return n
}

// processing is the running forwarder (NATS) and router of a process.
type processing struct {
	forwarder *pubsub.Forwarder
	router    *router.Router
	poisonPub message.Publisher
	done      chan error // the first unexpected stop of forwarder or router
	log       *slog.Logger
}

// startProcessing provisions streams/consumers (or tables), then starts the
// forwarder (NATS backend) and the router, and returns once both run.
func startProcessing(ctx context.Context, b *broker, application app.Application, reg prometheus.Registerer, logger *slog.Logger, cfg Config) (*processing, error) {
	handlers := router.Handlers(application)
	if err := b.backend.Provision(ctx, subscriptions(handlers)); err != nil {
		return nil, fmt.Errorf("EVENTS_BACKEND=%s: provision: %w", cfg.EventsBackend, err)
	}
	p := &processing{done: make(chan error, 2), log: logger}
	decorate := func(r *message.Router) {
		metrics.NewPrometheusMetricsBuilder(reg, "", "").AddPrometheusRouterMetrics(r)
	}
	if b.backend.Kind() == pubsub.NATS {
		fwd, err := b.backend.Forwarder(decorate)
		if err != nil {
			return nil, err
		}
		p.forwarder = fwd
		go func() { p.done <- stopped("outbox forwarder", fwd.Run(context.WithoutCancel(ctx))) }()
		if err := p.wait(ctx, fwd.Running()); err != nil {
			p.stop()
			return nil, err
		}
	}
	poisonPub, err := b.backend.PoisonPublisher()
	if err != nil {
		p.stop()
		return nil, err
	}
	p.poisonPub = poisonPub
	r, err := router.New(router.Config{
		Handlers:        handlers,
		Subscriber:      b.backend.Subscriber,
		PoisonPublisher: poisonPub,
		Policy:          router.DefaultPolicy(),
		CloseTimeout:    cfg.ShutdownTimeout,
		Logger:          logger,
		Metrics:         reg,
	})
	if err != nil {
		p.stop()
		return nil, err
	}
	p.router = r
	go func() { p.done <- stopped("router", r.Run(context.WithoutCancel(ctx))) }()
	if err := p.wait(ctx, r.Running()); err != nil {
		p.stop()
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

// watch cancels the process (with the reason) if the forwarder or the router
// stops on its own.
func (p *processing) watch(ctx context.Context, cancel context.CancelCauseFunc) {
	select {
	case err := <-p.done:
		cancel(err)
	case <-ctx.Done():
	}
}

func (p *processing) wait(ctx context.Context, running chan struct{}) error {
	select {
	case <-running:
		return nil
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop closes, in order, the router (in-flight messages finish or are left
// unacked for redelivery), the forwarder and the poison publisher.
func (p *processing) stop() {
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
