package router_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	env := like("corr-decode")
	good, err := outbox.ToMessage(env)
	if err != nil {
		t.Fatal(err)
	}
	got, err := router.Decode(good)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != env.ID || got.CorrelationID != "corr-decode" || got.ActorID != env.ActorID || !got.OccurredAt.Equal(env.OccurredAt) || got.Event != env.Event {
		t.Errorf("decoded %+v, want %+v", got, env)
	}
	bad := map[string]func(m *message.Message){
		"UUID not a UUID":    func(m *message.Message) { m.UUID = "nope" },
		"payload not JSON":   func(m *message.Message) { m.Payload = []byte("nope") },
		"unknown event type": func(m *message.Message) { m.Payload = []byte(`{"type":"Nope","data":{}}`) },
		"type mismatch":      func(m *message.Message) { m.Metadata.Set(events.MetaEventType, "BoostAdded") },
		"bad occurred_at":    func(m *message.Message) { m.Metadata.Set(events.MetaOccurredAt, "yesterday") },
		"bad actor_id":       func(m *message.Message) { m.Metadata.Set(events.MetaActorID, "someone") },
	}
	for name, spoil := range bad {
		m := good.Copy()
		spoil(m)
		if _, err := router.Decode(m); !errors.Is(err, events.ErrUndecodable) {
			t.Errorf("%s: error %v, want ErrUndecodable", name, err)
		}
	}
}

func TestHandlersCoverTheCatalogue(t *testing.T) {
	t.Parallel()
	hs := router.Handlers(app.Deps{})
	if err := router.ValidateHandlers(hs); err != nil {
		t.Fatal(err)
	}
	// Each handler consumes the topics of the events it declares, and only
	// those: the notifications handler acts on six of the catalogue's
	// event types, so it has six consumers, not one per topic.
	want := map[string][]string{"notifications": {
		events.TopicLikeAdded, events.TopicBoostAdded, events.TopicFollowRequested, events.TopicFollowAccepted,
		events.TopicThoughtCreated, events.TopicThoughtDeleted,
	}}
	for _, h := range hs {
		if w, ok := want[h.Name]; ok {
			delete(want, h.Name)
			if got := h.Topics(); !slices.Equal(got, w) {
				t.Errorf("handler %s consumes %v, want %v", h.Name, got, w)
			}
		}
	}
	for name := range want {
		t.Errorf("no %s handler", name)
	}
}

func TestPolicyAckWaitExceedsSpan(t *testing.T) {
	t.Parallel()
	for _, p := range []router.Policy{router.DefaultPolicy(), testPolicy} {
		if p.AckWait() <= p.Span() || p.Span() < time.Duration(p.MaxRetries+1)*p.Timeout {
			t.Errorf("%+v: span %s, ack wait %s", p, p.Span(), p.AckWait())
		}
	}
}

// goChannelRouter runs a router over Watermill's in-memory pub/sub.
func goChannelRouter(t *testing.T, p router.Policy, hs []router.Handler, reg prometheus.Registerer) (*gochannel.GoChannel, <-chan *message.Message) {
	t.Helper()
	ps := gochannel.NewGoChannel(gochannel.Config{Persistent: true}, nil)
	poisoned, err := ps.Subscribe(context.Background(), router.PoisonTopic)
	if err != nil {
		t.Fatal(err)
	}
	hs = slices.Clone(hs)
	for i := range hs {
		hs[i].Policy = p
	}
	rt, err := router.New(router.Config{
		Handlers:        hs,
		Subscriber:      func(router.Handler) (message.Subscriber, error) { return ps, nil },
		PoisonPublisher: ps,
		Metrics:         reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rt.Run(context.Background()) }()
	t.Cleanup(func() {
		rt.Close()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("router still running 30 s after Close")
		}
		ps.Close()
	})
	select {
	case <-rt.Running():
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("router stopped before running: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("router did not start")
	}
	return ps, poisoned
}

// TestPolicySpanMatchesRetryPauses: the pauses Watermill's Retry actually
// makes are those Span counts (it advances its backoff twice per failure when
// ShouldRetry is set), so AckWait really covers a message in retry.
func TestPolicySpanMatchesRetryPauses(t *testing.T) {
	t.Parallel()
	p := router.Policy{MaxRetries: 3, InitialInterval: 20 * time.Millisecond, Multiplier: 2, MaxInterval: time.Second, Timeout: time.Second}
	var mu sync.Mutex
	var attempts []time.Time
	ps, poisoned := goChannelRouter(t, p, []router.Handler{onLikes("timed", func(ctx context.Context, env events.Envelope) error {
		mu.Lock()
		attempts = append(attempts, time.Now())
		mu.Unlock()
		return errors.New("fail fast")
	})}, nil)
	env := like("corr-span")
	msg, err := outbox.ToMessage(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Publish(events.TopicLikeAdded, msg); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-poisoned:
		m.Ack()
	case <-time.After(10 * time.Second):
		t.Fatal("not poisoned")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != p.MaxRetries+1 {
		t.Fatalf("attempts = %d", len(attempts))
	}
	paused := attempts[len(attempts)-1].Sub(attempts[0])
	counted := p.Span() - time.Duration(p.MaxRetries+1)*p.Timeout // 40 + 160 + 640 ms
	if paused > counted+300*time.Millisecond || paused < counted*8/10 {
		t.Errorf("retries paused %s in all; Span counts %s of pauses", paused, counted)
	}
}

// TestPoisonedCopyIsAnnotated: over the in-memory pub/sub, the poisoned copy
// keeps UUID, payload and metadata, names the handler (not Watermill's
// handler:topic) and carries a one-line reason even for a panic; the
// poisoned counter counts it.
func TestPoisonedCopyIsAnnotated(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	ps, poisoned := goChannelRouter(t, testPolicy, []router.Handler{onLikes("crasher", func(ctx context.Context, env events.Envelope) error {
		panic("line one\nline two")
	})}, reg)
	env := like("corr-annotated")
	msg, err := outbox.ToMessage(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Publish(events.TopicLikeAdded, msg); err != nil {
		t.Fatal(err)
	}
	var m *message.Message
	select {
	case m = <-poisoned:
		m.Ack()
	case <-time.After(10 * time.Second):
		t.Fatal("not poisoned")
	}
	md := m.Metadata
	if m.UUID != env.ID.String() || string(m.Payload) != string(msg.Payload) || md.Get(events.MetaCorrelationID) != "corr-annotated" {
		t.Errorf("poisoned copy %s %s %v", m.UUID, m.Payload, md)
	}
	if md.Get("handler_poisoned") != "crasher" || md.Get("topic_poisoned") != events.TopicLikeAdded {
		t.Errorf("handler/topic = %q %q", md.Get("handler_poisoned"), md.Get("topic_poisoned"))
	}
	reason := md.Get("reason_poisoned")
	if strings.ContainsAny(reason, "\r\n") || !strings.Contains(reason, "panic") || !strings.Contains(reason, "line one") || len(reason) > 600 {
		t.Errorf("reason = %q", reason)
	}
	if _, err := time.Parse(time.RFC3339Nano, md.Get(events.MetaFirstPoisonedAt)); err != nil {
		t.Errorf("first_poisoned_at = %q", md.Get(events.MetaFirstPoisonedAt))
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range families {
		if f.GetName() == "thoughts_events_poisoned_total" {
			for _, m := range f.GetMetric() {
				if m.GetCounter().GetValue() == 1 && m.GetLabel()[0].GetValue() == "crasher" {
					found = true
				}
			}
		}
	}
	if !found {
		t.Error("thoughts_events_poisoned_total{handler=crasher} is not 1")
	}
}

func TestNewRejectsBadHandlers(t *testing.T) {
	t.Parallel()
	ps := gochannel.NewGoChannel(gochannel.Config{}, nil)
	defer ps.Close()
	ok := func(context.Context, events.Envelope) error { return nil }
	likes := []events.Event{events.LikeAdded{}}
	for name, hs := range map[string][]router.Handler{
		"bad name":    {{Name: "Has.Dots", Events: likes, Policy: testPolicy, Handle: ok}},
		"duplicate":   {{Name: "a", Events: likes, Policy: testPolicy, Handle: ok}, {Name: "a", Events: likes, Policy: testPolicy, Handle: ok}},
		"no events":   {{Name: "a", Policy: testPolicy, Handle: ok}},
		"no func":     {{Name: "a", Events: likes, Policy: testPolicy}},
		"zero policy": {{Name: "a", Events: likes, Handle: ok}},
		"bad policy":  {{Name: "a", Events: likes, Policy: router.Policy{MaxRetries: 1, InitialInterval: time.Second, Multiplier: 2, MaxInterval: time.Millisecond, Timeout: time.Second}, Handle: ok}},
	} {
		_, err := router.New(router.Config{Handlers: hs, PoisonPublisher: ps,
			Subscriber: func(router.Handler) (message.Subscriber, error) { return ps, nil }})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
