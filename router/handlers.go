package router

import (
	"context"

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
	return []Handler{
		Bind("notifications", command.NotifyHandler{UoW: d.UoW, Clock: d.Clock}, DefaultPolicy()),
	}
}

// EventHandler is a use case of app that reacts to events: it declares the
// event types it acts on and handles one event idempotently.
type EventHandler interface {
	Events() []events.Event
	Handle(ctx context.Context, env events.Envelope) error
}

// BatchEventHandler is an EventHandler that can also apply several events
// with one commit (see Handler.HandleBatch).
type BatchEventHandler interface {
	EventHandler
	HandleBatch(ctx context.Context, envs []events.Envelope) error
}

// Bind makes h a router handler named name, retried by p; its HandleBatch
// too if it has one.
func Bind(name string, h EventHandler, p Policy) Handler {
	out := Handler{Name: name, Events: h.Events(), Policy: p, Handle: h.Handle}
	if bh, ok := h.(BatchEventHandler); ok {
		out.HandleBatch = bh.HandleBatch
	}
	return out
}
