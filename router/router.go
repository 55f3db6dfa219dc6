// Package router runs Thoughts' event handlers on a Watermill Router: one
// durable consumer per handler and topic, a fixed middleware chain (correlation
// ID, poison queue, then each handler's own retry, timeout and recoverer), and
// the decoding of every message into an events.Envelope before a handler sees
// it.
package router

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/thoughts-project/thoughts/adapters/logs"
	"github.com/thoughts-project/thoughts/app/events"
)

// PoisonTopic receives the messages handlers gave up on.
const PoisonTopic = "thoughts.poison"

// Handler is one side effect of events: it gets its own durable consumer on
// the topic of each event type it declares, so its failures and retries never
// hold up another handler. Handle must be idempotent: delivery is at least
// once.
type Handler struct {
	// Name identifies the handler's consumers; lower-case letters, digits,
	// - and _. Renaming a handler starts its consumers afresh.
	Name string
	// Events are the event types the handler acts on, as zero values
	// (events.LikeAdded{}); its topics, and so its consumers, follow from
	// them. A handler gets nothing else.
	Events []events.Event
	// Policy is how the handler's messages are retried and timed out; how
	// long its subscriber may hold a message follows from it
	// (Policy.AckWait).
	Policy Policy
	Handle func(ctx context.Context, env events.Envelope) error
	// HandleBatch, if set, applies several events at once (one commit for
	// all); the router then gathers the events in flight into batches (see
	// batch.go). An error means any of them may not have been applied: each
	// is then handled again alone by Handle, so HandleBatch must be
	// idempotent like Handle, and Handle stays the rule for one event.
	HandleBatch func(ctx context.Context, envs []events.Envelope) error
}

// Topics are the topics of h's events, each once, in the order declared.
func (h Handler) Topics() []string {
	var topics []string
	for _, ev := range h.Events {
		if !slices.Contains(topics, ev.Topic()) {
			topics = append(topics, ev.Topic())
		}
	}
	return topics
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Policy is how long a message may be worked on and how failures are retried.
// Each handler has its own: a handler that must retry for hours shares
// nothing with one that gives up after seconds.
type Policy struct {
	// MaxRetries after the first attempt; then the message is poisoned.
	MaxRetries int
	// InitialInterval is the first pause between attempts; each next pause
	// is Multiplier times longer, up to MaxInterval.
	InitialInterval time.Duration
	Multiplier      float64
	MaxInterval     time.Duration
	// Timeout bounds each attempt.
	Timeout time.Duration
}

// DefaultPolicy retries five times over about seven seconds of pauses (a
// failure that outlasts that is not transient for a local database write)
// and gives each attempt ten seconds.
func DefaultPolicy() Policy {
	return Policy{MaxRetries: 5, InitialInterval: 100 * time.Millisecond, Multiplier: 2, MaxInterval: 2 * time.Second, Timeout: 10 * time.Second}
}

// Validate reports a policy that cannot work.
func (p Policy) Validate() error {
	if p.MaxRetries < 0 || p.InitialInterval <= 0 || p.Multiplier < 1 || p.MaxInterval < p.InitialInterval || p.Timeout <= 0 {
		return fmt.Errorf("retry policy %+v: need MaxRetries >= 0, InitialInterval > 0, Multiplier >= 1, MaxInterval >= InitialInterval, Timeout > 0", p)
	}
	return nil
}

// Span is the longest the router may hold one message: every attempt running
// into its timeout plus every pause between attempts. Watermill's Retry
// advances its backoff twice per failure when ShouldRetry is set (once to tell
// ShouldRetry the next delay, once to wait), so the pauses counted here are
// every other step of the exponential sequence.
func (p Policy) Span() time.Duration {
	span := time.Duration(p.MaxRetries+1) * p.Timeout
	interval := float64(p.InitialInterval)
	for range p.MaxRetries {
		interval = min(interval*p.Multiplier, float64(p.MaxInterval))
		span += time.Duration(interval)
		interval = min(interval*p.Multiplier, float64(p.MaxInterval))
	}
	return span
}

// AckWait is the redelivery timeout the backend needs: Span plus a margin for
// acking. A message held longer than its AckWait would be redelivered while
// still being retried, and handled twice in parallel.
func (p Policy) AckWait() time.Duration {
	s := p.Span()
	return s + max(s/5, 2*time.Second)
}

// Config builds a Router.
type Config struct {
	Handlers []Handler
	// Subscriber returns the subscriber reading as h (its durable consumers
	// / consumer group, with the redelivery timeout of h.Policy). The router
	// closes it.
	Subscriber func(h Handler) (message.Subscriber, error)
	// PoisonPublisher publishes to PoisonTopic. The caller closes it after
	// the router.
	PoisonPublisher message.Publisher
	// CloseTimeout bounds how long Close waits for in-flight messages.
	CloseTimeout time.Duration
	Logger       *slog.Logger
	// Metrics, if set, receives Watermill's router metrics and the count of
	// poisoned messages.
	Metrics prometheus.Registerer
	// Transient reports errors that say nothing about the message (a
	// dependency is unavailable): a message failing with one is delivered
	// again later instead of being poisoned. Nil: every error poisons once
	// the retries are spent.
	Transient func(error) bool
	// MaxBatch bounds the events of one HandleBatch call (default
	// DefaultMaxBatch); NoBatch handles every event alone with Handle even
	// where HandleBatch is set (to measure what batching gives).
	MaxBatch int
	NoBatch  bool
	// MaxConcurrent bounds the messages of one topic a handler without a
	// batch path works on at once in this process (default 8): subscribers
	// hand over many at a time (a Postgres read batch, up to MaxAckPending
	// on NATS), which a handler doing one statement per event would turn
	// into as many queued database calls, each spending its attempt's
	// timeout waiting for a connection.
	MaxConcurrent int
}

// Router runs the handlers.
type Router struct {
	wm       *message.Router
	log      *slog.Logger
	batchers map[string]*batcher
}

// New builds the router; Run starts it.
func New(cfg Config) (*Router, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PoisonPublisher == nil || cfg.Subscriber == nil {
		return nil, errors.New("router needs a poison publisher and subscribers")
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = 30 * time.Second
	}
	if err := ValidateHandlers(cfg.Handlers); err != nil {
		return nil, err
	}

	wm, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, logs.Watermill(cfg.Logger))
	if err != nil {
		return nil, fmt.Errorf("create router: %w", err)
	}
	r := &Router{wm: wm, log: cfg.Logger, batchers: map[string]*batcher{}}

	var poisoned *prometheus.CounterVec
	var exec *prometheus.HistogramVec
	if cfg.Metrics != nil {
		// Added first, so outermost: it times the whole chain, retries included.
		metrics.NewPrometheusMetricsBuilder(cfg.Metrics, "", "").AddPrometheusRouterMetrics(wm)
		// Watermill registered its execution-time histogram just now; this
		// finds it, to create each handler's series up front.
		if exec, err = registered(cfg.Metrics, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "handler_execution_time_seconds",
			Help: "The total time elapsed while executing the handler function in seconds",
		}, []string{"handler_name", "success"})); err != nil {
			return nil, fmt.Errorf("find handler execution metric: %w", err)
		}
		if poisoned, err = registered(cfg.Metrics, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thoughts_events_poisoned_total",
			Help: "Messages sent to the poison queue, by handler.",
		}, []string{"handler"})); err != nil {
			return nil, fmt.Errorf("register poison metric: %w", err)
		}
		for _, h := range cfg.Handlers {
			poisoned.WithLabelValues(h.Name)
		}
	}

	poison, err := middleware.PoisonQueueWithFilter(
		&poisonPublisher{pub: cfg.PoisonPublisher, log: cfg.Logger, counter: poisoned},
		PoisonTopic,
		// A message abandoned because the router is closing is not poison:
		// it is left unacked and delivered again. Nor is one that failed
		// because the database was unreachable: once its retries are spent
		// it is handed back (nacked) and delivered again later, however long
		// the outage lasts.
		func(err error) bool {
			return !errors.Is(err, context.Canceled) && (cfg.Transient == nil || !cfg.Transient(err))
		},
	)
	if err != nil {
		return nil, fmt.Errorf("create poison queue: %w", err)
	}
	// Middleware added first runs outermost; router-level middleware runs
	// outside every handler-level one.
	wm.AddMiddleware(
		// 1. CorrelationID: messages a handler returns inherit the incoming
		//    message's correlation ID.
		middleware.CorrelationID,
		// 2. PoisonQueue outside Retry: a message is poisoned only once its
		//    retries are spent (inside Retry it would be poisoned on its first
		//    error, Watermill #645). The poisoned copy keeps UUID, payload and
		//    metadata, and gains reason_poisoned, topic_poisoned and
		//    handler_poisoned; the original is then acked.
		poison,
	)
	var subs []message.Subscriber
	for _, h := range cfg.Handlers {
		sub, err := cfg.Subscriber(h)
		if err != nil {
			for _, s := range subs {
				_ = s.Close()
			}
			return nil, fmt.Errorf("subscriber for handler %s: %w", h.Name, err)
		}
		subs = append(subs, sub)
		if h.HandleBatch != nil && !cfg.NoBatch {
			r.batchers[h.Name] = newBatcher(h, cfg.MaxBatch, 0, cfg.Logger)
		}
		for _, topic := range h.Topics() {
			name := h.Name + ":" + topic
			mw := handlerMiddleware(h.Policy)
			if r.batchers[h.Name] == nil {
				mw = append([]message.HandlerMiddleware{limit(cmp.Or(cfg.MaxConcurrent, 8))}, mw...)
			}
			wm.AddConsumerHandler(name, topic, sub, r.handle(h)).AddMiddleware(mw...)
			if exec != nil {
				// Series exist from the start, so a scrape before the first
				// event (or of a process whose peers took every event so
				// far) shows the handler at zero instead of not at all.
				exec.WithLabelValues(name, "true")
				exec.WithLabelValues(name, "false")
			}
		}
	}
	return r, nil
}

// ValidateHandlers checks a handler list: valid, distinct names, events, a
// Handle func and a workable policy for each.
func ValidateHandlers(hs []Handler) error {
	var names []string
	for _, h := range hs {
		switch {
		case !validName.MatchString(h.Name):
			return fmt.Errorf("handler name %q: use lower-case letters, digits, - and _", h.Name)
		case slices.Contains(names, h.Name):
			return fmt.Errorf("handler %q registered twice", h.Name)
		case len(h.Events) == 0 || h.Handle == nil:
			return fmt.Errorf("handler %q needs events and a Handle func", h.Name)
		}
		if err := h.Policy.Validate(); err != nil {
			return fmt.Errorf("handler %q: %w", h.Name, err)
		}
		names = append(names, h.Name)
	}
	return nil
}

// handlerMiddleware is the part of the chain that follows a handler's own
// policy; it runs inside the router-level CorrelationID and PoisonQueue.
func handlerMiddleware(p Policy) []message.HandlerMiddleware {
	retry := middleware.Retry{
		MaxRetries:      p.MaxRetries,
		InitialInterval: p.InitialInterval,
		Multiplier:      p.Multiplier,
		MaxInterval:     p.MaxInterval,
		// Timeout runs inside Retry: without a fresh context per attempt, the
		// first attempt's expired deadline would fail every later one.
		ResetContextOnRetry: true,
		// An undecodable payload fails the same way every time: poison it at
		// once. A cancelled context means the router is closing.
		ShouldRetry: func(rp middleware.RetryParams) bool {
			return !errors.Is(rp.Err, events.ErrUndecodable) && !errors.Is(rp.Err, context.Canceled)
		},
	}
	return []message.HandlerMiddleware{
		// 3. Retry with exponential backoff; the backend holds a message
		//    for its whole span (Policy.AckWait), so the broker does not
		//    redeliver a message while it is being retried.
		retry.Middleware,
		// 4. Timeout: each attempt gets its own deadline.
		middleware.Timeout(p.Timeout),
		// 5. Recoverer innermost: a panic becomes an error, which is retried
		//    and eventually poisoned like any other.
		middleware.Recoverer,
	}
}

// limit lets at most n messages through at once; the others wait, outside
// Retry and Timeout, so waiting spends none of an attempt's time. A message
// whose context ends while it waits (the router closing, or the subscriber's
// ack deadline) is handed back, not poisoned.
func limit(n int) message.HandlerMiddleware {
	sem := make(chan struct{}, n)
	return func(next message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			select {
			case sem <- struct{}{}:
			case <-msg.Context().Done():
				return nil, errors.Join(msg.Context().Err(), context.Canceled)
			}
			defer func() { <-sem }()
			return next(msg)
		}
	}
}

// registered registers c, or returns the equal collector registered before
// (by another router of the process, or by Watermill).
func registered[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		return c, nil
	case errors.As(err, &are):
		existing, ok := are.ExistingCollector.(C)
		if !ok {
			return c, fmt.Errorf("%T registered where %T was expected", are.ExistingCollector, c)
		}
		return existing, nil
	default:
		return c, err
	}
}

// Run handles messages until Close (or until ctx is cancelled, which stops
// the subscriptions).
func (r *Router) Run(ctx context.Context) error { return r.wm.Run(ctx) }

// Running is closed once every handler is subscribed.
func (r *Router) Running() chan struct{} { return r.wm.Running() }

// Close stops the subscriptions and waits, up to CloseTimeout, for in-flight
// messages. Their contexts are cancelled: a handler interrupted this way has
// its message nacked, to be delivered again (at once to another process on
// NATS, on the next read on Postgres); nothing is acked unprocessed.
func (r *Router) Close() error {
	err := r.wm.Close()
	// No handler call is left waiting for a batch once the router closed
	// (or gave up waiting for them: they then handle their events alone).
	for _, b := range r.batchers {
		b.close()
	}
	return err
}

// handle adapts h to Watermill: decode, put the correlation ID into the
// context, call, log.
func (r *Router) handle(h Handler) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		ctx := events.WithCorrelationID(msg.Context(), msg.Metadata.Get(events.MetaCorrelationID))
		// The record's attributes are built only for a line that is
		// logged: a logger.With per message cost more than the rest of
		// this function.
		attrs := func(more ...any) []any {
			return append([]any{"handler", h.Name, "event_id", msg.UUID, "topic", message.SubscribeTopicFromCtx(ctx)}, more...)
		}
		// A batching handler waits for the rest of this message's
		// delivery: it has to learn that this one reached it.
		arrived := func() {}
		if d := events.DeliveryOf(ctx); d != nil {
			arrived = func() { d.Arrived(msg.UUID) }
		}
		// Errors are returned as they are: the poisoned copy's metadata and
		// the log lines already name the handler, event and topic.
		env, err := Decode(msg)
		if err != nil {
			arrived()
			r.log.ErrorContext(ctx, "undecodable event; poisoning it", attrs("err", err)...)
			return err
		}
		msg.SetContext(ctx)
		handle := h.Handle
		if b := r.batchers[h.Name]; b != nil {
			handle = func(ctx context.Context, env events.Envelope) error { return b.handle(ctx, env, arrived) }
		} else {
			arrived()
		}
		if err := handle(ctx, env); err != nil {
			if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
				r.log.InfoContext(ctx, "handler interrupted by shutdown; the event will be delivered again",
					attrs("event_type", env.Event.EventType(), "err", err)...)
				return errors.Join(err, context.Canceled)
			}
			r.log.WarnContext(ctx, "handler failed", attrs("event_type", env.Event.EventType(), "err", err)...)
			return err
		}
		if r.log.Enabled(ctx, slog.LevelDebug) {
			r.log.DebugContext(ctx, "event handled", attrs("event_type", env.Event.EventType())...)
		}
		return nil
	}
}
