// Package pubsub builds the event backend chosen by EVENTS_BACKEND: the
// Watermill publishers and subscribers, the outbox forwarder, the poison
// queue tooling and the backend's metrics, over NATS JetStream or PostgreSQL
// (watermill-sql), behind one API so the router and main never branch on it.
package pubsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/thoughts-project/thoughts/adapters/logs"
	natsadapter "github.com/thoughts-project/thoughts/adapters/nats"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/app/events"
)

// The backends.
const (
	NATS     = "nats"
	Postgres = "postgres"
)

// DefaultBatchSize is Config.BatchSize's default.
const DefaultBatchSize = 100

// ForwarderConsumerGroup is the outbox forwarder's watermill-sql consumer group.
const ForwarderConsumerGroup = "forwarder"

// Config selects and tunes the backend.
type Config struct {
	// Backend is NATS or Postgres.
	Backend string
	// Pool is the application's pool: publishers, poison tooling, metrics.
	Pool *pgxpool.Pool
	// SubscriberPool serves watermill-sql subscribers (the handlers' on
	// Postgres, the forwarder's on NATS). It must not be Pool: a subscriber
	// holds its connection while its batch is handled, and a handler waiting
	// for a connection held by its own subscriber would never get one.
	SubscriberPool *pgxpool.Pool
	// Dial connects to NATS (NATS backend only).
	Dial natsadapter.Dialer
	// PoisonTopic receives messages handlers gave up on.
	PoisonTopic string
	// MaxAckPending caps unacked messages per handler and topic (NATS): the
	// server pushes that many ahead, which keeps a subscription busy, but a
	// message waits behind up to that many others, and if they all spend
	// their whole retry span the wait can exceed AckWait and the message is
	// delivered again (a duplicate, which idempotent handlers absorb). The
	// subscriber restarts a message's AckWait when handling begins.
	MaxAckPending int
	// Subscribers is the number of concurrent subscriptions per handler and
	// topic in this process (NATS; on Postgres one consumer group reads
	// serially whatever the count).
	Subscribers int
	// AckAsync acks on NATS without waiting for confirmation.
	AckAsync bool
	// PollInterval is how long a watermill-sql subscriber waits after a poll
	// that found nothing; each further empty poll doubles the wait, up to
	// MaxPollInterval (default 50 ms), and a poll that finds messages resets
	// it. Every handler polls every topic table it reads: at a fixed 10 ms,
	// idle tables cost thousands of transactions a second on a small machine;
	// the cap bounds the delay the first event after a quiet spell can see.
	// The outbox forwarder (NATS) reads one table, on every event's path: it
	// polls at PollInterval without backing off.
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	// IdlePollInterval (default 1 s) replaces MaxPollInterval as the cap
	// while the process listens for announcements of committed events
	// (outbox.WakeChannel): a consumer is then woken at once by each commit,
	// and its polling is only a safety net.
	IdlePollInterval time.Duration
	// BatchSize is how many rows a Postgres handler subscriber reads per
	// transaction (default 100). Its acks commit together at the end, so a
	// crash or abrupt stop redelivers the batch's handled rows (handlers are
	// idempotent); fsync-bound acks make small batches slow.
	BatchSize int
	// CloseTimeout bounds waiting for in-flight messages when closing.
	CloseTimeout time.Duration
	// Streams are the replicas and limits of the JetStream streams (NATS).
	Streams natsadapter.StreamOptions
	Logger  *slog.Logger
}

// Subscription is a handler, the topics it consumes and how its messages are
// redelivered; each handler has its own.
type Subscription struct {
	Handler string
	Topics  []string
	// AckWait is how long a delivered message may stay unacked before the
	// backend delivers it again. It must exceed the longest time the router
	// may hold a message (all the handler's retries), or the message is
	// delivered again while still being retried. On NATS a message the
	// router holds is kept in progress up to AckWait, and one held by a
	// process that died comes back after at most redeliverAfter.
	AckWait time.Duration
	// NakDelay is the first redelivery delay after a nack on NATS (a
	// message handed back at shutdown); later ones back off to a minute.
	NakDelay time.Duration
}

func (s Subscription) validate() error {
	if s.AckWait <= 0 {
		return fmt.Errorf("handler %s: no AckWait", s.Handler)
	}
	return nil
}

// Backend is an opened event backend.
type Backend struct {
	cfg  Config
	log  *slog.Logger
	wlog watermill.LoggerAdapter
	// admin is the NATS connection for provisioning, tooling and metrics.
	admin *natsgo.Conn
	js    jetstream.JetStream
	// wakes wakes this process's table consumers (nil without a
	// subscriber pool).
	wakes *wakes
}

// Open opens the backend; on NATS it connects for administration.
func Open(cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PoisonTopic == "" {
		return nil, errors.New("event backend: no poison topic")
	}
	if cfg.Pool == nil {
		return nil, errors.New("event backend: no database pool")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Millisecond
	}
	if cfg.MaxPollInterval <= 0 {
		cfg.MaxPollInterval = 50 * time.Millisecond
	}
	cfg.MaxPollInterval = max(cfg.MaxPollInterval, cfg.PollInterval)
	if cfg.IdlePollInterval <= 0 {
		cfg.IdlePollInterval = time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = 30 * time.Second
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, wlog: logs.Watermill(cfg.Logger)}
	if sp := cfg.SubscriberPool; sp != nil {
		connCfg := sp.Config().ConnConfig
		b.wakes = newWakes(func(ctx context.Context) (*pgx.Conn, error) {
			return pgx.ConnectConfig(ctx, connCfg.Copy())
		}, func(msg string, err error) { b.log.Warn(msg, "err", err) })
	}
	switch cfg.Backend {
	case Postgres:
	case NATS:
		if cfg.Dial == nil {
			return nil, errors.New("event backend nats: no NATS connection")
		}
		nc, err := cfg.Dial("thoughts-admin")
		if err != nil {
			return nil, err
		}
		js, err := jetstream.New(nc)
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("JetStream: %w", err)
		}
		b.admin, b.js = nc, js
	default:
		return nil, fmt.Errorf("unknown event backend %q", cfg.Backend)
	}
	return b, nil
}

// JetStream is the backend's administrative JetStream context (NATS; nil on
// Postgres), for tooling that inspects streams and consumers.
func (b *Backend) JetStream() jetstream.JetStream { return b.js }

// Listening reports whether this process's consumers receive the
// database's announcements of committed events (outbox.WakeChannel).
func (b *Backend) Listening() bool { return b.wakes != nil && b.wakes.listening() }

// Wake wakes this process's consumers of topic's table at once, as an
// announcement on outbox.WakeChannel would (outbox.Outbox.WakeLocally); a
// no-op in a process that consumes no table. It does not block.
func (b *Backend) Wake(topic string) {
	if b.wakes != nil {
		b.wakes.wake(topic)
	}
}

// Kind is NATS or Postgres.
func (b *Backend) Kind() string { return b.cfg.Backend }

// Close releases the backend's own connection. Publishers, subscribers and
// forwarders are closed by their owners first.
func (b *Backend) Close() error {
	if b.wakes != nil {
		b.wakes.close()
	}
	if b.admin != nil {
		b.admin.Close()
	}
	return nil
}

// Provision creates, idempotently, what subs need: on NATS a stream per
// catalogue topic and for the poison topic, and a durable consumer per
// handler and topic; on Postgres the topic and poison tables (consumer
// groups start at the beginning of their table when they first subscribe).
// Processes starting together may all call it.
func (b *Backend) Provision(ctx context.Context, subs []Subscription) error {
	topics := slices.Clone(events.AllTopics)
	for _, s := range subs {
		for _, t := range s.Topics {
			if !slices.Contains(topics, t) {
				topics = append(topics, t)
			}
		}
	}
	switch b.cfg.Backend {
	case NATS:
		streams := b.cfg.Streams
		for _, t := range topics {
			if err := natsadapter.EnsureStream(ctx, b.js, t, natsadapter.UntilAcked, streams); err != nil {
				return err
			}
		}
		if err := natsadapter.EnsureStream(ctx, b.js, b.cfg.PoisonTopic, natsadapter.Forever, streams); err != nil {
			return err
		}
		for _, s := range subs {
			if err := s.validate(); err != nil {
				return err
			}
			for _, t := range s.Topics {
				if err := natsadapter.EnsureConsumer(ctx, b.js, s.Handler, t, b.consumerOptions(s)); err != nil {
					return err
				}
			}
		}
	case Postgres:
		init, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(b.cfg.Pool), wsql.SubscriberConfig{
			SchemaAdapter:  outbox.SchemaAdapter(0),
			OffsetsAdapter: outbox.OffsetsAdapter(),
		}, b.wlog)
		if err != nil {
			return fmt.Errorf("create schema initialiser: %w", err)
		}
		defer init.Close()
		for _, t := range append(topics, b.cfg.PoisonTopic) {
			if err := init.SubscribeInitialize(t); err != nil {
				return fmt.Errorf("create table for %s: %w", t, err)
			}
		}
		// Each group's offsets row exists from now on (at the start of the
		// table if new), so the pruner keeps every row a provisioned
		// handler has not read, even before its first subscription.
		for _, s := range subs {
			for _, t := range s.Topics {
				if err := b.createOffsets(ctx, s.Handler, t); err != nil {
					return err
				}
			}
		}
	}
	b.log.DebugContext(ctx, "event backend provisioned", "backend", b.cfg.Backend, "topics", len(topics), "handlers", len(subs))
	return nil
}

// Retire removes what subscriptions a handler no longer has left behind: on
// NATS the durable consumers (a stream keeps each message until every
// consumer acked it, so an abandoned consumer keeps them all), on Postgres the
// consumer groups' offsets rows (the pruner keeps every row a group has not
// passed). Only the Handler and Topics of subs are used. Retiring
// what does not exist is a no-op, so every process may call it at start.
func (b *Backend) Retire(ctx context.Context, subs []Subscription) error {
	for _, s := range subs {
		for _, t := range s.Topics {
			var (
				gone bool
				err  error
			)
			switch b.cfg.Backend {
			case NATS:
				gone, err = natsadapter.DeleteConsumer(ctx, b.js, s.Handler, t)
			case Postgres:
				gone, err = b.deleteOffsets(ctx, s.Handler, t)
			}
			if err != nil {
				return fmt.Errorf("retire %s on %s: %w", s.Handler, t, err)
			}
			if gone {
				b.log.InfoContext(ctx, "retired a subscription the handler no longer has", "handler", s.Handler, "topic", t)
			}
		}
	}
	return nil
}

// deleteOffsets deletes group's offsets row of topic, if the table and the
// row exist.
func (b *Backend) deleteOffsets(ctx context.Context, group, topic string) (bool, error) {
	var exists bool
	if err := b.cfg.Pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, outbox.OffsetsTableName(topic)).Scan(&exists); err != nil {
		return false, fmt.Errorf("look up the offsets of %s: %w", topic, err)
	}
	if !exists {
		return false, nil
	}
	tag, err := b.cfg.Pool.Exec(ctx, `DELETE FROM `+outbox.OffsetsTableName(topic)+` WHERE consumer_group = $1`, group)
	if err != nil {
		return false, fmt.Errorf("delete the %s offsets of %s: %w", topic, group, err)
	}
	return tag.RowsAffected() > 0, nil
}

// redeliverAfter is the JetStream consumers' AckWait when a handler may hold
// a message longer: its subscriber tells the server the message is in
// progress while the router holds it (natsadapter.SubscriberOptions.HoldLimit),
// so a message held by a process that died is delivered again after this,
// not after the handler's whole retry span (a minute or more).
const redeliverAfter = 15 * time.Second

func (b *Backend) consumerOptions(s Subscription) natsadapter.ConsumerOptions {
	return natsadapter.ConsumerOptions{AckWait: min(s.AckWait, redeliverAfter), MaxAckPending: b.cfg.MaxAckPending}
}

// Subscriber returns a subscriber reading as s.Handler: on NATS through its
// durable consumers (queue groups shared by every process running it), on
// Postgres as its consumer group.
func (b *Backend) Subscriber(s Subscription) (message.Subscriber, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	switch b.cfg.Backend {
	case NATS:
		nc, err := b.cfg.Dial("thoughts-handler-" + s.Handler)
		if err != nil {
			return nil, err
		}
		return natsadapter.NewSubscriber(nc, s.Handler, natsadapter.SubscriberOptions{
			Consumer:     b.consumerOptions(s),
			Subscribers:  b.cfg.Subscribers,
			CloseTimeout: b.cfg.CloseTimeout,
			NakDelay:     s.NakDelay,
			MaxNakDelay:  time.Minute,
			AckAsync:     b.cfg.AckAsync,
			HoldLimit:    s.AckWait,
		}, b.wlog)
	default:
		return b.sqlSubscriber(s.Handler, s.AckWait, b.cfg.BatchSize, b.cfg.MaxPollInterval)
	}
}

// sqlSubscriber reads as group, batch rows per transaction, backing off up to
// maxPoll while idle; a batch not acked within ackDeadline is read again.
func (b *Backend) sqlSubscriber(group string, ackDeadline time.Duration, batch int, maxPoll time.Duration) (message.Subscriber, error) {
	if b.cfg.SubscriberPool == nil {
		return nil, errors.New("event backend: no subscriber pool")
	}
	return &sqlSubscriber{
		b: b, group: group, batch: batch, maxPoll: maxPoll, ackDeadline: ackDeadline, resend: time.Second,
		closing: make(chan struct{}),
	}, nil
}

// Publisher returns a publisher of events to their topics: JetStream with
// the event ID as de-duplication ID, or the Postgres topic tables.
func (b *Backend) Publisher() (message.Publisher, error) {
	switch b.cfg.Backend {
	case NATS:
		nc, err := b.cfg.Dial("thoughts-publisher")
		if err != nil {
			return nil, err
		}
		return natsadapter.NewPublisher(nc, b.wlog)
	default:
		return b.sqlPublisher()
	}
}

// PoisonPublisher returns the publisher the router's poison queue uses.
func (b *Backend) PoisonPublisher() (message.Publisher, error) {
	switch b.cfg.Backend {
	case NATS:
		nc, err := b.cfg.Dial("thoughts-poison")
		if err != nil {
			return nil, err
		}
		return natsadapter.NewPoisonPublisher(nc, b.wlog)
	default:
		return b.sqlPublisher()
	}
}

func (b *Backend) sqlPublisher() (message.Publisher, error) {
	pub, err := wsql.NewPublisher(wsql.BeginnerFromPgx(b.cfg.Pool), wsql.PublisherConfig{SchemaAdapter: outbox.SchemaAdapter(0)}, b.wlog)
	if err != nil {
		return nil, fmt.Errorf("create Postgres publisher: %w", err)
	}
	return pub, nil
}

// createOffsets creates group's offsets row on topic, at the start of the
// table, unless it exists.
func (b *Backend) createOffsets(ctx context.Context, group, topic string) error {
	qs, err := outbox.OffsetsAdapter().BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams{Topic: topic, ConsumerGroup: group})
	if err != nil {
		return err
	}
	for _, q := range qs {
		if _, err := b.cfg.Pool.Exec(ctx, q.Query, q.Args...); err != nil {
			return fmt.Errorf("create %s offsets of %s: %w", topic, group, err)
		}
	}
	return nil
}
