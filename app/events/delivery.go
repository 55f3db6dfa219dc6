package events

import (
	"context"
	"sync"
)

// A Delivery is a group of messages a subscriber handed to the handlers at
// once: a Postgres consumer's read batch, settled (acked) together. A handler
// that batches its work can wait for the rest of the messages of a delivery
// before it applies what it has, instead of applying the first message to
// reach it alone and the others in later batches: the messages arrive on
// goroutines of their own, microseconds apart. Subscribers that deliver one
// message at a time attach none.
type Delivery struct {
	mu       sync.Mutex
	expected map[string]struct{}
	complete chan struct{}
}

// NewDelivery is the delivery of the messages with these IDs.
func NewDelivery(ids []string) *Delivery {
	d := &Delivery{expected: make(map[string]struct{}, len(ids)), complete: make(chan struct{})}
	for _, id := range ids {
		d.expected[id] = struct{}{}
	}
	if len(d.expected) == 0 {
		close(d.complete)
	}
	return d
}

// Arrived records that the message with id reached the handler (whether
// it will be batched or not); a message may arrive again (a retry), and an
// ID not in the delivery is ignored.
func (d *Delivery) Arrived(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.expected[id]; !ok {
		return
	}
	delete(d.expected, id)
	if len(d.expected) == 0 {
		close(d.complete)
	}
}

// Complete is closed once every message of the delivery has arrived.
func (d *Delivery) Complete() <-chan struct{} { return d.complete }

type deliveryKey struct{}

// WithDelivery returns ctx carrying d, for the context of each of its
// messages.
func WithDelivery(ctx context.Context, d *Delivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}

// DeliveryOf returns the delivery carried by ctx, or nil.
func DeliveryOf(ctx context.Context) *Delivery {
	d, _ := ctx.Value(deliveryKey{}).(*Delivery)
	return d
}
