// Package nats connects Thoughts to NATS JetStream: an embedded server for
// single-process deployments, connections to an external server or cluster,
// the streams and durable consumers created at start-up, and the Watermill
// publishers and subscribers that carry events over them.
//
// Every event topic has its own stream (the topic's name with dots replaced,
// since stream names may not contain dots) holding exactly that subject. Every
// handler has one durable push consumer per topic, named after handler and
// topic, whose deliver group is that same name: router processes running the
// same handler share its work.
package nats

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// Dialer opens a new connection; name identifies it in the server's
// monitoring. Watermill publishers and subscribers each own their connection
// (closing one drains its connection), so components dial separately.
type Dialer func(name string) (*natsgo.Conn, error)

// ConnOptions tune client connections.
type ConnOptions struct {
	// ReconnectWait is the pause between reconnection attempts; reconnection
	// never gives up, so a broker restart is survived.
	ReconnectWait time.Duration
}

func (o ConnOptions) options(name string, logger *slog.Logger) []natsgo.Option {
	wait := o.ReconnectWait
	if wait <= 0 {
		wait = time.Second
	}
	return []natsgo.Option{
		natsgo.Name(name),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(wait),
		natsgo.DisconnectErrHandler(func(c *natsgo.Conn, err error) {
			if err != nil {
				logger.Warn("NATS connection lost", "conn", name, "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(c *natsgo.Conn) {
			logger.Info("NATS connection restored", "conn", name, "server", c.ConnectedUrlRedacted())
		}),
		natsgo.ErrorHandler(func(c *natsgo.Conn, sub *natsgo.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			logger.Error("NATS asynchronous error", "conn", name, "subject", subject, "err", err)
		}),
	}
}

// External returns a Dialer for the server or cluster at url (comma-separated
// URLs allowed).
func External(urls string, opts ConnOptions, logger *slog.Logger) Dialer {
	if logger == nil {
		logger = slog.Default()
	}
	return func(name string) (*natsgo.Conn, error) {
		nc, err := natsgo.Connect(urls, opts.options(name, logger)...)
		if err != nil {
			return nil, fmt.Errorf("connect to NATS at %s: %w", redactURL(urls), err)
		}
		return nc, nil
	}
}

// redactURL hides credentials embedded in NATS URLs.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			parts[i] = "(unparsable URL)"
			continue
		}
		parts[i] = u.Redacted()
	}
	return strings.Join(parts, ",")
}
