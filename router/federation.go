package router

import (
	"time"

	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// federationHandlers is the outbound federation handler, when the process
// federates (d.OutboundStore set): it turns local actors' events into
// activities and enqueues their deliveries (the delivery worker posts them).
func federationHandlers(d app.Deps) []Handler {
	if d.OutboundStore == nil {
		return nil
	}
	h := command.FederateHandler{Store: d.OutboundStore, IRIs: vocab.IRIs{Base: d.PublicURL}, Resolve: d.RemoteActors}
	return []Handler{Bind("federation", h, FederationPolicy())}
}

// FederationPolicy gives each attempt a minute (resolving mentions may
// fetch from other servers, each bounded to 10 s) and retries a failing
// database for about a minute before the poison queue.
func FederationPolicy() Policy {
	return Policy{MaxRetries: 6, InitialInterval: 500 * time.Millisecond, Multiplier: 2, MaxInterval: 15 * time.Second, Timeout: time.Minute}
}
