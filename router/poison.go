package router

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/thoughts-project/thoughts/app/events"
)

// maxReason caps reason_poisoned: it travels as a header on NATS (one line,
// no newlines) and is shown in tables. The full error is logged.
const maxReason = 500

// poisonPublisher prepares a message for the poison queue and publishes it.
type poisonPublisher struct {
	pub     message.Publisher
	log     *slog.Logger
	counter *prometheus.CounterVec
}

func (p *poisonPublisher) Publish(topic string, msgs ...*message.Message) error {
	var cancels []context.CancelFunc
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	for _, msg := range msgs {
		md := msg.Metadata
		full := md.Get(middleware.ReasonForPoisonedKey)
		md.Set(middleware.ReasonForPoisonedKey, summarise(full))
		// Watermill names the router handler, "<handler>:<topic>"; operators
		// know the handler.
		handler, _, _ := strings.Cut(md.Get(middleware.PoisonedHandlerKey), ":")
		md.Set(middleware.PoisonedHandlerKey, handler)
		if md.Get(events.MetaFirstPoisonedAt) == "" {
			md.Set(events.MetaFirstPoisonedAt, time.Now().UTC().Format(time.RFC3339Nano))
		}
		// By now the message's context is the last attempt's, cancelled by
		// Timeout, or the subscription's; the publish must not inherit that.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(msg.Context()), 30*time.Second)
		cancels = append(cancels, cancel)
		msg.SetContext(ctx)
		ctx = events.WithCorrelationID(ctx, md.Get(events.MetaCorrelationID))
		p.log.ErrorContext(ctx, "event poisoned: its handler gave up",
			"handler", handler, "event_id", msg.UUID, "event_type", md.Get(events.MetaEventType),
			"topic", md.Get(middleware.PoisonedTopicKey), "err", full)
		if p.counter != nil {
			p.counter.WithLabelValues(handler).Inc()
		}
	}
	return p.pub.Publish(topic, msgs...)
}

// Close does nothing: the publisher belongs to whoever built the router.
func (p *poisonPublisher) Close() error { return nil }

// summarise keeps the first line of an error (a recovered panic carries its
// stack after it), capped in length.
func summarise(reason string) string {
	line, _, _ := strings.Cut(reason, "\n")
	line = strings.TrimSuffix(strings.TrimSpace(line), ", stacktrace:")
	if len(line) > maxReason {
		line = line[:maxReason] + "…"
	}
	if line == "" {
		return errors.New("unknown error").Error()
	}
	return line
}
