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
	"strings"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"

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

// Outbox appends events inside a transaction.
type Outbox struct {
	mode   Mode
	schema wsql.SchemaAdapter
	logger watermill.LoggerAdapter
}

// New returns an outbox of the given layout.
func New(mode Mode, logger watermill.LoggerAdapter) *Outbox {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	return &Outbox{mode: mode, schema: SchemaAdapter(0), logger: logger}
}

// Append writes envs to the outbox within tx. Nothing is visible to consumers
// until tx commits; nothing is left behind if it rolls back.
func (o *Outbox) Append(ctx context.Context, tx pgx.Tx, envs ...events.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	sqlPub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: o.schema}, o.logger)
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
