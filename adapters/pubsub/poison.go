package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	natsadapter "github.com/thoughts-project/thoughts/adapters/nats"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/app/events"
)

// ErrNoPoisonEntry means no poison queue entry matches.
var ErrNoPoisonEntry = errors.New("no such poison queue entry")

// PoisonEntry is a message on the poison queue.
type PoisonEntry struct {
	// Seq identifies the entry: the stream sequence (NATS) or the row
	// offset (Postgres).
	Seq           uint64
	EventID       string
	EventType     string
	Topic         string
	Handler       string
	Reason        string
	CorrelationID string
	// PoisonedAt is when this entry was written; FirstSeen when the event was
	// first poisoned (earlier if it was requeued and failed again).
	PoisonedAt time.Time
	FirstSeen  time.Time
	Payload    []byte
	Metadata   map[string]string
}

func entry(seq uint64, at time.Time, msg *message.Message) PoisonEntry {
	e := PoisonEntry{
		Seq:           seq,
		EventID:       msg.UUID,
		EventType:     msg.Metadata.Get(events.MetaEventType),
		Topic:         msg.Metadata.Get(middleware.PoisonedTopicKey),
		Handler:       msg.Metadata.Get(middleware.PoisonedHandlerKey),
		Reason:        msg.Metadata.Get(middleware.ReasonForPoisonedKey),
		CorrelationID: msg.Metadata.Get(events.MetaCorrelationID),
		PoisonedAt:    at.UTC(),
		FirstSeen:     at.UTC(),
		Payload:       msg.Payload,
		Metadata:      msg.Metadata,
	}
	if t, err := time.Parse(time.RFC3339Nano, msg.Metadata.Get(events.MetaFirstPoisonedAt)); err == nil && t.Before(e.FirstSeen) {
		e.FirstSeen = t.UTC()
	}
	return e
}

// PoisonList returns every entry, oldest first, without consuming any.
func (b *Backend) PoisonList(ctx context.Context) ([]PoisonEntry, error) {
	var out []PoisonEntry
	switch b.cfg.Backend {
	case NATS:
		err := natsadapter.Read(ctx, b.js, b.cfg.PoisonTopic, func(m natsadapter.StoredMessage) error {
			out = append(out, entry(m.Seq, m.Time, m.Msg))
			return nil
		})
		return out, err
	default:
		return b.sqlPoison(ctx, "")
	}
}

// PoisonFind returns the entries matching id: an entry number, or an event ID
// (which may have been poisoned by several handlers).
func (b *Backend) PoisonFind(ctx context.Context, id string) ([]PoisonEntry, error) {
	if seq, err := strconv.ParseUint(id, 10, 64); err == nil {
		var e PoisonEntry
		switch b.cfg.Backend {
		case NATS:
			m, err := natsadapter.Get(ctx, b.js, b.cfg.PoisonTopic, seq)
			if errors.Is(err, natsadapter.ErrNotFound) {
				return nil, fmt.Errorf("entry %d: %w", seq, ErrNoPoisonEntry)
			}
			if err != nil {
				return nil, err
			}
			e = entry(m.Seq, m.Time, m.Msg)
		default:
			found, err := b.sqlPoison(ctx, `WHERE "offset" = $1`, int64(seq))
			if err != nil {
				return nil, err
			}
			if len(found) == 0 {
				return nil, fmt.Errorf("entry %d: %w", seq, ErrNoPoisonEntry)
			}
			e = found[0]
		}
		return []PoisonEntry{e}, nil
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, fmt.Errorf("%q is neither an entry number nor an event ID", id)
	}
	all, err := b.PoisonList(ctx)
	if err != nil {
		return nil, err
	}
	var out []PoisonEntry
	for _, e := range all {
		if e.EventID == id {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("event %s: %w", id, ErrNoPoisonEntry)
	}
	return out, nil
}

// requeued is the message to send back: the same UUID, payload and event
// metadata, without the poison annotations (a new failure sets them anew).
func requeued(e PoisonEntry) *message.Message {
	msg := message.NewMessage(e.EventID, e.Payload)
	for k, v := range e.Metadata {
		switch k {
		case middleware.ReasonForPoisonedKey, middleware.PoisonedTopicKey, middleware.PoisonedHandlerKey, middleware.PoisonedSubscriberKey:
			continue
		}
		msg.Metadata.Set(k, v)
	}
	if msg.Metadata.Get(events.MetaFirstPoisonedAt) == "" {
		msg.Metadata.Set(events.MetaFirstPoisonedAt, e.FirstSeen.Format(time.RFC3339Nano))
	}
	return msg
}

// PoisonRequeue sends e back to its original topic, where every handler of
// that topic receives it again (handlers are idempotent by event ID), and
// removes it from the poison queue.
func (b *Backend) PoisonRequeue(ctx context.Context, e PoisonEntry) error {
	if e.Topic == "" || e.Topic == b.cfg.PoisonTopic {
		return fmt.Errorf("entry %d names no original topic; cannot requeue", e.Seq)
	}
	msg := requeued(e)
	switch b.cfg.Backend {
	case NATS:
		// The event ID is the usual Nats-Msg-Id: reusing it within the
		// duplicate window would have the stream drop the requeue. The entry's
		// sequence makes the ID unique per poisoning, yet the same for a
		// repeated requeue of one entry.
		msgID := fmt.Sprintf("%s:requeue:%d", e.EventID, e.Seq)
		if err := natsadapter.Publish(ctx, b.js, e.Topic, msg, msgID); err != nil {
			return err
		}
		return natsadapter.Delete(ctx, b.js, b.cfg.PoisonTopic, e.Seq)
	default:
		// Publish and delete commit together.
		return pgx.BeginFunc(ctx, b.cfg.Pool, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `DELETE FROM `+outbox.TableName(b.cfg.PoisonTopic)+` WHERE "offset" = $1`, int64(e.Seq))
			if err != nil {
				return fmt.Errorf("delete poison entry %d: %w", e.Seq, err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("entry %d: %w", e.Seq, ErrNoPoisonEntry)
			}
			pub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: outbox.SchemaAdapter(0)}, b.wlog)
			if err != nil {
				return fmt.Errorf("create publisher: %w", err)
			}
			msg.SetContext(ctx)
			if err := pub.Publish(e.Topic, msg); err != nil {
				return fmt.Errorf("publish %s to %s: %w", e.EventID, e.Topic, err)
			}
			return nil
		})
	}
}

// PoisonPurge deletes every entry and returns how many there were.
func (b *Backend) PoisonPurge(ctx context.Context) (uint64, error) {
	switch b.cfg.Backend {
	case NATS:
		return natsadapter.Purge(ctx, b.js, b.cfg.PoisonTopic)
	default:
		tag, err := b.cfg.Pool.Exec(ctx, `DELETE FROM `+outbox.TableName(b.cfg.PoisonTopic))
		if err != nil {
			return 0, fmt.Errorf("purge poison queue: %w", err)
		}
		return uint64(tag.RowsAffected()), nil
	}
}

// PoisonSize returns the number of entries.
func (b *Backend) PoisonSize(ctx context.Context) (uint64, error) {
	switch b.cfg.Backend {
	case NATS:
		return natsadapter.Count(ctx, b.js, b.cfg.PoisonTopic)
	default:
		var n int64
		if err := b.cfg.Pool.QueryRow(ctx, `SELECT count(*) FROM `+outbox.TableName(b.cfg.PoisonTopic)).Scan(&n); err != nil {
			return 0, fmt.Errorf("count poison queue: %w", err)
		}
		return uint64(n), nil
	}
}

func (b *Backend) sqlPoison(ctx context.Context, where string, args ...any) ([]PoisonEntry, error) {
	rows, err := b.cfg.Pool.Query(ctx, `SELECT "offset", uuid, payload::text, metadata::text, created_at::timestamptz
		FROM `+outbox.TableName(b.cfg.PoisonTopic)+` `+where+` ORDER BY "offset"`, args...)
	if err != nil {
		return nil, fmt.Errorf("read poison queue: %w", err)
	}
	defer rows.Close()
	var out []PoisonEntry
	for rows.Next() {
		var (
			seq              int64
			id               string
			payload, rawMeta *string
			at               time.Time
		)
		if err := rows.Scan(&seq, &id, &payload, &rawMeta, &at); err != nil {
			return nil, fmt.Errorf("read poison queue: %w", err)
		}
		msg := message.NewMessage(id, nil)
		if payload != nil {
			msg.Payload = []byte(*payload)
		}
		if rawMeta != nil {
			if err := json.Unmarshal([]byte(*rawMeta), &msg.Metadata); err != nil {
				return nil, fmt.Errorf("poison entry %d: metadata: %w", seq, err)
			}
		}
		out = append(out, entry(uint64(seq), at, msg))
	}
	return out, rows.Err()
}
