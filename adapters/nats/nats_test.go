package nats

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var quiet = slog.New(slog.DiscardHandler)

func embedded(t *testing.T) (*Embedded, jetstream.JetStream) {
	t.Helper()
	e, err := StartEmbedded(t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	nc, err := e.Dial("test-admin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return e, js
}

func dial(t *testing.T, e *Embedded, name string) *natsgo.Conn {
	t.Helper()
	nc, err := e.Dial(name)
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	return nc
}

func jetStream(t *testing.T, nc *natsgo.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// receive returns the next message on ch, failing the test if ch closes or
// nothing comes within d.
func receive(t *testing.T, ch <-chan *message.Message, d time.Duration) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed while waiting for a message")
		}
		return m
	case <-time.After(d):
		t.Fatalf("no message within %s", d)
	}
	return nil
}

// TestEmbeddedStoreIsExclusiveAndDurable: a second server cannot open a store
// in use; after a restart the streams and their messages are still there.
func TestEmbeddedStoreIsExclusiveAndDurable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e, err := StartEmbedded(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := StartEmbedded(dir, quiet); !errors.Is(err, ErrStoreInUse) {
		t.Fatalf("second server on the same store: %v, want ErrStoreInUse", err)
	}
	nc := dial(t, e, "t")
	js := jetStream(t, nc)
	ctx := context.Background()
	if err := EnsureStream(ctx, js, "a.topic", Forever, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "a.topic", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	e.Shutdown()

	e, err = StartEmbedded(dir, quiet)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer e.Shutdown()
	nc = dial(t, e, "t")
	defer nc.Close()
	js = jetStream(t, nc)
	m, err := Get(ctx, js, "a.topic", 1)
	if err != nil || string(m.Msg.Payload) != "kept" {
		t.Fatalf("after restart: %v %v", m, err)
	}
}

// TestProvisioningIsIdempotentAndConcurrent: processes starting together all
// succeed, and the result is what subscriptions bind to.
func TestProvisioningIsIdempotentAndConcurrent(t *testing.T) {
	t.Parallel()
	_, js := embedded(t)
	ctx := context.Background()
	opts := ConsumerOptions{AckWait: 7 * time.Second, MaxAckPending: 16}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := EnsureStream(ctx, js, "likes.added", UntilAcked, StreamOptions{}); err != nil {
				errs <- err
				return
			}
			errs <- EnsureConsumer(ctx, js, "notifications", "likes.added", opts)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent provisioning: %v", err)
		}
	}
	stream, err := js.Stream(ctx, "likes_added")
	if err != nil {
		t.Fatal(err)
	}
	if cfg := stream.CachedInfo().Config; cfg.Retention != jetstream.InterestPolicy || len(cfg.Subjects) != 1 || cfg.Subjects[0] != "likes.added" {
		t.Errorf("stream config = %+v", cfg)
	}
	c, err := stream.PushConsumer(ctx, "notifications_likes_added")
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.CachedInfo().Config
	if cfg.DeliverGroup != "notifications_likes_added" || cfg.AckPolicy != jetstream.AckExplicitPolicy || cfg.DeliverPolicy != jetstream.DeliverAllPolicy ||
		cfg.AckWait != 7*time.Second || cfg.MaxDeliver != -1 || cfg.MaxAckPending != 16 || cfg.FilterSubject != "likes.added" {
		t.Errorf("consumer config = %+v", cfg)
	}
	// A changed setting updates the consumer in place.
	opts.AckWait = 9 * time.Second
	if err := EnsureConsumer(ctx, js, "notifications", "likes.added", opts); err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.AckWait != 9*time.Second {
		t.Errorf("ack wait after update = %s", info.Config.AckWait)
	}
	if err := EnsureConsumer(ctx, js, "Bad.Name", "likes.added", opts); err == nil {
		t.Error("a handler name with a dot was accepted")
	}
}

// TestPublishSubscribeAckAndDeduplicate: the publisher de-duplicates by
// message UUID; the subscriber binds to the pre-created durable, acks what the
// router acks, and leaves the durable in place when closed.
func TestPublishSubscribeAckAndDeduplicate(t *testing.T) {
	t.Parallel()
	e, js := embedded(t)
	ctx := context.Background()
	opts := ConsumerOptions{AckWait: 5 * time.Second}
	if err := EnsureStream(ctx, js, "t.one", UntilAcked, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureConsumer(ctx, js, "h", "t.one", opts); err != nil {
		t.Fatal(err)
	}
	pub, err := NewPublisher(dial(t, e, "pub"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	id := uuid.NewString()
	for range 2 { // a relay repeated after a crash
		m := message.NewMessage(id, []byte(`{"n":1}`))
		m.Metadata.Set("correlation_id", "corr-1")
		if err := pub.Publish("t.one", m); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := Count(ctx, js, "t.one"); err != nil || n != 1 {
		t.Fatalf("stream holds %d messages (%v), want 1 (de-duplicated)", n, err)
	}
	sub, err := NewSubscriber(dial(t, e, "sub"), "h", SubscriberOptions{Consumer: opts}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(ctx, "t.one")
	if err != nil {
		t.Fatal(err)
	}
	got := receive(t, ch, 10*time.Second)
	if got.UUID != id || string(got.Payload) != `{"n":1}` || got.Metadata.Get("correlation_id") != "corr-1" {
		t.Errorf("received %s %s %v", got.UUID, got.Payload, got.Metadata)
	}
	got.Ack()
	stream, err := js.Stream(ctx, "t_one")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := stream.Info(ctx)
		if err == nil && info.State.Msgs == 0 {
			break // interest retention: acked by its only consumer, removed
		}
		if time.Now().After(deadline) {
			t.Fatalf("message not acked: %+v %v", info, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.PushConsumer(ctx, "h_t_one"); err != nil {
		t.Errorf("durable consumer gone after Close: %v", err)
	}
	select {
	case _, ok := <-ch:
		if ok {
			t.Error("a message on the output after Close")
		}
	case <-time.After(5 * time.Second):
		t.Error("output still open after Close")
	}
}

// TestNackRedeliversAfterDelay: a nacked message comes back, after the nack
// delay rather than at once.
func TestNackRedeliversAfterDelay(t *testing.T) {
	t.Parallel()
	e, js := embedded(t)
	ctx := context.Background()
	opts := ConsumerOptions{AckWait: 10 * time.Second}
	if err := EnsureStream(ctx, js, "t.two", UntilAcked, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureConsumer(ctx, js, "h", "t.two", opts); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.two", []byte("x")); err != nil {
		t.Fatal(err)
	}
	sub, err := NewSubscriber(dial(t, e, "sub"), "h", SubscriberOptions{Consumer: opts, NakDelay: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ch, err := sub.Subscribe(ctx, "t.two")
	if err != nil {
		t.Fatal(err)
	}
	first := receive(t, ch, 10*time.Second)
	nacked := time.Now()
	first.Nack()
	select {
	case again := <-ch:
		if d := time.Since(nacked); d < 250*time.Millisecond {
			t.Errorf("redelivered after %s, before the nack delay", d)
		}
		again.Ack()
	case <-time.After(5 * time.Second):
		t.Fatal("nacked message not redelivered")
	}
}

// TestSubscriberClosingNaksForOthers: a message the router has not taken when
// the subscriber closes goes straight back to the server for another
// process, not after AckWait.
func TestSubscriberClosingNaksForOthers(t *testing.T) {
	t.Parallel()
	e, js := embedded(t)
	ctx := context.Background()
	opts := ConsumerOptions{AckWait: time.Minute}
	if err := EnsureStream(ctx, js, "t.three", UntilAcked, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureConsumer(ctx, js, "h", "t.three", opts); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.three", []byte("x")); err != nil {
		t.Fatal(err)
	}
	one, err := NewSubscriber(dial(t, e, "one"), "h", SubscriberOptions{Consumer: opts, CloseTimeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.Subscribe(ctx, "t.three"); err != nil { // nobody reads it
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "t_three")
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.PushConsumer(ctx, "h_t_three")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for info, _ := cons.Info(ctx); info == nil || info.NumAckPending != 1; info, _ = cons.Info(ctx) {
		if time.Now().After(deadline) {
			t.Fatal("message never delivered to the first subscriber")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := one.Close(); err != nil {
		t.Fatal(err)
	}
	two, err := NewSubscriber(dial(t, e, "two"), "h", SubscriberOptions{Consumer: opts}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer two.Close()
	ch, err := two.Subscribe(ctx, "t.three")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ch:
		m.Ack()
	case <-time.After(10 * time.Second):
		info, _ := cons.Info(ctx)
		t.Fatalf("message held until AckWait instead of handed back: %+v", info)
	}
}

func TestLenientUnmarshalKeepsFirstHeaderValue(t *testing.T) {
	t.Parallel()
	m := &natsgo.Msg{Subject: "s", Data: []byte("p"), Header: natsgo.Header{
		wmnats.WatermillUUIDHdr: {"id-1"},
		natsgo.MsgIdHdr:         {"id-1:requeue:3"},
		"correlation_id":        {"a", "b"},
	}}
	if _, err := (&wmnats.NATSMarshaler{}).Unmarshal(m); err == nil {
		t.Fatal("watermill-nats now accepts repeated headers; lenientUnmarshaler may be unnecessary")
	}
	msg, err := lenientUnmarshaler{}.Unmarshal(m)
	if err != nil || msg.UUID != "id-1" || msg.Metadata.Get("correlation_id") != "a" || msg.Metadata.Get(natsgo.MsgIdHdr) != "" {
		t.Errorf("unmarshal = %v %v", msg, err)
	}
}

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	d := backoffDelay{first: time.Second, max: 5 * time.Second}
	for delivered, want := range map[uint64]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 100: 5 * time.Second} {
		if got := d.WaitTime(delivered); got != want {
			t.Errorf("WaitTime(%d) = %s, want %s", delivered, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	got := redactURL("nats://user:secret@a:4222, nats://b:4222")
	if strings.Contains(got, "secret") || !strings.Contains(got, "b:4222") {
		t.Errorf("redacted = %q", got)
	}
}

// TestStreamLimits: streams get the configured age and size limits; a full
// event stream refuses new messages (its publishers wait, the outbox keeps
// the events) while the poison stream drops its oldest; changed limits are
// applied to existing streams.
func TestStreamLimits(t *testing.T) {
	t.Parallel()
	_, js := embedded(t)
	ctx := context.Background()
	opts := StreamOptions{MaxAge: time.Hour, MaxBytes: 4096}
	if err := EnsureStream(ctx, js, "limits.events", UntilAcked, opts); err != nil {
		t.Fatal(err)
	}
	if err := EnsureStream(ctx, js, "limits.poison", Forever, opts); err != nil {
		t.Fatal(err)
	}
	info := func(topic string) jetstream.StreamConfig {
		s, err := js.Stream(ctx, StreamName(topic))
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().Config
	}
	if c := info("limits.events"); c.MaxAge != time.Hour || c.MaxBytes != 4096 || c.Discard != jetstream.DiscardNew {
		t.Errorf("event stream: age %v, bytes %d, discard %v", c.MaxAge, c.MaxBytes, c.Discard)
	}
	if c := info("limits.poison"); c.MaxAge != time.Hour || c.MaxBytes != 4096 || c.Discard != jetstream.DiscardOld {
		t.Errorf("poison stream: age %v, bytes %d, discard %v", c.MaxAge, c.MaxBytes, c.Discard)
	}
	// A consumer gives the interest stream a reason to keep messages.
	if err := EnsureConsumer(ctx, js, "h", "limits.events", ConsumerOptions{AckWait: time.Minute}); err != nil {
		t.Fatal(err)
	}
	payload := []byte(strings.Repeat("x", 1000))
	var refused error
	for i := range 10 {
		if _, err := js.Publish(ctx, "limits.events", payload, jetstream.WithMsgID(uuid.NewString())); err != nil {
			refused = err
			if i < 2 {
				t.Fatalf("message %d refused: %v", i, err)
			}
			break
		}
	}
	if refused == nil {
		t.Error("a full event stream accepted 10 KB over its 4 KiB limit")
	}
	for range 10 {
		if _, err := js.Publish(ctx, "limits.poison", payload, jetstream.WithMsgID(uuid.NewString())); err != nil {
			t.Fatalf("the full poison stream refused a message: %v", err)
		}
	}
	if err := EnsureStream(ctx, js, "limits.events", UntilAcked, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if c := info("limits.events"); c.MaxAge != 0 || c.MaxBytes != -1 {
		t.Errorf("limits not lifted: age %v, bytes %d", c.MaxAge, c.MaxBytes)
	}
}

// TestHeldMessagesStayInProgress: with a HoldLimit longer than the
// consumer's AckWait, a message the router holds (a handler retrying) is kept
// in progress and not delivered to anyone else, however long past AckWait;
// a message held by a process that died (its connection gone, no ack) comes
// back to another after AckWait, not after the HoldLimit.
func TestHeldMessagesStayInProgress(t *testing.T) {
	t.Parallel()
	e, js := embedded(t)
	ctx := context.Background()
	const ackWait, hold = time.Second, 20 * time.Second
	opts := ConsumerOptions{AckWait: ackWait}
	if err := EnsureStream(ctx, js, "t.held", UntilAcked, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureConsumer(ctx, js, "h", "t.held", opts); err != nil {
		t.Fatal(err)
	}
	oneConn := dial(t, e, "one")
	one, err := NewSubscriber(oneConn, "h", SubscriberOptions{Consumer: opts, HoldLimit: hold}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	two, err := NewSubscriber(dial(t, e, "two"), "h", SubscriberOptions{Consumer: opts, HoldLimit: hold}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer two.Close()
	oneCh, err := one.Subscribe(ctx, "t.held")
	if err != nil {
		t.Fatal(err)
	}
	twoCh, err := two.Subscribe(ctx, "t.held")
	if err != nil {
		t.Fatal(err)
	}
	take := func(body string) (*message.Message, <-chan *message.Message) {
		t.Helper()
		if _, err := js.Publish(ctx, "t.held", []byte(body)); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-oneCh:
			return m, twoCh
		case m := <-twoCh:
			return m, oneCh
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never delivered", body)
		}
		return nil, nil
	}

	// Held for four AckWaits, then acked: nobody else got it meanwhile.
	held, other := take("held")
	select {
	case m := <-other:
		t.Fatalf("%q delivered to another subscriber while held (after AckWait %v)", m.Payload, ackWait)
	case <-time.After(4 * ackWait):
	}
	held.Ack()
	select {
	case m := <-other:
		t.Fatalf("%q delivered again after its ack", m.Payload)
	case <-time.After(2 * ackWait):
	}

	// Held by a subscriber whose process dies: back to another after
	// AckWait, not after the HoldLimit.
	if err := two.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.held", []byte("orphan")); err != nil {
		t.Fatal(err)
	}
	orphan := receive(t, oneCh, 10*time.Second)
	defer orphan.Nack() // lets one's callback end once the test is over
	oneConn.Close()     // the process is gone: no ack, no progress
	died := time.Now()
	three, err := NewSubscriber(dial(t, e, "three"), "h", SubscriberOptions{Consumer: opts, HoldLimit: hold}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer three.Close()
	threeCh, err := three.Subscribe(ctx, "t.held")
	if err != nil {
		t.Fatal(err)
	}
	again := receive(t, threeCh, hold/2)
	if string(again.Payload) != "orphan" {
		t.Fatalf("got %q, want the orphan", again.Payload)
	}
	if d := time.Since(died); d > ackWait+5*time.Second {
		t.Errorf("redelivered %v after its holder died; AckWait is %v", d, ackWait)
	}
	again.Ack()
}
