package pubsub

import (
	"context"
	"testing"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/thoughts-project/thoughts/app/events"
)

// TestRouterSettleMarksTheDelivery: every message of a read batch carries the
// same events.Delivery, naming exactly the batch's messages, so a batching
// handler can gather them into one call; the batch is done once all are acked.
func TestRouterSettleMarksTheDelivery(t *testing.T) {
	t.Parallel()
	rows := make([]wsql.Row, 3)
	for i := range rows {
		rows[i] = wsql.Row{Msg: message.NewMessage([]string{"a", "b", "c"}[i], nil)}
	}
	out := make(chan *message.Message)
	done := make(chan int, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { done <- routerSettle(out, make(chan struct{}), time.Minute, time.Second)(ctx, rows) }()
	var d *events.Delivery
	for i := range rows {
		msg := <-out
		got := events.DeliveryOf(msg.Context())
		switch {
		case got == nil:
			t.Fatalf("message %d carries no delivery", i)
		case d != nil && got != d:
			t.Fatalf("message %d carries another delivery than the first", i)
		}
		d = got
		select {
		case <-d.Complete():
			t.Fatalf("delivery complete after %d of 3 messages arrived", i)
		default:
		}
		d.Arrived(msg.UUID)
		d.Arrived("not-in-the-batch") // ignored
		msg.Ack()
	}
	select {
	case <-d.Complete():
	default:
		t.Error("delivery not complete once its 3 messages arrived")
	}
	if n := <-done; n != 3 {
		t.Errorf("settled %d of 3", n)
	}
}
