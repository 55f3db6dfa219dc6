package router

import (
	"github.com/thoughts-project/thoughts/app"
)

// Handlers lists every event handler the router runs: the one place to add
// one. Each gets its own durable consumer per topic of the events it
// declares, named after it (renaming a handler abandons its consumers and
// starts new ones), and its own retry policy.
func Handlers(a app.Application) []Handler {
	return []Handler{
		{Name: "notifications", Events: a.Events.Notify.Events(), Policy: DefaultPolicy(), Handle: a.Events.Notify.Handle},
	}
}
