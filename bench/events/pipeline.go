package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/logs"
	natsadapter "github.com/thoughts-project/thoughts/adapters/nats"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/events"
	portmetrics "github.com/thoughts-project/thoughts/ports/metrics"
	"github.com/thoughts-project/thoughts/router"
)

// shutdownTimeout stands in for SHUTDOWN_TIMEOUT, as CloseTimeout everywhere.
const shutdownTimeout = 15 * time.Second

// pipeline is Thoughts' event processing, wired as `thoughts serve` wires it
// in main.go and events.go (unitOfWork, openBroker, startProcessing): the
// unit of work with the outbox of the backend's layout, an embedded NATS
// server (NATS), the subscriber pool, the backend, the forwarder (NATS), the
// poison publisher and the router with router.Handlers and
// router.DefaultPolicy, Prometheus metrics registered as in serve.
//
// One addition: each handler's Handle is wrapped to report the event to the
// tracker after it returned success, i.e. after the notification's
// transaction committed. That costs a map insert per event.
type pipeline struct {
	kind        string
	app         app.Application
	uow         *postgres.UnitOfWork
	cast        cast
	dataDir     string
	embedded    *natsadapter.Embedded
	subPool     *pgxpool.Pool
	handlerPool *pgxpool.Pool // events.go handlerApplication
	backend     *pubsub.Backend
	forwarder   *pubsub.Forwarder
	router      *router.Router
	poisonPub   message.Publisher
	runs        sync.WaitGroup
	tr          atomic.Pointer[tracker]
	failure     atomic.Pointer[error]
	stopRunning context.CancelFunc
}

// startPipeline seeds db and starts the pipeline of kind on it.
func startPipeline(ctx context.Context, kind string, db *pgxpool.Pool, users int, tune Tuning, logger *slog.Logger) (_ *pipeline, err error) {
	p := &pipeline{kind: kind}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	// main.go unitOfWork.
	mode := outbox.Forward
	if kind == pubsub.Postgres {
		mode = outbox.Direct
	}
	p.uow, err = postgres.NewUnitOfWork(db, outbox.New(mode, logs.Watermill(logger)))
	if err != nil {
		return nil, err
	}
	// main.go serve: the application (the event handlers need neither the
	// hasher nor the token issuer).
	p.app = app.New(app.Deps{UoW: p.uow, Reads: postgres.NewReadModel(db)})
	if p.cast, err = seed(ctx, p.uow, users); err != nil {
		return nil, err
	}

	// events.go handlerApplication: the handlers' own pool.
	handlerApp := p.app
	{
		hcfg := db.Config()
		hcfg.MaxConns, hcfg.MinConns = int32(cmp.Or(tune.HandlerPool, serveHandlerConns)), 0
		if kind == pubsub.Postgres {
			hcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
		}
		if p.handlerPool, err = pgxpool.NewWithConfig(ctx, hcfg); err != nil {
			return nil, fmt.Errorf("create handler pool: %w", err)
		}
		huow, err := postgres.NewUnitOfWork(p.handlerPool, outbox.New(mode, logs.Watermill(logger)))
		if err != nil {
			return nil, err
		}
		handlerApp = app.New(app.Deps{UoW: huow, Reads: postgres.NewReadModel(p.handlerPool)})
	}
	handlers := router.Handlers(handlerApp)
	for i := range handlers {
		handle := handlers[i].Handle
		handlers[i].Handle = func(ctx context.Context, env events.Envelope) error {
			if err := handle(ctx, env); err != nil {
				return err
			}
			if tr := p.tr.Load(); tr != nil {
				tr.handled(env.ID)
			}
			return nil
		}
	}
	subs := make([]pubsub.Subscription, len(handlers))
	conns := 4 // events.go subscriberConns: one per handler and topic, plus the forwarder and slack
	for i, h := range handlers {
		subs[i] = pubsub.Subscription{Handler: h.Name, Topics: h.Topics}
		conns += len(h.Topics)
	}

	// events.go openBroker.
	var dial natsadapter.Dialer
	if kind == pubsub.NATS {
		if p.dataDir, err = os.MkdirTemp("", "thoughts-bench-events-"); err != nil {
			return nil, fmt.Errorf("create NATS data directory: %w", err)
		}
		if p.embedded, err = natsadapter.StartEmbedded(filepath.Join(p.dataDir, "nats"), logger); err != nil {
			return nil, err
		}
		dial = p.embedded.Dial
	}
	pcfg := db.Config()
	pcfg.MaxConns = int32(conns)
	pcfg.MinConns = 0
	if p.subPool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return nil, fmt.Errorf("create subscriber pool: %w", err)
	}
	policy := router.DefaultPolicy()
	p.backend, err = pubsub.Open(pubsub.Config{
		Backend:        kind,
		Pool:           db,
		SubscriberPool: p.subPool,
		Dial:           dial,
		PoisonTopic:    router.PoisonTopic,
		AckWait:        policy.AckWait(),
		MaxAckPending:  64,
		CloseTimeout:   shutdownTimeout,
		Logger:         logger,
		// Serve's unless a -tune flag is given.
		Subscribers: cmp.Or(tune.Subscribers, serveSubscribers),
		AckAsync:    !tune.AckSync,
		BatchSize:   tune.BatchSize,
	})
	if err != nil {
		return nil, err
	}
	reg := portmetrics.NewRegistry()
	reg.MustRegister(p.backend.Collector(subs))

	// events.go startProcessing.
	if err := p.backend.Provision(ctx, subs); err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	runCtx, stopRunning := context.WithCancel(context.WithoutCancel(ctx))
	p.stopRunning = stopRunning
	if kind == pubsub.NATS {
		p.forwarder, err = p.backend.Forwarder(func(r *message.Router) {
			metrics.NewPrometheusMetricsBuilder(reg, "", "").AddPrometheusRouterMetrics(r)
		})
		if err != nil {
			return nil, err
		}
		if err := p.run(runCtx, "outbox forwarder", p.forwarder.Run, p.forwarder.Running()); err != nil {
			return nil, err
		}
	}
	if p.poisonPub, err = p.backend.PoisonPublisher(); err != nil {
		return nil, err
	}
	p.router, err = router.New(router.Config{
		Handlers:        handlers,
		Subscriber:      p.backend.Subscriber,
		PoisonPublisher: p.poisonPub,
		Policy:          policy,
		CloseTimeout:    shutdownTimeout,
		Logger:          logger,
		Metrics:         reg,
	})
	if err != nil {
		return nil, err
	}
	if err := p.run(runCtx, "router", p.router.Run, p.router.Running()); err != nil {
		return nil, err
	}
	return p, nil
}

// run starts fn and waits until running is closed.
func (p *pipeline) run(ctx context.Context, what string, fn func(context.Context) error, running chan struct{}) error {
	done := make(chan struct{})
	p.runs.Add(1)
	go func() {
		defer p.runs.Done()
		defer close(done)
		err := fn(ctx)
		if err == nil {
			err = errors.New("returned")
		}
		err = fmt.Errorf("%s stopped: %w", what, err)
		p.failure.CompareAndSwap(nil, &err)
	}()
	select {
	case <-running:
		return nil
	case <-done:
		return *p.failure.Load()
	case <-time.After(time.Minute):
		return fmt.Errorf("%s did not start within a minute", what)
	}
}

func (p *pipeline) track(t *tracker) { p.tr.Store(t) }

func (p *pipeline) stopped() error {
	if err := p.failure.Load(); err != nil {
		return *err
	}
	return nil
}

// commit is a command's write path: one transaction that appends a LikeAdded
// to the outbox with tx.Publish. The context carries a correlation ID, as an
// HTTP request's does.
func (p *pipeline) commit(ctx context.Context, seq int) (uuid.UUID, error) {
	env := p.envelope(ctx, seq)
	err := p.uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		return tx.Publish(ctx, env)
	})
	return env.ID, err
}

func (p *pipeline) envelope(ctx context.Context, seq int) events.Envelope {
	liker, thought := p.cast.like(seq)
	ctx = events.WithCorrelationID(ctx, uuid.NewString())
	return events.New(ctx, liker, events.LikeAdded{LikeID: uuid.Must(uuid.NewV7()), UserID: liker, ThoughtID: thought}, command.SystemClock())
}

// close shuts down in serve's order: router, forwarder, poison publisher,
// then the backend, the subscriber pool and the embedded server.
func (p *pipeline) close() {
	// Stops are expected from here on.
	stopping := errors.New("closed")
	p.failure.CompareAndSwap(nil, &stopping)
	if p.router != nil {
		_ = p.router.Close()
	}
	if p.forwarder != nil {
		_ = p.forwarder.Close()
	}
	if p.stopRunning != nil {
		p.stopRunning()
	}
	p.runs.Wait()
	if p.poisonPub != nil {
		_ = p.poisonPub.Close()
	}
	if p.backend != nil {
		_ = p.backend.Close()
	}
	if p.subPool != nil {
		p.subPool.Close()
	}
	if p.handlerPool != nil {
		p.handlerPool.Close()
	}
	if p.embedded != nil {
		p.embedded.Shutdown()
	}
	if p.dataDir != "" {
		_ = os.RemoveAll(p.dataDir)
	}
}
