package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/thoughts-project/thoughts/adapters/postgres"
)

// The commands of the `thoughts` binary, each a composition of Open,
// StartProcessing and Serve.

// Serve runs everything in one process: migrations, the event processing
// (with an embedded NATS server when the backend is NATS and NATS_URL is
// empty) and the HTTP API, until ctx is cancelled.
func Serve(ctx context.Context, cfg Config, logger *slog.Logger) error {
	return run(ctx, cfg, logger, serveOptions)
}

var (
	serveOptions  = Options{Migrate: true, Embedded: true, API: true, Processing: true}
	apiOptions    = Options{API: true}
	routerOptions = Options{RequireMigrated: true, Processing: true}
)

// API runs the HTTP API alone; events go to the outbox for a router to
// process.
func API(ctx context.Context, cfg Config, logger *slog.Logger) error {
	return run(ctx, cfg, logger, apiOptions)
}

// Router runs the outbox forwarder (NATS) and the event router, with
// /metrics and /healthz on HTTP_ADDR. Several may run: they share the work.
func Router(ctx context.Context, cfg Config, logger *slog.Logger) error {
	return run(ctx, cfg, logger, routerOptions)
}

func run(ctx context.Context, cfg Config, logger *slog.Logger, opts Options) error {
	s, err := Open(ctx, cfg, logger, opts)
	if err != nil {
		return err
	}
	// Deferred first, so it runs last: HTTP has stopped by the time Serve
	// returns, then processing, broker and pools close in reverse order.
	defer s.Close()
	var handler http.Handler = s.OpsHandler()
	if opts.API {
		if handler, err = s.APIHandler(); err != nil {
			return err
		}
		s.StartKeyBackfill(ctx)
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = s.Listen(); err != nil {
			return err
		}
	}
	if opts.Processing {
		if err := s.StartProcessing(ctx); err != nil {
			ln.Close()
			return err
		}
	}
	return s.Serve(ctx, ln, handler)
}

// Migrate applies the database migrations and the outbox schema.
func Migrate(ctx context.Context, cfg Config, logger *slog.Logger) error {
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	return applySchema(ctx, pool, logger)
}
