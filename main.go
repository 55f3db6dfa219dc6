// Command thoughts runs the Thoughts federated microblogging backend.
//
//	thoughts serve     everything in one process
//	thoughts api       HTTP API only
//	thoughts router    outbox forwarder and event router
//	thoughts migrate   apply migrations and exit
//	thoughts poison    inspect and replay the poison queue
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/adapters/logs"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/ports/httpapi"
	"github.com/thoughts-project/thoughts/ports/metrics"
	"github.com/thoughts-project/thoughts/router"
)

const usage = `usage: thoughts <command>

commands:
  serve     migrations, HTTP API and event processing in one process
            (with EVENTS_BACKEND=nats and no NATS_URL: an embedded NATS server)
  api       HTTP API only
  router    outbox forwarder and event router; /metrics and /healthz on HTTP_ADDR
  migrate   apply database migrations and exit
  poison    list | show ID | requeue ID | requeue --all | purge
            inspect and replay events their handlers gave up on

configuration is read from the environment; see README.md.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "thoughts:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(os.Stderr, usage)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	logger, err := logs.New(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch args[0] {
	case "migrate":
		return migrate(ctx, cfg, logger)
	case "serve":
		return serve(ctx, cfg, logger, true)
	case "api":
		return serve(ctx, cfg, logger, false)
	case "router":
		return runRouter(ctx, cfg, logger)
	case "poison":
		return poison(ctx, cfg, logger, args[1:], os.Stdout)
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func migrate(ctx context.Context, cfg Config, logger *slog.Logger) error {
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	return applySchema(ctx, pool, logger)
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

// serve runs the HTTP API; with all set it first applies migrations and runs
// the event processing (forwarder and router) in the same process.
func serve(ctx context.Context, cfg Config, logger *slog.Logger, all bool) error {
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	if all {
		if err := applySchema(ctx, pool, logger); err != nil {
			return err
		}
	}

	secret, err := cfg.jwtSecret()
	if err != nil {
		return err
	}
	tokens, err := auth.NewJWT(secret, cfg.JWTTTL, cfg.PublicURL)
	if err != nil {
		return fmt.Errorf("JWT_SECRET: %w", err)
	}
	hasher, err := auth.NewArgon2Hasher(auth.DefaultArgon2Params)
	if err != nil {
		return err
	}
	uow, err := unitOfWork(cfg, logger, pool)
	if err != nil {
		return err
	}
	application := app.New(app.Deps{
		UoW: uow, Hasher: hasher, Tokens: tokens, Reads: postgres.NewReadModel(pool), APIKeys: postgres.NewAPIKeys(pool),
	})

	handlers := router.Handlers(application)
	conns := 0
	if all {
		conns = subscriberConns(handlers)
	}
	b, err := openBroker(ctx, cfg, logger, pool, all, conns)
	if err != nil {
		return err
	}
	defer b.close()
	reg := metrics.NewRegistry()
	reg.MustRegister(b.backend.Collector(subscriptions(handlers)))

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if all {
		handlerApp, handlerPool, err := handlerApplication(ctx, cfg, logger, pool)
		if err != nil {
			return err
		}
		defer handlerPool.Close()
		p, err := startProcessing(ctx, b, handlerApp, reg, logger, cfg)
		if err != nil {
			return err
		}
		// Deferred after the broker's close, so it runs before it: HTTP
		// stops first (runHTTP returns), then the router and forwarder,
		// then the publishers, NATS and the pool.
		defer p.stop()
		go p.watch(ctx, cancel)
	}

	httpMetrics, err := metrics.NewHTTP(reg)
	if err != nil {
		return err
	}
	handler := httpapi.New(httpapi.Config{
		App: application, Tokens: tokens, Logger: logger, PublicURL: cfg.PublicURL,
		Ready:      readiness(pool),
		Routes:     []func(*mux.Router){httpMetrics.Routes},
		Middleware: []mux.MiddlewareFunc{httpMetrics.Middleware},
	})
	err = runHTTP(ctx, cfg, logger, handler)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return errors.Join(cause, err)
	}
	return err
}

// runRouter runs the outbox forwarder (NATS) and the router, with /metrics and
// /healthz on HTTP_ADDR. Several may run: they share the work.
func runRouter(ctx context.Context, cfg Config, logger *slog.Logger) error {
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	if pending, err := postgres.MigrationsPending(ctx, pool); err != nil {
		return err
	} else if pending {
		return errors.New("DATABASE_URL: database migrations are pending; run `thoughts migrate` first")
	}
	uow, err := unitOfWork(cfg, logger, pool)
	if err != nil {
		return err
	}
	// Event handlers need no password hasher or token issuer.
	application := app.New(app.Deps{UoW: uow, Reads: postgres.NewReadModel(pool)})
	handlers := router.Handlers(application)
	b, err := openBroker(ctx, cfg, logger, pool, false, subscriberConns(handlers))
	if err != nil {
		return err
	}
	defer b.close()
	reg := metrics.NewRegistry()
	reg.MustRegister(b.backend.Collector(subscriptions(handlers)))

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	handlerApp, handlerPool, err := handlerApplication(ctx, cfg, logger, pool)
	if err != nil {
		return err
	}
	defer handlerPool.Close()
	p, err := startProcessing(ctx, b, handlerApp, reg, logger, cfg)
	if err != nil {
		return err
	}
	defer p.stop()
	go p.watch(ctx, cancel)

	srv := http.NewServeMux()
	srv.Handle("GET /metrics", metrics.Handler(reg))
	srv.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	err = runHTTP(ctx, cfg, logger, srv)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return errors.Join(cause, err)
	}
	return err
}

// unitOfWork writes events to the outbox layout of the configured backend.
func unitOfWork(cfg Config, logger *slog.Logger, pool *pgxpool.Pool) (*postgres.UnitOfWork, error) {
	mode := outbox.Forward
	if cfg.EventsBackend == pubsub.Postgres {
		mode = outbox.Direct
	}
	return postgres.NewUnitOfWork(pool, outbox.New(mode, logs.Watermill(logger)))
}

// readiness reports the database reachable and fully migrated. Once migrations
// are seen applied, only reachability is checked again.
func readiness(pool *pgxpool.Pool) func(context.Context) error {
	var migrated atomic.Bool
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("database unreachable: %w", err)
		}
		if migrated.Load() {
			return nil
		}
		pending, err := postgres.MigrationsPending(ctx, pool)
		if err != nil {
			return err
		}
		if pending {
			return errors.New("database migrations are pending; run `thoughts migrate`")
		}
		migrated.Store(true)
		return nil
	}
}

// runHTTP serves until ctx is cancelled, then drains in-flight requests.
func runHTTP(ctx context.Context, cfg Config, logger *slog.Logger, handler http.Handler) error {
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	logger.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "events_backend", cfg.EventsBackend)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining HTTP requests", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("drain HTTP requests: %w", err)
	}
	logger.Info("HTTP server stopped")
	return nil
}
