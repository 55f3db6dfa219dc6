package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The reference's names. Only one topic: the reference does what a like
// needs and nothing else.
const (
	refTopic        = "likes_added"
	refOutboxTopic  = "outbox"
	refPoisonTopic  = "poison"
	refHandler      = "notifications"
	refForwarder    = "forwarder"
	refDurable      = refHandler + "_" + refTopic
	refPollInterval = 10 * time.Millisecond
)

// refSettings are the library settings the pipeline uses, repeated here as
// plain values so the reference shares no code with it. They are those of
// events.go openBroker, pubsub.Open's defaults and router.DefaultPolicy.
type refSettings struct {
	AckWait       time.Duration // router.DefaultPolicy().AckWait()
	MaxAckPending int
	// HandlerBatch is the watermill-sql batch of a handler's subscriber
	// (pubsub.Config.BatchSize); ForwarderBatch the forwarder's.
	HandlerBatch, ForwarderBatch int
	// Retry and Timeout as router.DefaultPolicy.
	MaxRetries      int
	InitialInterval time.Duration
	Multiplier      float64
	MaxInterval     time.Duration
	Timeout         time.Duration
	// Subscribers and AckAsync of the NATS subscriber.
	Subscribers int
	AckAsync    bool
}

// reference is the same libraries with no Thoughts code: a watermill-sql v4
// publisher inside a pgx transaction writes each message to a plain outbox
// table (NATS: the forwarder's, enveloped; Postgres: the topic's table); on
// NATS Watermill's forwarder relays it to JetStream (in-process embedded
// server, TrackMsgId, a pre-created durable push consumer, AckSync); a
// Watermill Router with the pipeline's middleware chain (CorrelationID,
// PoisonQueue, Retry, Timeout, Recoverer) runs a handler that only acks.
type reference struct {
	kind      string
	pool      *pgxpool.Pool
	subPool   *pgxpool.Pool
	wlog      watermill.LoggerAdapter
	srv       *server.Server
	dataDir   string
	forwarder *forwarder.Forwarder
	fwdPub    message.Publisher
	poisonPub message.Publisher
	router    *message.Router
	runs      sync.WaitGroup
	tr        atomic.Pointer[tracker]
	failure   atomic.Pointer[error]
}

func startReference(ctx context.Context, kind string, db *pgxpool.Pool, s refSettings, logger *slog.Logger) (_ *reference, err error) {
	r := &reference{kind: kind, pool: db, wlog: watermill.NewSlogLoggerWithLevelMapping(logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	pcfg := db.Config()
	pcfg.MaxConns, pcfg.MinConns = 5, 0
	if r.subPool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return nil, fmt.Errorf("reference: subscriber pool: %w", err)
	}
	// Tables, created once up front.
	init, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(db), wsql.SubscriberConfig{
		SchemaAdapter: wsql.DefaultPostgreSQLSchema{}, OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{}, InitializeSchema: true,
	}, r.wlog)
	if err != nil {
		return nil, fmt.Errorf("reference: schema: %w", err)
	}
	topics := []string{refTopic, refPoisonTopic}
	if kind == "nats" {
		topics = []string{refOutboxTopic}
	}
	for _, t := range topics {
		if err := init.SubscribeInitialize(t); err != nil {
			init.Close()
			return nil, fmt.Errorf("reference: create table %s: %w", t, err)
		}
	}
	init.Close()
	sqlSubscriber := func(group string, batch int) (message.Subscriber, error) {
		ackWait := s.AckWait
		return wsql.NewSubscriber(wsql.BeginnerFromPgx(r.subPool), wsql.SubscriberConfig{
			ConsumerGroup:  group,
			AckDeadline:    &ackWait,
			PollInterval:   refPollInterval,
			ResendInterval: time.Second,
			RetryInterval:  time.Second,
			SchemaAdapter:  wsql.DefaultPostgreSQLSchema{SubscribeBatchSize: batch},
			OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
		}, r.wlog)
	}

	var sub message.Subscriber
	switch kind {
	case "nats":
		if sub, err = r.startNATS(ctx, s, sqlSubscriber); err != nil {
			return nil, err
		}
	default:
		if r.poisonPub, err = wsql.NewPublisher(wsql.BeginnerFromPgx(db), wsql.PublisherConfig{SchemaAdapter: wsql.DefaultPostgreSQLSchema{}}, r.wlog); err != nil {
			return nil, fmt.Errorf("reference: poison publisher: %w", err)
		}
		if sub, err = sqlSubscriber(refHandler, s.HandlerBatch); err != nil {
			return nil, fmt.Errorf("reference: subscriber: %w", err)
		}
	}

	if r.router, err = message.NewRouter(message.RouterConfig{CloseTimeout: shutdownTimeout}, r.wlog); err != nil {
		sub.Close()
		return nil, fmt.Errorf("reference: router: %w", err)
	}
	poison, err := middleware.PoisonQueue(r.poisonPub, refPoisonTopic)
	if err != nil {
		sub.Close()
		return nil, fmt.Errorf("reference: poison queue: %w", err)
	}
	retry := middleware.Retry{
		MaxRetries: s.MaxRetries, InitialInterval: s.InitialInterval, Multiplier: s.Multiplier,
		MaxInterval: s.MaxInterval, ResetContextOnRetry: true,
	}
	r.router.AddMiddleware(middleware.CorrelationID, poison, retry.Middleware, middleware.Timeout(s.Timeout), middleware.Recoverer)
	r.router.AddConsumerHandler(refHandler, refTopic, sub, func(msg *message.Message) error {
		if tr := r.tr.Load(); tr != nil {
			id, err := uuid.Parse(msg.UUID)
			if err != nil {
				return err
			}
			tr.handled(id)
		}
		return nil
	})
	runCtx := context.WithoutCancel(ctx)
	if err := r.run(runCtx, "reference router", r.router.Run, r.router.Running()); err != nil {
		return nil, err
	}
	return r, nil
}

// startNATS starts an embedded server (no listener, in-process connections,
// file storage), the stream and durable consumer, the forwarder, and returns
// the handler's subscriber.
func (r *reference) startNATS(ctx context.Context, s refSettings, sqlSubscriber func(string, int) (message.Subscriber, error)) (message.Subscriber, error) {
	var err error
	if r.dataDir, err = os.MkdirTemp("", "thoughts-bench-events-ref-"); err != nil {
		return nil, fmt.Errorf("reference: NATS data directory: %w", err)
	}
	r.srv, err = server.NewServer(&server.Options{
		ServerName: "bench-reference", DontListen: true, JetStream: true,
		StoreDir: filepath.Join(r.dataDir, "nats"), NoSigs: true, DisableJetStreamBanner: true,
	})
	if err != nil {
		return nil, fmt.Errorf("reference: NATS server: %w", err)
	}
	r.srv.Start()
	if !r.srv.ReadyForConnections(30 * time.Second) {
		return nil, errors.New("reference: NATS server did not start")
	}
	dial := func(name string) (*natsgo.Conn, error) {
		nc, err := natsgo.Connect("", natsgo.Name(name), natsgo.InProcessServer(r.srv))
		if err != nil {
			return nil, fmt.Errorf("reference: connect to NATS: %w", err)
		}
		return nc, nil
	}

	admin, err := dial("bench-admin")
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	js, err := jetstream.New(admin)
	if err != nil {
		return nil, fmt.Errorf("reference: JetStream: %w", err)
	}
	for topic, retention := range map[string]jetstream.RetentionPolicy{refTopic: jetstream.InterestPolicy, refPoisonTopic: jetstream.LimitsPolicy} {
		if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: topic, Subjects: []string{topic}, Storage: jetstream.FileStorage, Retention: retention,
			Discard: jetstream.DiscardOld, Replicas: 1, Duplicates: 2 * time.Minute,
		}); err != nil {
			return nil, fmt.Errorf("reference: stream %s: %w", topic, err)
		}
	}
	if _, err := js.CreateOrUpdatePushConsumer(ctx, refTopic, jetstream.ConsumerConfig{
		Durable: refDurable, DeliverSubject: "_bench_deliver." + refDurable, DeliverGroup: refDurable,
		DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckExplicitPolicy, AckWait: s.AckWait,
		MaxDeliver: -1, MaxAckPending: s.MaxAckPending, FilterSubject: refTopic, ReplayPolicy: jetstream.ReplayInstantPolicy,
	}); err != nil {
		return nil, fmt.Errorf("reference: consumer: %w", err)
	}

	publisher := func(name string, track bool) (message.Publisher, error) {
		nc, err := dial(name)
		if err != nil {
			return nil, err
		}
		pub, err := wmnats.NewPublisherWithNatsConn(nc, wmnats.PublisherPublishConfig{
			Marshaler: &wmnats.NATSMarshaler{}, SubjectCalculator: wmnats.DefaultSubjectCalculator,
			JetStream: wmnats.JetStreamConfig{TrackMsgId: track},
		}, r.wlog)
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("reference: publisher: %w", err)
		}
		return pub, nil
	}
	if r.poisonPub, err = publisher("bench-poison", false); err != nil {
		return nil, err
	}
	if r.fwdPub, err = publisher("bench-forwarder", true); err != nil {
		return nil, err
	}
	fwdSub, err := sqlSubscriber(refForwarder, s.ForwarderBatch)
	if err != nil {
		return nil, fmt.Errorf("reference: forwarder subscriber: %w", err)
	}
	r.forwarder, err = forwarder.NewForwarder(fwdSub, r.fwdPub, r.wlog, forwarder.Config{
		ForwarderTopic: refOutboxTopic, CloseTimeout: shutdownTimeout, AckWhenCannotUnwrap: true,
	})
	if err != nil {
		fwdSub.Close()
		return nil, fmt.Errorf("reference: forwarder: %w", err)
	}
	if err := r.run(context.WithoutCancel(ctx), "reference forwarder", r.forwarder.Run, r.forwarder.Running()); err != nil {
		return nil, err
	}

	nc, err := dial("bench-handler")
	if err != nil {
		return nil, err
	}
	sub, err := wmnats.NewSubscriberWithNatsConn(nc, wmnats.SubscriberSubscriptionConfig{
		Unmarshaler:      &wmnats.NATSMarshaler{},
		SubscribersCount: max(s.Subscribers, 1),
		AckWaitTimeout:   s.AckWait,
		CloseTimeout:     shutdownTimeout,
		SubscribeTimeout: 30 * time.Second,
		SubjectCalculator: func(_, topic string) *wmnats.SubjectDetail {
			return &wmnats.SubjectDetail{Primary: topic, QueueGroup: refDurable}
		},
		QueueGroupPrefix: refHandler,
		NakDelay:         wmnats.NewStaticDelay(time.Second),
		JetStream: wmnats.JetStreamConfig{
			SubscribeOptions: []natsgo.SubOpt{
				natsgo.ManualAck(), natsgo.AckExplicit(), natsgo.DeliverAll(),
				natsgo.AckWait(s.AckWait), natsgo.MaxAckPending(s.MaxAckPending),
			},
			AckAsync:          s.AckAsync,
			DurablePrefix:     refHandler,
			DurableCalculator: func(string, string) string { return refDurable },
		},
	}, r.wlog)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("reference: subscriber: %w", err)
	}
	return sub, nil
}

func (r *reference) run(ctx context.Context, what string, fn func(context.Context) error, running chan struct{}) error {
	done := make(chan struct{})
	r.runs.Add(1)
	go func() {
		defer r.runs.Done()
		defer close(done)
		err := fn(ctx)
		if err == nil {
			err = errors.New("returned")
		}
		err = fmt.Errorf("%s stopped: %w", what, err)
		r.failure.CompareAndSwap(nil, &err)
	}()
	select {
	case <-running:
		return nil
	case <-done:
		return *r.failure.Load()
	case <-time.After(time.Minute):
		return fmt.Errorf("%s did not start within a minute", what)
	}
}

func (r *reference) track(t *tracker) { r.tr.Store(t) }

func (r *reference) stopped() error {
	if err := r.failure.Load(); err != nil {
		return *err
	}
	return nil
}

// commit writes one message, the size and shape of a LikeAdded event with its
// metadata, in its own pgx transaction through a watermill-sql publisher.
func (r *reference) writers() *pgxpool.Pool { return r.pool }

func (r *reference) commit(ctx context.Context, _ int) (uuid.UUID, error) {
	id := uuid.Must(uuid.NewV7())
	msg := refMessage(id)
	msg.SetContext(ctx)
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		sqlPub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: wsql.DefaultPostgreSQLSchema{}}, r.wlog)
		if err != nil {
			return err
		}
		var pub message.Publisher = sqlPub
		if r.kind == "nats" {
			pub = forwarder.NewPublisher(sqlPub, forwarder.PublisherConfig{ForwarderTopic: refOutboxTopic})
		}
		return pub.Publish(refTopic, msg)
	})
	return id, err
}

// refMessage is a message with the payload and metadata of a LikeAdded
// event, built without Thoughts code.
func refMessage(id uuid.UUID) *message.Message {
	actor := uuid.New()
	msg := message.NewMessage(id.String(), fmt.Appendf(nil, `{"type":"LikeAdded","data":{"like_id":%q,"user_id":%q,"thought_id":%q}}`,
		uuid.Must(uuid.NewV7()).String(), actor.String(), uuid.New().String()))
	msg.Metadata.Set("event_type", "LikeAdded")
	msg.Metadata.Set("occurred_at", time.Now().UTC().Format(time.RFC3339Nano))
	msg.Metadata.Set("actor_id", actor.String())
	msg.Metadata.Set("correlation_id", uuid.NewString())
	return msg
}

func (r *reference) close() {
	stopping := errors.New("closed")
	r.failure.CompareAndSwap(nil, &stopping)
	if r.router != nil {
		_ = r.router.Close()
	}
	if r.forwarder != nil {
		_ = r.forwarder.Close()
	}
	r.runs.Wait()
	for _, p := range []message.Publisher{r.fwdPub, r.poisonPub} {
		if p != nil {
			_ = p.Close()
		}
	}
	if r.subPool != nil {
		r.subPool.Close()
	}
	if r.srv != nil {
		r.srv.Shutdown()
		r.srv.WaitForShutdown()
	}
	if r.dataDir != "" {
		_ = os.RemoveAll(r.dataDir)
	}
}
