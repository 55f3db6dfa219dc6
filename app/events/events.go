// Package events defines Thoughts' domain events: past-tense facts with a stable
// JSON wire format {"type": "...", "data": {...}}, the topic each is published on,
// and the metadata every event message carries. It imports only the standard
// library and uuid.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Message metadata keys carried by every event message.
const (
	MetaCorrelationID = "correlation_id"
	MetaEventType     = "event_type"
	MetaOccurredAt    = "occurred_at"
	MetaActorID       = "actor_id"
)

// MetaFirstPoisonedAt is the metadata key of when a message was first put on
// the poison queue (RFC 3339). The router sets it on the first poisoning and
// a requeued message keeps it, so the poison tooling, which reads it, shows
// when the trouble began. It is here, with the other keys, because both
// sides must agree on it.
const MetaFirstPoisonedAt = "first_poisoned_at"

// Event is a domain event. Implementations are plain structs with JSON tags; a
// shipped event's fields are never changed incompatibly.
type Event interface {
	// EventType is the wire "type", e.g. "LikeAdded".
	EventType() string
	// Topic is where the event is published, e.g. "likes.added".
	Topic() string
}

// Envelope is an event plus what every message says about it.
type Envelope struct {
	// ID is the event's identity and the message UUID: a relay or redelivery of
	// the same event carries the same ID, which makes de-duplication possible.
	ID            uuid.UUID
	OccurredAt    time.Time
	ActorID       uuid.UUID
	CorrelationID string
	Event         Event
}

// New wraps ev in an envelope with a fresh UUIDv7 and the correlation ID of ctx.
func New(ctx context.Context, actorID uuid.UUID, ev Event, now time.Time) Envelope {
	return Envelope{
		ID:            uuid.Must(uuid.NewV7()),
		OccurredAt:    now.UTC(),
		ActorID:       actorID,
		CorrelationID: CorrelationID(ctx),
		Event:         ev,
	}
}

// Metadata returns the message metadata for the envelope.
func (e Envelope) Metadata() map[string]string {
	md := map[string]string{
		MetaEventType:  e.Event.EventType(),
		MetaOccurredAt: e.OccurredAt.Format(time.RFC3339Nano),
	}
	if e.CorrelationID != "" {
		md[MetaCorrelationID] = e.CorrelationID
	}
	if e.ActorID != uuid.Nil {
		md[MetaActorID] = e.ActorID.String()
	}
	return md
}

type wire struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// Marshal encodes ev in the wire format.
func Marshal(ev Event) ([]byte, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", ev.EventType(), err)
	}
	return json.Marshal(wire{Type: ev.EventType(), Data: data})
}

// ErrUndecodable marks a payload that can never be decoded: redelivering it will
// not help, so consumers send it to the poison queue at once.
var ErrUndecodable = errors.New("undecodable event payload")

// Unmarshal decodes a wire payload into its concrete event type (a value, not a
// pointer). Unknown types and malformed payloads wrap ErrUndecodable.
func Unmarshal(payload []byte) (Event, error) {
	var w wire
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUndecodable, err)
	}
	decode, ok := registry[w.Type]
	if !ok {
		return nil, fmt.Errorf("%w: unknown event type %q", ErrUndecodable, w.Type)
	}
	if len(w.Data) == 0 || string(w.Data) == "null" {
		return nil, fmt.Errorf("%w: %s has no data", ErrUndecodable, w.Type)
	}
	ev, err := decode(w.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUndecodable, w.Type, err)
	}
	return ev, nil
}

var registry = map[string]func([]byte) (Event, error){}

func register[T Event]() {
	var zero T
	registry[zero.EventType()] = func(data []byte) (Event, error) {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		return v, nil
	}
}

// Types lists every registered event type name.
func Types() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	return out
}

type correlationKey struct{}

// WithCorrelationID returns ctx carrying id.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the correlation ID carried by ctx, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}
