package pubsub_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app/events"
)

// TestPruneKeepsWhatASlowGroupHasNotRead: after a burst, a topic table
// shrinks only as far as its slowest consumer group has read — the slow group
// still gets every event — and back to nothing once it has caught up.
func TestPruneKeepsWhatASlowGroupHasNotRead(t *testing.T) {
	t.Parallel()
	b, db := open(t, pubsub.Postgres)
	ctx := context.Background()
	topic := events.TopicLikeAdded
	subs := []pubsub.Subscription{
		{Handler: "fast", Topics: []string{topic}, AckWait: 30 * time.Second},
		{Handler: "slow", Topics: []string{topic}, AckWait: 30 * time.Second},
	}
	if err := b.Provision(ctx, subs); err != nil {
		t.Fatal(err)
	}
	const burst = 1000
	pub, err := b.Publisher()
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	var msgs []*message.Message
	for range burst {
		msgs = append(msgs, message.NewMessage(uuid.Must(uuid.NewV7()).String(), []byte(`{}`)))
	}
	if err := pub.Publish(topic, msgs...); err != nil {
		t.Fatal(err)
	}
	rows := func() int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+outbox.TableName(topic)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The pruner runs all along, in small batches.
	pruneCtx, stopPruning := context.WithCancel(ctx)
	var pruned sync.WaitGroup
	pruned.Go(func() {
		for pruneCtx.Err() == nil {
			if _, err := pubsub.PruneTopic(pruneCtx, db.Pool, topic, 37); err != nil && pruneCtx.Err() == nil {
				t.Errorf("prune: %v", err)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	defer func() { stopPruning(); pruned.Wait() }()

	consume := func(s pubsub.Subscription, gate <-chan struct{}, gateAfter int) (*sync.Map, func() int) {
		sub, err := b.Subscriber(s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Close() })
		ch, err := sub.Subscribe(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		var seen sync.Map
		var mu sync.Mutex
		count := 0
		go func() {
			for m := range ch {
				mu.Lock()
				n := count
				mu.Unlock()
				if n == gateAfter {
					<-gate
				}
				if _, dup := seen.LoadOrStore(m.UUID, true); !dup {
					mu.Lock()
					count++
					mu.Unlock()
				}
				m.Ack()
			}
		}()
		return &seen, func() int { mu.Lock(); defer mu.Unlock(); return count }
	}
	open := make(chan struct{})
	close(open)
	gate := make(chan struct{})
	// The slow group reads one batch (pubsub.DefaultBatchSize rows, acked
	// together), then stalls on the first message of the next.
	_, fastCount := consume(subs[0], open, -1)
	slowSeen, slowCount := consume(subs[1], gate, pubsub.DefaultBatchSize)

	eventually(t, "the fast group never read the burst", func() bool { return fastCount() == burst })
	eventually(t, "the table never shrank to what the slow group has not read", func() bool { return rows() == burst-pubsub.DefaultBatchSize })
	// And no further, however long the pruner keeps running.
	time.Sleep(300 * time.Millisecond)
	if n := rows(); n != burst-pubsub.DefaultBatchSize {
		t.Fatalf("with the slow group stalled after %d of %d events, the table holds %d rows, want %d",
			pubsub.DefaultBatchSize, burst, n, burst-pubsub.DefaultBatchSize)
	}
	t.Logf("burst %d: table at %d rows while the slow group stalls", burst, rows())

	close(gate)
	eventually(t, "the slow group never got every event", func() bool { return slowCount() == burst })
	for _, m := range msgs {
		if _, ok := slowSeen.Load(m.UUID); !ok {
			t.Errorf("the slow group never got %s", m.UUID)
		}
	}
	eventually(t, "the table never shrank back to empty", func() bool { return rows() == 0 })
}

// TestPruneWithoutGroupsKeepsEverything: a table nobody consumes (the poison
// queue) is never pruned.
func TestPruneWithoutGroupsKeepsEverything(t *testing.T) {
	t.Parallel()
	b, db := open(t, pubsub.Postgres)
	ctx := context.Background()
	if err := b.Provision(ctx, nil); err != nil {
		t.Fatal(err)
	}
	commit(t, db, outbox.Direct)
	commit(t, db, outbox.Direct)
	n, err := pubsub.PruneTopic(ctx, db.Pool, events.TopicLikeAdded, 10)
	if err != nil || n != 0 {
		t.Fatalf("pruned %d rows (%v) of a table without consumer groups", n, err)
	}
	deleted, err := pubsub.PruneTopics(ctx, db.Pool, 10)
	if err != nil {
		t.Fatal(err)
	}
	for topic, n := range deleted {
		if n != 0 {
			t.Errorf("pruned %d rows of %s, which no group reads", n, topic)
		}
	}
}
