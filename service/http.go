package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/ports/httpapi"
	"github.com/thoughts-project/thoughts/ports/metrics"
)

// APIHandler is the HTTP API (Options.API) with /healthz, /readyz,
// /metrics and the ActivityPub routes.
func (s *Service) APIHandler() (http.Handler, error) {
	if !s.opts.API {
		return nil, errors.New("service opened without Options.API")
	}
	httpMetrics, err := metrics.NewHTTP(s.Metrics)
	if err != nil {
		return nil, err
	}
	ap, err := s.activityPub()
	if err != nil {
		return nil, err
	}
	return httpapi.New(httpapi.Config{
		App: s.App, Tokens: s.Tokens, Logger: s.Log, PublicURL: s.Config.PublicURL,
		Ready:      readiness(s.Pool),
		Routes:     []func(*mux.Router){httpMetrics.Routes, ap.Routes},
		Middleware: []mux.MiddlewareFunc{httpMetrics.Middleware},
	}), nil
}

// OpsHandler serves /metrics and /healthz, for a process without the API.
func (s *Service) OpsHandler() http.Handler {
	srv := http.NewServeMux()
	srv.Handle("GET /metrics", metrics.Handler(s.Metrics))
	srv.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	return srv
}

// Serve serves handler on ln until ctx is done or event processing stops on
// its own, then drains in-flight requests. The error says why it stopped,
// unless ctx was simply cancelled.
func (s *Service) Serve(ctx context.Context, ln net.Listener, handler http.Handler) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if done := s.Done(); done != nil {
		go func() {
			select {
			case err := <-done:
				cancel(err)
			case <-ctx.Done():
			}
		}()
	}
	s.Log.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "public_url", s.Config.PublicURL, "events_backend", s.Config.EventsBackend)
	err := serveHTTP(ctx, ln, handler, s.Config.ShutdownTimeout, s.Log)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return errors.Join(cause, err)
	}
	return err
}

// Listen opens HTTP_ADDR.
func (s *Service) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.Config.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("HTTP_ADDR: %w", err)
	}
	return ln, nil
}

// serveHTTP serves on ln until ctx is cancelled, then drains in-flight
// requests for up to drain.
func serveHTTP(ctx context.Context, ln net.Listener, handler http.Handler, drain time.Duration, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining HTTP requests", "timeout", drain)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("drain HTTP requests: %w", err)
	}
	logger.Info("HTTP server stopped")
	return nil
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
