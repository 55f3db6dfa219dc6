package router

import (
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/events"
)

// Decode turns a message into an envelope: the ID from the message UUID, the
// event from the payload, the rest from the catalogue's metadata. Every error
// wraps events.ErrUndecodable: the message can never be handled, and retrying
// will not change that.
func Decode(msg *message.Message) (events.Envelope, error) {
	id, err := uuid.Parse(msg.UUID)
	if err != nil {
		return events.Envelope{}, fmt.Errorf("%w: message UUID %q is not a UUID", events.ErrUndecodable, msg.UUID)
	}
	ev, err := events.Unmarshal(msg.Payload)
	if err != nil {
		return events.Envelope{}, err
	}
	env := events.Envelope{ID: id, Event: ev, CorrelationID: msg.Metadata.Get(events.MetaCorrelationID)}
	if t := msg.Metadata.Get(events.MetaEventType); t != "" && t != ev.EventType() {
		return events.Envelope{}, fmt.Errorf("%w: metadata says %s, payload is %s", events.ErrUndecodable, t, ev.EventType())
	}
	if s := msg.Metadata.Get(events.MetaOccurredAt); s != "" {
		if env.OccurredAt, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return events.Envelope{}, fmt.Errorf("%w: %s %q is not an RFC 3339 time", events.ErrUndecodable, events.MetaOccurredAt, s)
		}
	}
	if s := msg.Metadata.Get(events.MetaActorID); s != "" {
		if env.ActorID, err = uuid.Parse(s); err != nil {
			return events.Envelope{}, fmt.Errorf("%w: %s %q is not a UUID", events.ErrUndecodable, events.MetaActorID, s)
		}
	}
	return env, nil
}
