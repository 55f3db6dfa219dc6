package nats

import (
	"context"
	"errors"
	"fmt"
	"time"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrNotFound means no stored message has the requested sequence.
var ErrNotFound = errors.New("no such message in the stream")

// StoredMessage is a message read from a stream by sequence, without any
// consumer: reading it changes nothing.
type StoredMessage struct {
	Seq  uint64
	Time time.Time
	Msg  *message.Message
}

// Read calls fn with every message of topic's stream, oldest first.
func Read(ctx context.Context, js jetstream.JetStream, topic string, fn func(StoredMessage) error) error {
	stream, err := js.Stream(ctx, StreamName(topic))
	if err != nil {
		return fmt.Errorf("open stream for %s: %w", topic, err)
	}
	for seq := uint64(1); ; {
		raw, err := stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(topic))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s at %d: %w", topic, seq, err)
		}
		if err := fn(stored(raw)); err != nil {
			return err
		}
		seq = raw.Sequence + 1
	}
}

// Get returns the message of topic's stream with sequence seq.
func Get(ctx context.Context, js jetstream.JetStream, topic string, seq uint64) (StoredMessage, error) {
	stream, err := js.Stream(ctx, StreamName(topic))
	if err != nil {
		return StoredMessage{}, fmt.Errorf("open stream for %s: %w", topic, err)
	}
	raw, err := stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return StoredMessage{}, fmt.Errorf("%s #%d: %w", topic, seq, ErrNotFound)
	}
	if err != nil {
		return StoredMessage{}, fmt.Errorf("read %s #%d: %w", topic, seq, err)
	}
	return stored(raw), nil
}

func stored(raw *jetstream.RawStreamMsg) StoredMessage {
	m := &natsgo.Msg{Subject: raw.Subject, Header: raw.Header, Data: raw.Data}
	msg, _ := lenientUnmarshaler{}.Unmarshal(m) // never fails
	return StoredMessage{Seq: raw.Sequence, Time: raw.Time, Msg: msg}
}

// Delete removes message seq from topic's stream.
func Delete(ctx context.Context, js jetstream.JetStream, topic string, seq uint64) error {
	stream, err := js.Stream(ctx, StreamName(topic))
	if err != nil {
		return fmt.Errorf("open stream for %s: %w", topic, err)
	}
	if err := stream.DeleteMsg(ctx, seq); err != nil {
		var apiErr *jetstream.APIError
		if errors.Is(err, jetstream.ErrMsgNotFound) || errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeMessageNotFound {
			return fmt.Errorf("%s #%d: %w", topic, seq, ErrNotFound)
		}
		return fmt.Errorf("delete %s #%d: %w", topic, seq, err)
	}
	return nil
}

// Purge removes every message of topic's stream and returns how many.
func Purge(ctx context.Context, js jetstream.JetStream, topic string) (uint64, error) {
	stream, err := js.Stream(ctx, StreamName(topic))
	if err != nil {
		return 0, fmt.Errorf("open stream for %s: %w", topic, err)
	}
	n := stream.CachedInfo().State.Msgs
	if err := stream.Purge(ctx); err != nil {
		return 0, fmt.Errorf("purge %s: %w", topic, err)
	}
	return n, nil
}

// Count returns how many messages topic's stream holds.
func Count(ctx context.Context, js jetstream.JetStream, topic string) (uint64, error) {
	stream, err := js.Stream(ctx, StreamName(topic))
	if err != nil {
		return 0, fmt.Errorf("open stream for %s: %w", topic, err)
	}
	return stream.CachedInfo().State.Msgs, nil
}

// Publish publishes msg to topic with msgID as its Nats-Msg-Id, so the
// stream de-duplicates on msgID rather than on the event ID: a requeued
// event is not dropped as a duplicate of its first delivery, while a repeated
// requeue of the same poisoned copy is.
func Publish(ctx context.Context, js jetstream.JetStream, topic string, msg *message.Message, msgID string) error {
	m, err := (&wmnats.NATSMarshaler{}).Marshal(topic, msg)
	if err != nil {
		return fmt.Errorf("encode %s: %w", msg.UUID, err)
	}
	if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(msgID)); err != nil {
		return fmt.Errorf("publish %s to %s: %w", msg.UUID, topic, err)
	}
	return nil
}
