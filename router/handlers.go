package router

import (
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/events"
)

// Handlers lists every event handler the router runs: the one place to add
// one. Each gets its own durable consumer per topic, named after it; renaming
// a handler abandons its consumers and starts new ones.
func Handlers(a app.Application) []Handler {
	return []Handler{
		{Name: "notifications", Topics: events.AllTopics, Handle: a.Events.Notify.Handle},
	}
}
