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
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/ports/httpapi"
	"github.com/thoughts-project/thoughts/ports/metrics"
)

// APIHandler is the HTTP API (Options.API) with /healthz, /readyz and the
// ActivityPub routes, its requests counted in the service's metrics.
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
	api := httpapi.New(httpapi.Config{
		App: s.App, Tokens: s.Tokens, Logger: s.Log, PublicURL: s.Config.PublicURL,
		Ready:       readiness(s.Pool),
		RateLimits:  s.Config.RateLimits,
		Unavailable: postgres.Unavailable,
		// The server's write timeout (serveHTTP) leaves room for the
		// answer after it.
		RequestTimeout: s.Config.RequestTimeout,
		Routes:         []func(*mux.Router){httpMetrics.Routes, ap.Routes},
		Middleware:     []mux.MiddlewareFunc{httpMetrics.Middleware},
	})
	// Revocations made by other processes reach this one's session cache
	// through the database; Close stops the listener.
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	s.listeners.Go(func() { s.listenForRevocations(ctx, api, ready) })
	s.stopListeners = append(s.stopListeners, cancel)
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		s.Log.Warn("session revocation listener not listening yet; the session cache TTL bounds revocations from other processes until it is")
	}
	return api, nil
}

// MetricsHandler serves /metrics, for METRICS_ADDR.
func (s *Service) MetricsHandler() http.Handler {
	srv := http.NewServeMux()
	srv.Handle("GET /metrics", metrics.Handler(s.Metrics))
	return srv
}

// OpsHandler serves /healthz, for a process without the API.
func (s *Service) OpsHandler() http.Handler {
	srv := http.NewServeMux()
	srv.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	return srv
}

// Endpoint is one HTTP listener of a process and what it serves.
type Endpoint struct {
	Name     string // for logs: "api", "metrics"
	Listener net.Listener
	Handler  http.Handler
}

// Serve serves every endpoint until ctx is done, one of them fails, or event
// processing stops on its own; then it drains in-flight requests on all of
// them. The error says why it stopped, unless ctx was simply cancelled.
func (s *Service) Serve(ctx context.Context, endpoints ...Endpoint) error {
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
	errs := make(chan error, len(endpoints))
	for _, ep := range endpoints {
		s.Log.InfoContext(ctx, "listening", "endpoint", ep.Name, "addr", ep.Listener.Addr().String(),
			"public_url", s.Config.PublicURL, "events_backend", s.Config.EventsBackend)
		go func() {
			err := serveHTTP(ctx, ep.Listener, ep.Handler, s.Config.ShutdownTimeout, writeTimeout(s.Config.RequestTimeout), s.Log.With("endpoint", ep.Name))
			if err != nil {
				err = fmt.Errorf("%s: %w", ep.Name, err)
				cancel(err)
			}
			errs <- err
		}()
	}
	var all []error
	for range endpoints {
		all = append(all, <-errs)
	}
	err := errors.Join(all...)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(err, cause) {
		return errors.Join(cause, err)
	}
	return err
}

// Listen opens addr for the setting named by name.
func Listen(name, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ln, nil
}

// writeTimeout is the HTTP server's bound on writing an answer, counted from
// the end of the request's headers: the request's own deadline plus room to
// read its body and write the answer (at least the 60 s it always was).
func writeTimeout(request time.Duration) time.Duration {
	return max(60*time.Second, request+30*time.Second)
}

// serveHTTP serves on ln until ctx is cancelled, then drains in-flight
// requests for up to drain.
func serveHTTP(ctx context.Context, ln net.Listener, handler http.Handler, drain, write time.Duration, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      write,
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
			return fmt.Errorf("%w: %w", domain.Errorf(domain.ErrUnavailable, "database unreachable"), err)
		}
		if migrated.Load() {
			return nil
		}
		pending, err := postgres.MigrationsPending(ctx, pool)
		if err != nil {
			return err
		}
		if pending {
			return domain.Errorf(domain.ErrUnavailable, "database migrations are pending; run `thoughts migrate`")
		}
		migrated.Store(true)
		return nil
	}
}
