package nats

import (
	"context"
	"fmt"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// Outgoing is a message for a topic.
type Outgoing struct {
	Topic string
	Msg   *message.Message
}

// PublishBatch publishes msgs in order without waiting for each one's
// acknowledgement, each with its UUID (the event ID) as Nats-Msg-Id, as
// NewPublisher does; then waits for every acknowledgement. It returns how many
// leading messages the streams stored, and the first failure: the caller
// publishes the rest again later, and a message stored twice within the
// streams' duplicate window is dropped by the stream.
func PublishBatch(ctx context.Context, js jetstream.JetStream, msgs []Outgoing) (int, error) {
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	var sendErr error
	for _, o := range msgs {
		m, err := (&wmnats.NATSMarshaler{}).Marshal(o.Topic, o.Msg)
		if err != nil {
			sendErr = fmt.Errorf("encode %s: %w", o.Msg.UUID, err)
			break
		}
		f, err := js.PublishMsgAsync(m, jetstream.WithMsgID(o.Msg.UUID))
		if err != nil {
			sendErr = fmt.Errorf("publish %s to %s: %w", o.Msg.UUID, o.Topic, err)
			break
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return i, fmt.Errorf("publish %s to %s: %w", msgs[i].Msg.UUID, msgs[i].Topic, err)
		case <-ctx.Done():
			return i, fmt.Errorf("publish %s to %s: %w", msgs[i].Msg.UUID, msgs[i].Topic, ctx.Err())
		}
	}
	return len(futures), sendErr
}
