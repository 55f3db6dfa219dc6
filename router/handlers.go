package router

import (
	"context"
	"time"

	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/events"
)

// Handlers lists every event handler the router runs: the one place to add
// one, built from the dependencies of the handlers' process. Each gets its own
// durable consumer per topic of the events it declares, named after it
// (renaming a handler abandons its consumers and starts new ones), and its
// own retry policy.
func Handlers(d app.Deps) []Handler {
	d = d.WithDefaults()
	hs := []Handler{
		Bind("notifications", command.NotifyHandler{UoW: d.UoW, Clock: d.Clock}, DefaultPolicy()),
	}
	if d.Federation != nil {
		hs = append(hs, Bind("inbox", app.InboxHandler(d.UoW, *d.Federation), InboxPolicy()))
	}
	hs = append(hs, federationHandlers(d)...)
	return hs
}

// InboxPolicy retries received activities for about half an hour: applying
// one may need other servers (a key, an actor, a Note or a thread's
// parents), and a server that is briefly down should not lose us its
// activities. Each attempt may wait for a fetch (30 s at most).
func InboxPolicy() Policy {
	return Policy{MaxRetries: 10, InitialInterval: time.Second, Multiplier: 2, MaxInterval: 5 * time.Minute, Timeout: 45 * time.Second}
}

// EventHandler is a use case of app that reacts to events: it declares the
// event types it acts on and handles one event idempotently.
type EventHandler interface {
	Events() []events.Event
	Handle(ctx context.Context, env events.Envelope) error
}

// Bind makes h a router handler named name, retried by p.
func Bind(name string, h EventHandler, p Policy) Handler {
	return Handler{Name: name, Events: h.Events(), Policy: p, Handle: h.Handle}
}
