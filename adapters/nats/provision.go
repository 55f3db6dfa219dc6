package nats

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the stream holding topic: stream names may not contain dots.
func StreamName(topic string) string { return strings.ReplaceAll(topic, ".", "_") }

// DurableName is the durable consumer (and its deliver group) through which
// handler reads topic.
func DurableName(handler, topic string) string {
	return handler + "_" + strings.ReplaceAll(topic, ".", "_")
}

// deliverSubject is where the server pushes a durable's messages; it lies
// outside every stream's subjects.
func deliverSubject(durable string) string { return "_thoughts_deliver." + durable }

var validHandlerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidHandlerName reports whether name can name durable consumers.
func ValidHandlerName(name string) bool { return validHandlerName.MatchString(name) }

// Retention says when a stream may drop a message.
type Retention int

const (
	// UntilAcked keeps a message until every consumer has acked it (event
	// streams: nothing is dropped before every handler has processed it).
	UntilAcked Retention = iota
	// Forever keeps messages until deleted (the poison stream, which nobody
	// consumes).
	Forever
)

// StreamOptions tune the streams created at start-up.
type StreamOptions struct {
	// Replicas per stream on a cluster; 0 means 1.
	Replicas int
	// MaxAge drops messages older than this, handled or not; 0: no limit.
	MaxAge time.Duration
	// MaxBytes caps a stream's size; 0 or negative: no limit. A full event
	// stream (UntilAcked) refuses new messages, so publishers wait (the
	// outbox holds the events) instead of unhandled ones being dropped; the
	// poison stream (Forever) drops its oldest.
	MaxBytes int64
}

// dedupWindow is how long a stream remembers message IDs: a relay repeated
// within it (a forwarder crashed after publishing, before recording it) is
// dropped as a duplicate.
const dedupWindow = 2 * time.Minute

// ConsumerOptions configure every durable consumer and the subscriptions
// bound to it. Subscriptions must repeat the consumer's settings exactly.
type ConsumerOptions struct {
	// AckWait is how long the server waits for an ack before redelivering.
	// It must exceed the longest time a handler may hold a message (all
	// its retries), or the message is redelivered while still being retried.
	AckWait time.Duration
	// MaxDeliver caps deliveries of one message; -1 or 0 means unlimited.
	MaxDeliver int
	// MaxAckPending caps messages delivered but not yet acked per consumer;
	// a message waits behind at most that many others at its subscriber.
	MaxAckPending int
}

func (o ConsumerOptions) maxDeliver() int {
	if o.MaxDeliver <= 0 {
		return -1
	}
	return o.MaxDeliver
}

// EnsureStream creates or updates the stream for topic. Concurrent calls with
// the same settings (several processes starting) all succeed.
func EnsureStream(ctx context.Context, js jetstream.JetStream, topic string, retention Retention, opts StreamOptions) error {
	cfg := jetstream.StreamConfig{
		Name:        StreamName(topic),
		Description: "Thoughts topic " + topic,
		Subjects:    []string{topic},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.InterestPolicy,
		Discard:     jetstream.DiscardOld,
		Replicas:    max(opts.Replicas, 1),
		Duplicates:  dedupWindow,
		MaxAge:      max(opts.MaxAge, 0),
		MaxBytes:    -1,
	}
	if opts.MaxBytes > 0 {
		cfg.MaxBytes = opts.MaxBytes
		cfg.Discard = jetstream.DiscardNew
	}
	if cfg.MaxAge > 0 && cfg.MaxAge < cfg.Duplicates {
		cfg.Duplicates = cfg.MaxAge
	}
	if retention == Forever {
		cfg.Retention = jetstream.LimitsPolicy
		cfg.Discard = jetstream.DiscardOld
	}
	err := retryConflict(ctx, func() error {
		// Leave a stream that is already as wanted alone: an update, even a
		// no-op one, rewrites its store's configuration (and, in nats-server
		// 2.15.3, races with a consumer being created on the stream at the
		// same moment: the race detector caught it when processes started
		// together). A missing stream is created, not "created or updated":
		// when another process created it first, the conflict is retried and
		// its stream compared like any other.
		s, err := js.Stream(ctx, cfg.Name)
		switch {
		case err == nil && sameStream(s.CachedInfo().Config, cfg):
			return nil
		case err == nil:
			_, err = js.UpdateStream(ctx, cfg)
			return err
		case errors.Is(err, jetstream.ErrStreamNotFound):
			_, err = js.CreateStream(ctx, cfg)
			return err
		default:
			return err
		}
	})
	if err != nil {
		return fmt.Errorf("create stream %s for %s: %w", cfg.Name, topic, err)
	}
	return nil
}

func sameStream(have, want jetstream.StreamConfig) bool {
	return slices.Equal(have.Subjects, want.Subjects) && have.Retention == want.Retention && have.Storage == want.Storage &&
		have.Discard == want.Discard && have.Replicas == want.Replicas && have.Duplicates == want.Duplicates &&
		have.Description == want.Description && have.MaxAge == want.MaxAge && have.MaxBytes == want.MaxBytes
}

func sameConsumer(have, want jetstream.ConsumerConfig) bool {
	return have.Durable == want.Durable && have.Description == want.Description && have.DeliverSubject == want.DeliverSubject &&
		have.DeliverGroup == want.DeliverGroup && have.DeliverPolicy == want.DeliverPolicy && have.AckPolicy == want.AckPolicy &&
		have.AckWait == want.AckWait && have.MaxDeliver == want.MaxDeliver && have.MaxAckPending == want.MaxAckPending &&
		have.FilterSubject == want.FilterSubject && have.ReplayPolicy == want.ReplayPolicy
}

// EnsureConsumer creates or updates handler's durable push consumer on topic.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, handler, topic string, opts ConsumerOptions) error {
	if !ValidHandlerName(handler) {
		return fmt.Errorf("handler name %q: use lower-case letters, digits, - and _", handler)
	}
	durable := DurableName(handler, topic)
	cfg := jetstream.ConsumerConfig{
		Durable:        durable,
		Description:    fmt.Sprintf("Thoughts handler %s on %s", handler, topic),
		DeliverSubject: deliverSubject(durable),
		DeliverGroup:   durable,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        opts.AckWait,
		MaxDeliver:     opts.maxDeliver(),
		MaxAckPending:  opts.MaxAckPending,
		FilterSubject:  topic,
		ReplayPolicy:   jetstream.ReplayInstantPolicy,
	}
	err := retryConflict(ctx, func() error {
		c, err := js.PushConsumer(ctx, StreamName(topic), durable)
		if err == nil && sameConsumer(c.CachedInfo().Config, cfg) {
			return nil
		}
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return err
		}
		_, err = js.CreateOrUpdatePushConsumer(ctx, StreamName(topic), cfg)
		return err
	})
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", durable, err)
	}
	return nil
}

// DeleteConsumer removes handler's durable consumer on topic, if there is one
// (a subscription the handler no longer has: on a stream kept until every
// consumer has acked, a consumer nobody reads keeps every message). It
// reports whether there was one.
func DeleteConsumer(ctx context.Context, js jetstream.JetStream, handler, topic string) (bool, error) {
	err := js.DeleteConsumer(ctx, StreamName(topic), DurableName(handler, topic))
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound), errors.Is(err, jetstream.ErrStreamNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("delete consumer %s: %w", DurableName(handler, topic), err)
	}
	return true, nil
}

// retryConflict retries fn briefly when a concurrent create from another
// process starting at the same moment collides with ours.
func retryConflict(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		if err = fn(); err == nil {
			return nil
		}
		var apiErr *jetstream.APIError
		conflict := errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamNameInUse ||
			apiErr.ErrorCode == jetstream.JSErrCodeConsumerNameExists ||
			apiErr.ErrorCode == jetstream.JSErrCodeConsumerAlreadyExists ||
			apiErr.ErrorCode == jetstream.JSErrCodeConsumerExists)
		if !conflict || attempt == 5 {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
}

// subscribeOptions mirror ConsumerOptions on a subscription, so binding to
// the pre-created consumer passes nats.go's consistency check, and turn off
// nats.go's automatic ack: without ManualAck it would ack every message when
// the callback returns, including those Watermill gave up on.
func (o ConsumerOptions) subscribeOptions() []natsgo.SubOpt {
	opts := []natsgo.SubOpt{
		natsgo.ManualAck(),
		natsgo.AckExplicit(),
		natsgo.DeliverAll(),
		natsgo.AckWait(o.AckWait),
	}
	if md := o.maxDeliver(); md > 0 {
		opts = append(opts, natsgo.MaxDeliver(md))
	}
	if o.MaxAckPending > 0 {
		opts = append(opts, natsgo.MaxAckPending(o.MaxAckPending))
	}
	return opts
}
