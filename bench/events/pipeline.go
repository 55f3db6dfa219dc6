package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
	"github.com/thoughts-project/thoughts/service"
)

// shutdownTimeout stands in for SHUTDOWN_TIMEOUT, as CloseTimeout everywhere.
const shutdownTimeout = 15 * time.Second

// pipeline is Thoughts' event processing as `thoughts serve` runs it, built
// by the same composition root (service.Open with serve's options, then
// StartProcessing): the unit of work with the outbox of the backend's
// layout, an embedded NATS server (NATS), the handlers' own pool, the
// subscriber pool, the backend, the forwarder (NATS), the poison publisher
// and the router with router.Handlers and their policies.
//
// One addition: each handler's Handle is wrapped to report the event to the
// tracker after it returned success, i.e. after the notification's
// transaction committed. That costs a map insert per event.
type pipeline struct {
	svc     *service.Service
	notify  router.Handler // the real notifications handler, unobserved
	cast    cast
	dataDir string
	tr      atomic.Pointer[tracker]
	failure error // the first unexpected stop seen
}

// startPipeline seeds db and starts the pipeline of kind on it.
func startPipeline(ctx context.Context, kind string, db database, users int, tune Tuning, logger *slog.Logger) (_ *pipeline, err error) {
	p := &pipeline{}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	if p.dataDir, err = os.MkdirTemp("", "thoughts-bench-events-"); err != nil {
		return nil, fmt.Errorf("create NATS data directory: %w", err)
	}
	cfg := service.Config{
		DatabaseURL: db.URL, EventsBackend: kind, DataDir: p.dataDir, ShutdownTimeout: shutdownTimeout,
		// Serve's settings unless a -tune flag is given (zero values are
		// serve's defaults).
		EventSubscribers: tune.Subscribers, EventHandlerConns: tune.HandlerPool,
		EventAckSync: tune.AckSync, EventBatchSize: tune.BatchSize, EventNoBatch: tune.NoBatch,
		Retention: service.Retention{Interval: tune.RetentionInterval},
	}
	p.svc, err = service.Open(ctx, cfg, logger, service.Options{
		Embedded: true, Processing: true,
		Handlers: func(d app.Deps) []router.Handler {
			var hs []router.Handler
			for _, h := range router.Handlers(d) {
				if !slices.Contains(strings.Split(tune.Without, ","), h.Name) {
					hs = append(hs, h)
				}
			}
			for _, h := range hs {
				if h.Name == "notifications" {
					p.notify = h
				}
			}
			return p.observed(hs)
		},
	})
	if err != nil {
		return nil, err
	}
	if p.cast, err = seed(ctx, p.svc.UoW, users); err != nil {
		return nil, err
	}
	if err := p.svc.StartProcessing(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// observed wraps the notifications handler to tell the tracker of every
// event it handled: the benchmark measures commit → notification, and no
// other handler that might read the same events must count one as handled
// before its notification is stored. (The benchmark's likes are of local
// thoughts: topic likes.added, which only notifications reads; federation
// reads the likes of remote thoughts.)
func (p *pipeline) observed(hs []router.Handler) []router.Handler {
	for i := range hs {
		if hs[i].Name != "notifications" {
			continue
		}
		handle := hs[i].Handle
		hs[i].Handle = func(ctx context.Context, env events.Envelope) error {
			if err := handle(ctx, env); err != nil {
				return err
			}
			if tr := p.tr.Load(); tr != nil {
				tr.handled(env.ID)
			}
			return nil
		}
		if batch := hs[i].HandleBatch; batch != nil {
			hs[i].HandleBatch = func(ctx context.Context, envs []events.Envelope) error {
				if err := batch(ctx, envs); err != nil {
					return err
				}
				if tr := p.tr.Load(); tr != nil {
					for _, env := range envs {
						tr.handled(env.ID)
					}
				}
				return nil
			}
		}
	}
	return hs
}

func (p *pipeline) track(t *tracker) { p.tr.Store(t) }

// stopped reports an unexpected stop of the forwarder or the router. Only
// the goroutine driving the load calls it.
func (p *pipeline) stopped() error {
	if p.failure == nil {
		select {
		case err := <-p.svc.Done():
			p.failure = err
		default:
		}
	}
	return p.failure
}

// commit is a command's write path: one transaction that appends a LikeAdded
// to the outbox with tx.Publish. The context carries a correlation ID, as an
// HTTP request's does.
func (p *pipeline) writers() *pgxpool.Pool { return p.svc.Pool }

func (p *pipeline) commit(ctx context.Context, seq int) (uuid.UUID, error) {
	env := p.envelope(ctx, seq)
	err := p.svc.UoW.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		return tx.Publish(ctx, env)
	})
	return env.ID, err
}

func (p *pipeline) envelope(ctx context.Context, seq int) events.Envelope {
	liker, thought := p.cast.like(seq)
	ctx = events.WithCorrelationID(ctx, uuid.NewString())
	return events.New(ctx, liker, events.LikeAdded{LikeID: uuid.Must(uuid.NewV7()), UserID: liker, ThoughtID: thought}, command.SystemClock())
}

// close shuts down as serve does (service.Close), then removes the NATS
// store.
func (p *pipeline) close() {
	if p.svc != nil {
		p.svc.Close()
	}
	if p.dataDir != "" {
		_ = os.RemoveAll(p.dataDir)
	}
}
