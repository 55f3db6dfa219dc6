// Package service is Thoughts' composition root. From a Config it builds the
// database pool, unit of work, application, event broker, event processing
// and HTTP server of a process, runs them, and shuts them down in reverse
// order. The `thoughts` commands, the benchmarks and the test rigs all build
// a process through it, so there is one wiring to read and to test.
//
//	s, err := service.Open(ctx, cfg, logger, service.Options{API: true, Processing: true, Migrate: true, Embedded: true})
//	defer s.Close()
//	err = s.StartProcessing(ctx)
//	err = s.Serve(ctx, endpoints...) // HTTP until ctx is done or processing fails
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/adapters/logs"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/ports/metrics"
	"github.com/thoughts-project/thoughts/router"
)

// Options say which parts a process runs.
type Options struct {
	// Migrate applies the migrations and the outbox schema first (serve).
	Migrate bool
	// RequireMigrated refuses a database with migrations pending (router;
	// the API instead answers /readyz 503 until they are applied).
	RequireMigrated bool
	// Embedded allows the embedded NATS server (see BrokerOptions).
	Embedded bool
	// API builds what the HTTP API needs: token issuer and password hasher.
	API bool
	// Processing builds the event handlers, on a pool of their own, for
	// StartProcessing.
	Processing bool
	// Handlers lists the event handlers, built from the handlers'
	// dependencies; nil is router.Handlers. Benchmarks wrap the real ones to
	// observe them.
	Handlers func(app.Deps) []router.Handler
	// Listener and MetricsListener, if set, are where the commands serve
	// HTTP instead of HTTP_ADDR and METRICS_ADDR (tests hand over listeners
	// on port 0).
	Listener, MetricsListener net.Listener
}

// Service is one process's parts. Close releases them.
type Service struct {
	Config Config
	Log    *slog.Logger
	// Pool serves the HTTP API, publishers and tooling.
	Pool *pgxpool.Pool
	// UoW commits changes with their events to the backend's outbox layout.
	UoW *postgres.UnitOfWork
	// App is the application the HTTP API calls (without Options.API it
	// has no hasher or token issuer).
	App app.Application
	// Tokens issues and checks access tokens (Options.API).
	Tokens *auth.JWT
	// Metrics is the process's Prometheus registry.
	Metrics *prometheus.Registry
	// Handlers are the event handlers (Options.Processing).
	Handlers []router.Handler

	opts   Options
	broker *Broker
	// listeners are background loops tied to the service's life (the
	// session revocation listener); stopListeners ends them.
	listeners     sync.WaitGroup
	stopListeners []context.CancelFunc
	handlerPool   *pgxpool.Pool
	processing    *Processing
	fed           *federationParts // see federation.go
	delivery      *deliveryParts   // see delivery.go
	// outboxes are those of the units of work above (the application's and
	// the handlers'): once the broker is open they wake its consumers.
	outboxes []*outbox.Outbox
}

// Open builds the parts opts ask for, in order: pool (and schema), unit of
// work, application, the handlers' pool and application, event broker,
// metrics. On error, what was built is released.
func Open(ctx context.Context, cfg Config, logger *slog.Logger, opts Options) (_ *Service, err error) {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Service{Config: cfg, Log: logger, opts: opts, Metrics: metrics.NewRegistry()}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Pool, err = postgres.Connect(ctx, cfg.DatabaseURL); err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	switch {
	case opts.Migrate:
		if err := applySchema(ctx, s.Pool, logger); err != nil {
			return nil, err
		}
	case opts.RequireMigrated:
		if pending, err := postgres.MigrationsPending(ctx, s.Pool); err != nil {
			return nil, err
		} else if pending {
			return nil, errors.New("DATABASE_URL: database migrations are pending; run `thoughts migrate` first")
		}
	}
	if s.UoW, err = s.unitOfWork(s.Pool); err != nil {
		return nil, err
	}
	deps := app.Deps{UoW: s.UoW, Reads: postgres.NewReadModel(s.Pool)}
	if opts.API {
		deps.APIKeys = postgres.NewAPIKeys(s.Pool)
		deps.Sessions = postgres.NewSessions(s.Pool)
		secret, err := cfg.jwtSecret()
		if err != nil {
			return nil, err
		}
		if s.Tokens, err = auth.NewJWT(secret, cfg.JWTTTL, cfg.PublicURL); err != nil {
			return nil, fmt.Errorf("JWT_SECRET: %w", err)
		}
		work := auth.DefaultWorkLimits(auth.DefaultArgon2Params, auth.DefaultArgon2MemoryBudget)
		if cfg.PasswordWork.Concurrent > 0 {
			work.Concurrent = cfg.PasswordWork.Concurrent
		}
		if cfg.PasswordWork.Queue > 0 {
			work.Queue = cfg.PasswordWork.Queue
		}
		if cfg.PasswordWork.Wait > 0 {
			work.Wait = cfg.PasswordWork.Wait
		}
		if deps.Hasher, err = auth.NewGatedArgon2Hasher(auth.DefaultArgon2Params, auth.NewWorkGate(work)); err != nil {
			return nil, err
		}
		deps.Tokens = s.Tokens
	}
	s.App = app.New(s.withFederation(deps))
	if opts.Processing {
		handlerDeps, err := s.handlerDeps(ctx)
		if err != nil {
			return nil, err
		}
		list := router.Handlers
		if opts.Handlers != nil {
			list = opts.Handlers
		}
		s.Handlers = list(handlerDeps)
		if err := router.ValidateHandlers(s.Handlers); err != nil {
			return nil, err
		}
	}
	brokerOpts := BrokerOptions{Embedded: opts.Embedded}
	if opts.Processing {
		brokerOpts.SubscriberConns = subscriberConns(s.Handlers)
	}
	if s.broker, err = OpenBroker(ctx, cfg, logger, s.Pool, brokerOpts); err != nil {
		return nil, err
	}
	s.Metrics.MustRegister(s.broker.Backend().Collector(Subscriptions(s.Handlers)))
	// A commit wakes this process's consumers of its tables directly; the
	// database's announcement is for other processes' (and comes later,
	// coalesced).
	for _, ob := range s.outboxes {
		ob.WakeLocally(s.broker.Backend().Wake)
	}
	return s, nil
}

// Broker is the process's event broker.
func (s *Service) Broker() *Broker { return s.broker }

// handlerDeps are what the event handlers run with: a unit of work and reads
// on a pool of their own (closed by Close after the router stopped).
//
// On Postgres the handlers commit without waiting for the WAL flush
// (synchronous_commit=off): the subscriber acks a message by a synchronous
// commit made after the handler's, and a flush writes the WAL in order, so an
// acked message's effects are always on disk with its ack. A crash can only
// lose the effects of messages not yet acked, which are delivered again. The
// batch's ack is then the one flush for up to BatchSize events instead of one
// per event. On NATS the ack goes to the broker, not to this WAL: the handlers
// commit synchronously.
func (s *Service) handlerDeps(ctx context.Context) (app.Deps, error) {
	pcfg := s.Pool.Config()
	pcfg.MaxConns, pcfg.MinConns = s.Config.eventHandlerConns(), 0
	if s.Config.EventsBackend == pubsub.Postgres {
		pcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	hp, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return app.Deps{}, fmt.Errorf("create event handler pool: %w", err)
	}
	s.handlerPool = hp
	uow, err := s.unitOfWork(hp)
	if err != nil {
		return app.Deps{}, err
	}
	// Event handlers need no password hasher or token issuer. The
	// federation handlers read and enqueue on the handlers' pool.
	fed := s.federation().deps
	return app.Deps{UoW: uow, Reads: postgres.NewReadModel(hp), Federation: &fed, PublicURL: s.Config.PublicURL,
		OutboundStore: postgres.NewOutbound(hp), RemoteActors: s.federation().app.ResolveRemoteActor}, nil
}

// StartProcessing starts the outbox forwarder (NATS) and the router with the
// service's handlers (Options.Processing), and the retention pruner
// (retention.go), and returns once they run. They run until Close; Done
// reports an unexpected stop.
func (s *Service) StartProcessing(ctx context.Context) error {
	if !s.opts.Processing {
		return errors.New("service opened without Options.Processing")
	}
	if s.processing != nil {
		return errors.New("event processing already started")
	}
	p, err := StartProcessing(context.WithoutCancel(ctx), s.broker, s.Handlers, s.Metrics, s.Log, s.Config)
	if err != nil {
		return err
	}
	s.processing = p
	if s.Config.Retention.interval() > 0 {
		pr, err := newPruner(s.Pool, s.Config.Retention, s.Log, s.Metrics)
		if err != nil {
			return err
		}
		pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		s.listeners.Go(func() { pr.run(pctx) })
		s.stopListeners = append(s.stopListeners, cancel)
	}
	return s.startDelivery(ctx)
}

// Done receives the reason if event processing stops on its own; nil (never
// ready) when the service runs none.
func (s *Service) Done() <-chan error {
	if s.processing == nil {
		return nil
	}
	return s.processing.Done()
}

// Close shuts down in reverse order of start-up: the key backfill, event
// processing (router, forwarder, poison publisher), the broker, the
// handlers' pool, the pool.
// HTTP is stopped by Run before it returns.
func (s *Service) Close() {
	for _, stop := range s.stopListeners {
		stop()
	}
	s.listeners.Wait()
	s.stopListeners = nil
	s.stopDelivery()
	s.stopFederation()
	if s.processing != nil {
		s.processing.Stop()
		s.processing = nil
	}
	if s.broker != nil {
		s.broker.Close()
		s.broker = nil
	}
	if s.handlerPool != nil {
		s.handlerPool.Close()
		s.handlerPool = nil
	}
	if s.Pool != nil {
		s.Pool.Close()
		s.Pool = nil
	}
}

// UnitOfWork commits on pool, writing events to the outbox layout of the
// configured backend.
func UnitOfWork(cfg Config, logger *slog.Logger, pool *pgxpool.Pool) (*postgres.UnitOfWork, error) {
	uow, _, err := newUnitOfWork(cfg, logger, pool)
	return uow, err
}

// unitOfWork is UnitOfWork, keeping its outbox to wake the broker's
// consumers once the broker is open.
func (s *Service) unitOfWork(pool *pgxpool.Pool) (*postgres.UnitOfWork, error) {
	uow, ob, err := newUnitOfWork(s.Config, s.Log, pool)
	if err != nil {
		return nil, err
	}
	s.outboxes = append(s.outboxes, ob)
	return uow, nil
}

func newUnitOfWork(cfg Config, logger *slog.Logger, pool *pgxpool.Pool) (*postgres.UnitOfWork, *outbox.Outbox, error) {
	mode := outbox.Forward
	if cfg.EventsBackend == pubsub.Postgres {
		mode = outbox.Direct
	}
	ob := outbox.New(mode, logs.Watermill(logger))
	// Committed events wake idle consumers, in this process or another.
	ob.AnnounceOn(pool, logger)
	uow, err := postgres.NewUnitOfWork(pool, ob)
	return uow, ob, err
}

// applySchema runs the SQL migrations and creates the outbox tables.
func applySchema(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	if err := postgres.Migrate(ctx, pool, logger); err != nil {
		return err
	}
	if err := outbox.InitSchema(ctx, wsql.BeginnerFromPgx(pool), logs.Watermill(logger)); err != nil {
		return err
	}
	logger.InfoContext(ctx, "schema is up to date")
	return nil
}
