package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	natsadapter "github.com/thoughts-project/thoughts/adapters/nats"
	"github.com/thoughts-project/thoughts/adapters/outbox"
)

// ForwarderBatch is how many outbox rows the forwarder relays per
// transaction: nothing else reads the table, and a batch is relayed in
// milliseconds unless NATS is down, when reading it again sooner would not
// help.
const ForwarderBatch = 100

// Forwarder relays committed events from the outbox table to JetStream, a
// batch per transaction: it reads up to ForwarderBatch rows, publishes them
// all without waiting for each acknowledgement (in order, each with the event
// ID as Nats-Msg-Id), waits for the acknowledgements, and advances the
// offset once, over the rows JetStream stored. Watermill's forwarder, which it
// replaces, published and acknowledged one message at a time: a round trip to
// JetStream per event on every event's path. The rows are those Watermill's
// forwarder publisher writes (outbox.Forward), so nothing changes for writers.
//
// Processes running it share consumer group "forwarder", which reads
// serially (fail-over, not scale-out). A publish that fails (broker
// unreachable) leaves its row and every later one in the outbox, to be
// relayed again, in order; a row relayed twice is dropped by the stream as a
// duplicate within its duplicate window.
type Forwarder struct {
	b        *Backend
	consumer *tableConsumer
	nc       *natsgo.Conn
	js       jetstream.JetStream
	relayed  prometheus.Counter
	batches  prometheus.Histogram

	mu      sync.Mutex
	cancel  context.CancelFunc
	closed  bool
	running chan struct{}
	done    chan struct{}
}

// Forwarder returns the outbox forwarder (NATS backend only: on Postgres
// events are written straight to their topic tables). reg, if not nil,
// receives its metrics.
func (b *Backend) Forwarder(reg prometheus.Registerer) (*Forwarder, error) {
	if b.cfg.Backend != NATS {
		return nil, fmt.Errorf("the outbox forwarder runs only with the nats backend, not %s", b.cfg.Backend)
	}
	if b.cfg.SubscriberPool == nil {
		return nil, errors.New("event backend: no subscriber pool")
	}
	nc, err := b.cfg.Dial("thoughts-forwarder")
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream: %w", err)
	}
	f := &Forwarder{
		b: b, nc: nc, js: js,
		// The forwarder is on every event's path: it polls at PollInterval
		// without backing off further while nothing wakes it.
		consumer: b.newTableConsumer(ForwarderConsumerGroup, outbox.ForwarderTopic, ForwarderBatch, b.cfg.PollInterval),
		relayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "thoughts_forwarder_relayed_total",
			Help: "Events the outbox forwarder relayed to JetStream.",
		}),
		batches: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "thoughts_forwarder_batch_seconds",
			Help:    "Time to publish one batch of outbox rows to JetStream and have every one acknowledged.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		running: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if reg != nil {
		var err error
		if f.relayed, err = registered(reg, f.relayed); err == nil {
			f.batches, err = registered(reg, f.batches)
		}
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("register forwarder metrics: %w", err)
		}
	}
	return f, nil
}

// Run relays until Close or until ctx is cancelled.
func (f *Forwarder) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.closed || f.cancel != nil {
		f.mu.Unlock()
		return errors.New("forwarder closed or already running")
	}
	ctx, f.cancel = context.WithCancel(ctx)
	f.mu.Unlock()
	defer close(f.done)
	start, err := outbox.OffsetsAdapter().BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams{Topic: outbox.ForwarderTopic, ConsumerGroup: ForwarderConsumerGroup})
	if err != nil {
		return err
	}
	for _, q := range start {
		if _, err := f.b.cfg.SubscriberPool.Exec(ctx, q.Query, q.Args...); err != nil {
			return fmt.Errorf("create the forwarder's offsets: %w", err)
		}
	}
	close(f.running)
	f.consumer.run(ctx, f.relay)
	return nil
}

// Running is closed once the forwarder runs.
func (f *Forwarder) Running() chan struct{} { return f.running }

// Close stops relaying (a batch being relayed is finished and acked first),
// then closes the NATS connection.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	cancel := f.cancel
	f.mu.Unlock()
	if cancel != nil {
		cancel()
		<-f.done
	}
	if err := f.nc.Drain(); err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) {
		f.nc.Close()
		return fmt.Errorf("close forwarder connection: %w", err)
	}
	return nil
}

// envelope is Watermill's forwarder envelope (components/forwarder), as
// forwarder.NewPublisher writes it.
type envelope struct {
	DestinationTopic string            `json:"destination_topic"`
	UUID             string            `json:"uuid"`
	Payload          []byte            `json:"payload"`
	Metadata         map[string]string `json:"metadata"`
}

// relay publishes a batch and reports how many leading rows are stored.
func (f *Forwarder) relay(ctx context.Context, rows []wsql.Row) int {
	began := time.Now()
	// A batch being relayed is finished even if closing: its rows are then
	// acked instead of relayed again by the next forwarder.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	msgs := make([]natsadapter.Outgoing, 0, len(rows))
	// index[i] is the row of msgs[i]; rows that cannot be unwrapped (never
	// written by the outbox) are skipped, with an error log, rather than
	// block every event behind them.
	index := make([]int, 0, len(rows))
	for i, row := range rows {
		var env envelope
		if err := json.Unmarshal(row.Msg.Payload, &env); err != nil || env.DestinationTopic == "" {
			f.b.log.Error("outbox row is not a forwarder envelope; skipping it", "offset", row.Offset, "uuid", row.Msg.UUID,
				"payload", string(row.Msg.Payload), "err", err)
			continue
		}
		msg := message.NewMessage(env.UUID, env.Payload)
		for k, v := range env.Metadata {
			msg.Metadata.Set(k, v)
		}
		msgs = append(msgs, natsadapter.Outgoing{Topic: env.DestinationTopic, Msg: msg})
		index = append(index, i)
	}
	stored, err := natsadapter.PublishBatch(ctx, f.js, msgs)
	f.relayed.Add(float64(stored))
	if err != nil {
		f.b.log.Warn("relaying outbox rows to JetStream failed; they stay in the outbox and are relayed again",
			"relayed", stored, "of", len(msgs), "err", err)
		if stored == 0 {
			if len(index) == 0 || index[0] == 0 {
				return 0
			}
			return index[0] // the skipped rows before the first failure
		}
		return index[stored-1] + 1 + skippedAfter(index, stored, len(rows))
	}
	f.batches.Observe(time.Since(began).Seconds())
	return len(rows)
}

// skippedAfter counts the skipped rows directly after msgs[stored-1]'s row
// and before the next message's: they may be acked with it.
func skippedAfter(index []int, stored, rows int) int {
	next := rows
	if stored < len(index) {
		next = index[stored]
	}
	return next - index[stored-1] - 1
}
