package service

import (
	"context"
	"fmt"
	"log/slog"

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
// /healthz on HTTP_ADDR. Several may run: they share the work.
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
	primary := Endpoint{Name: "api", Listener: opts.Listener, Handler: s.OpsHandler()}
	if opts.API {
		if primary.Handler, err = s.APIHandler(); err != nil {
			return err
		}
	}
	if primary.Listener == nil {
		if primary.Listener, err = Listen("HTTP_ADDR", cfg.HTTPAddr); err != nil {
			return err
		}
	}
	endpoints := []Endpoint{primary}
	metrics := Endpoint{Name: "metrics", Listener: opts.MetricsListener, Handler: s.MetricsHandler()}
	if metrics.Listener == nil && cfg.MetricsAddr != "" {
		if metrics.Listener, err = Listen("METRICS_ADDR", cfg.MetricsAddr); err != nil {
			primary.Listener.Close()
			return err
		}
	}
	if metrics.Listener != nil {
		endpoints = append(endpoints, metrics)
	}
	if opts.Processing {
		if err := s.StartProcessing(ctx); err != nil {
			for _, ep := range endpoints {
				ep.Listener.Close()
			}
			return err
		}
	}
	return s.Serve(ctx, endpoints...)
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
