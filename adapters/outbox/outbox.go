// Package outbox appends domain events to the transactional outbox with
// watermill-sql v4, inside the caller's pgx transaction, so an event is durable
// exactly when the state change that caused it commits.
//
// Two layouts, chosen by the events backend:
//   - Forward (EVENTS_BACKEND=nats): every event goes to one forwarder table
//     ("outbox") wrapped in Watermill's forwarder envelope; the forwarder relays
//     it to NATS JetStream.
//   - Direct (EVENTS_BACKEND=postgres): every event goes straight to its topic's
//     table, which the router consumes with one consumer group per handler.
package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app/events"
)

// ForwarderTopic is the watermill-sql topic of the forwarder outbox.
const ForwarderTopic = "outbox"

// Mode selects the outbox layout.
type Mode int

// The outbox layouts.
const (
	// Forward wraps events for the forwarder (NATS backend).
	Forward Mode = iota
	// Direct writes events to their topic tables (Postgres backend).
	Direct
)

// TableName maps a topic to its (quoted) messages table: dots, which are valid
// in topics, become underscores so names stay plain identifiers.
func TableName(topic string) string {
	return `"watermill_` + strings.ReplaceAll(topic, ".", "_") + `"`
}

// OffsetsTableName maps a topic to its (quoted) consumer offsets table.
func OffsetsTableName(topic string) string {
	return `"watermill_offsets_` + strings.ReplaceAll(topic, ".", "_") + `"`
}

// SchemaAdapter is the watermill-sql schema used for every topic.
func SchemaAdapter(batchSize int) wsql.DefaultPostgreSQLSchema {
	return wsql.DefaultPostgreSQLSchema{
		GenerateMessagesTableName: TableName,
		SubscribeBatchSize:        batchSize,
	}
}

// OffsetsAdapter is the watermill-sql offsets adapter used for every topic.
func OffsetsAdapter() wsql.DefaultPostgreSQLOffsetsAdapter {
	return wsql.DefaultPostgreSQLOffsetsAdapter{GenerateMessagesOffsetsTableName: OffsetsTableName}
}

// WakeChannel is the PostgreSQL notification channel on which committed
// events are announced (payload: the topic whose table has new rows), so
// idle consumers need not poll.
const WakeChannel = "thoughts_outbox"

// Outbox appends events inside a transaction.
type Outbox struct {
	mode   Mode
	schema wsql.SchemaAdapter
	logger watermill.LoggerAdapter
	ann    *announcer
	local  atomic.Pointer[func(topic string)]
}

// New returns an outbox of the given layout.
func New(mode Mode, logger watermill.LoggerAdapter) *Outbox {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	return &Outbox{mode: mode, schema: SchemaAdapter(0), logger: logger}
}

// AnnounceOn makes the outbox announce committed events (Committed) on
// WakeChannel through pool.
func (o *Outbox) AnnounceOn(pool *pgxpool.Pool, log *slog.Logger) {
	o.ann = &announcer{pool: pool, log: log, pending: map[string]struct{}{}}
}

// WakeLocally makes Committed also call wake, at once, with each topic
// whose table a committed transaction appended to: the consumers of this
// process (pubsub.Backend.Wake) then need no announcement from the database.
// wake must not block.
func (o *Outbox) WakeLocally(wake func(topic string)) { o.local.Store(&wake) }

// Committed announces that a transaction which appended envs has committed,
// waking the consumers of their tables: this process's at once (WakeLocally),
// every process's through a NOTIFY (AnnounceOn). It does not wait: the NOTIFY
// runs after the commit, on its own, coalesced with those of other commits (a
// NOTIFY inside the writing transaction would serialise every commit on the
// server's notification lock, WAL flush included). A lost announcement costs
// latency, not events: consumers poll at a long interval too.
func (o *Outbox) Committed(envs ...events.Envelope) {
	local := o.local.Load()
	if (o.ann == nil && local == nil) || len(envs) == 0 {
		return
	}
	topics := make([]string, 0, 1)
	for _, env := range envs {
		t := ForwarderTopic
		if o.mode == Direct {
			t = env.Event.Topic()
		}
		if !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	if local != nil {
		for _, t := range topics {
			(*local)(t)
		}
	}
	if o.ann != nil {
		o.ann.announce(topics)
	}
}

// announcer sends coalesced NOTIFYs: at most one statement at a time, and at
// most one every announceGap, naming every topic committed since the last.
type announcer struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	mu      sync.Mutex
	pending map[string]struct{}
	running bool
}

// announceGap spaces announcements under load, when consumers are busy
// anyway and a NOTIFY per commit would only cost: the first commit after a
// quiet spell is announced at once, later ones at most this late. Each NOTIFY
// is a statement on the writers' pool and a wake-up of every listening
// process; at 5 ms they were up to 200 a second under a steady flow, 2–3% of
// the CPU of a 2-core machine running the pipeline (bench/README.md), while
// the consumers they woke were reading continuously. The consumers of the
// committing process are woken directly (WakeLocally), without waiting.
const announceGap = 20 * time.Millisecond

func (a *announcer) announce(topics []string) {
	a.mu.Lock()
	for _, t := range topics {
		a.pending[t] = struct{}{}
	}
	if a.running {
		a.mu.Unlock()
		return
	}
	a.running = true
	a.mu.Unlock()
	go a.loop()
}

func (a *announcer) loop() {
	for {
		a.mu.Lock()
		if len(a.pending) == 0 {
			a.running = false
			a.mu.Unlock()
			return
		}
		topics := make([]string, 0, len(a.pending))
		for t := range a.pending {
			topics = append(topics, t)
		}
		clear(a.pending)
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := a.pool.Exec(ctx, `SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t`, WakeChannel, topics)
		cancel()
		if err != nil && a.log != nil {
			a.log.Debug("announcing committed events failed; consumers will find them by polling", "topics", topics, "err", err)
		}
		time.Sleep(announceGap)
	}
}

// Tx is the transaction Append writes in: a pgx.Tx, or the unit of work's.
type Tx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// executor gives watermill-sql's publisher a Tx.
type executor struct{ tx Tx }

func (e executor) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	tag, err := e.tx.Exec(ctx, query, args...)
	return wsql.PgxResult{CommandTag: tag}, err
}

func (e executor) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	rows, err := e.tx.Query(ctx, query, args...)
	return wsql.PgxRows{Rows: rows}, err
}

// Append writes envs to the outbox within tx. Nothing is visible to consumers
// until tx commits; nothing is left behind if it rolls back.
func (o *Outbox) Append(ctx context.Context, tx Tx, envs ...events.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	sqlPub, err := wsql.NewPublisher(executor{tx}, wsql.PublisherConfig{SchemaAdapter: o.schema}, o.logger)
	if err != nil {
		return fmt.Errorf("create outbox publisher: %w", err)
	}
	var pub message.Publisher = sqlPub
	if o.mode == Forward {
		pub = forwarder.NewPublisher(sqlPub, forwarder.PublisherConfig{ForwarderTopic: ForwarderTopic})
	}
	for _, env := range envs {
		msg, err := ToMessage(env)
		if err != nil {
			return err
		}
		msg.SetContext(ctx)
		if err := pub.Publish(env.Event.Topic(), msg); err != nil {
			return fmt.Errorf("append %s %s to outbox: %w", env.Event.EventType(), env.ID, err)
		}
	}
	return nil
}

// ToMessage encodes an envelope as a Watermill message: UUID = event ID,
// payload in the wire format, metadata as in the event catalogue.
func ToMessage(env events.Envelope) (*message.Message, error) {
	payload, err := events.Marshal(env.Event)
	if err != nil {
		return nil, err
	}
	msg := message.NewMessage(env.ID.String(), payload)
	for k, v := range env.Metadata() {
		msg.Metadata.Set(k, v)
	}
	return msg, nil
}

// Topics returns every watermill-sql topic the outbox may write to.
func Topics() []string {
	return append([]string{ForwarderTopic}, events.AllTopics...)
}

// InitSchema creates the messages and offsets tables of every topic, under
// watermill-sql's advisory lock, outside any transaction. Both layouts' tables
// are created, so switching EVENTS_BACKEND needs no migration.
func InitSchema(ctx context.Context, db wsql.Beginner, logger watermill.LoggerAdapter) error {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	sub, err := wsql.NewSubscriber(db, wsql.SubscriberConfig{
		SchemaAdapter:    SchemaAdapter(0),
		OffsetsAdapter:   OffsetsAdapter(),
		InitializeSchema: true,
	}, logger)
	if err != nil {
		return fmt.Errorf("create schema initialiser: %w", err)
	}
	defer sub.Close()
	for _, topic := range Topics() {
		if err := sub.SubscribeInitialize(topic); err != nil {
			return fmt.Errorf("initialise outbox table for %s: %w", topic, err)
		}
	}
	return nil
}
