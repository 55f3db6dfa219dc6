package pubsub

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/outbox"
)

// Why watermill-sql's subscriber gets a different lock here.
//
// A watermill-sql subscriber reads a batch and keeps its transaction open while
// the router handles it, retries included. The stock offsets adapter locks the
// consumer group's offsets row with SELECT ... FOR UPDATE, which gives that
// transaction a transaction ID for its whole length. Subscribers only read
// rows older than every running transaction ID (pg_snapshot_xmin), so one
// handler retrying a message would hold back delivery to every other handler
// and topic, in every process, for as long as its retries last.
//
// Instead, the consumer of one group and topic holds a session advisory lock
// on a connection of its own, taken before its first transaction and kept
// while it runs (other processes wait for it: fail-over, as with the row
// lock), and reads the offsets row without FOR UPDATE. Its transactions then
// get an ID only for their final ack, so a handler's retries delay no one
// else; and polling costs no extra round trips. The group's offsets row is
// created before subscribing, outside the lock, so a process waiting for the
// lock still starts (Subscribe returns) and takes over when the lock frees.

// sqlSubscriber subscribes one consumer group; each topic gets its own
// watermill-sql subscriber, locked on (group, topic).
type sqlSubscriber struct {
	pool    *pgxpool.Pool
	cfg     wsql.SubscriberConfig
	maxPoll time.Duration // idleBackoff's cap
	b       *Backend
	mu      sync.Mutex
	subs    []*wsql.Subscriber
	closed  bool
	closing chan struct{}
	running sync.WaitGroup
}

var _ message.Subscriber = (*sqlSubscriber)(nil)

func newSQLSubscriber(b *Backend, maxPoll time.Duration, cfg wsql.SubscriberConfig) *sqlSubscriber {
	return &sqlSubscriber{pool: b.cfg.SubscriberPool, cfg: cfg, maxPoll: maxPoll, b: b, closing: make(chan struct{})}
}

// Subscribe delivers topic's messages until ctx is cancelled or Close; the
// lock is given back when the delivery stops, whichever way.
func (s *sqlSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, wsql.ErrSubscriberClosed
	}
	start, err := outbox.OffsetsAdapter().BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams{Topic: topic, ConsumerGroup: s.cfg.ConsumerGroup})
	if err != nil {
		return nil, err
	}
	for _, q := range start {
		if _, err := s.pool.Exec(ctx, q.Query, q.Args...); err != nil {
			return nil, fmt.Errorf("create %s offsets of %s: %w", topic, s.cfg.ConsumerGroup, err)
		}
	}
	lock := &lockingBeginner{pool: s.pool, key: lockKey(s.cfg.ConsumerGroup, topic)}
	cfg := s.cfg
	// One per topic: its state is that topic's run of empty polls.
	cfg.BackoffManager = &idleBackoff{
		errors: wsql.NewDefaultBackoffManager(s.cfg.PollInterval, s.cfg.RetryInterval),
		first:  s.cfg.PollInterval, max: max(s.maxPoll, s.cfg.PollInterval),
	}
	sub, err := wsql.NewSubscriber(lock, cfg, s.b.wlog)
	if err != nil {
		return nil, fmt.Errorf("create Postgres subscriber %s on %s: %w", s.cfg.ConsumerGroup, topic, err)
	}
	inner, err := sub.Subscribe(ctx, topic)
	if err != nil {
		_ = sub.Close()
		lock.close()
		return nil, err
	}
	s.subs = append(s.subs, sub)
	out := make(chan *message.Message)
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		defer close(out)
		for msg := range inner {
			select {
			case out <- msg:
			case <-s.closing:
				// Not acked: the subscriber, closing too, leaves it unread.
			}
		}
		// The consuming loop has ended: no transaction uses the lock's
		// connection any more.
		lock.close()
	}()
	return out, nil
}

func (s *sqlSubscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	subs := s.subs
	s.mu.Unlock()
	var errs []error
	for _, sub := range subs {
		errs = append(errs, sub.Close())
	}
	s.running.Wait()
	return errors.Join(errs...)
}

// idleBackoff is the wait after each poll of one topic: none after a poll
// that found messages, first after an empty one, doubled with every further
// empty poll up to max. Errors are watermill-sql's default handling.
type idleBackoff struct {
	errors     wsql.BackoffManager
	first, max time.Duration
	wait       time.Duration
}

func (b *idleBackoff) HandleError(logger watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	if err != nil {
		return b.errors.HandleError(logger, noMsg, err)
	}
	if !noMsg {
		b.wait = 0
		return 0
	}
	if b.wait == 0 {
		b.wait = b.first
	} else {
		b.wait = min(2*b.wait, b.max)
	}
	return b.wait
}

func lockKey(group, topic string) int64 {
	h := fnv.New64a()
	h.Write([]byte("thoughts-consumer\x00" + group + "\x00" + topic))
	return int64(h.Sum64())
}

// offsetsAdapter is watermill-sql's Postgres offsets adapter, reading the
// group's offsets row without FOR UPDATE (lockingBeginner serialises).
type offsetsAdapter struct {
	wsql.DefaultPostgreSQLOffsetsAdapter
}

// BeforeSubscribingQueries are none: sqlSubscriber creates the offsets row
// itself, outside the lock (watermill-sql would run it in a transaction of
// the locking beginner, blocking Subscribe while another process consumes).
func (a offsetsAdapter) BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

func (a offsetsAdapter) NextOffsetQuery(params wsql.NextOffsetQueryParams) (wsql.Query, error) {
	return wsql.Query{
		Query: `SELECT offset_acked, last_processed_transaction_id FROM ` + a.MessagesOffsetsTable(params.Topic) + ` WHERE consumer_group = $1`,
		Args:  []any{params.ConsumerGroup},
	}, nil
}

func newOffsetsAdapter() offsetsAdapter {
	return offsetsAdapter{outbox.OffsetsAdapter()}
}

// lockingBeginner runs every transaction on one connection holding the
// session advisory lock key, taken on first use and kept until close; if the
// connection breaks, the next transaction takes the lock again on a new one
// (seeing whatever another process acked meanwhile).
type lockingBeginner struct {
	pool *pgxpool.Pool
	key  int64
	mu   sync.Mutex
	conn *pgxpool.Conn
}

func (b *lockingBeginner) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (wsql.Tx, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn != nil && b.conn.Conn().IsClosed() {
		b.conn.Release()
		b.conn = nil
	}
	if b.conn == nil {
		conn, err := b.pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		// Blocks while another process consumes this group and topic.
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, b.key); err != nil {
			// The lock may have been granted as the wait was cancelled: end
			// the session rather than pool a connection holding it.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
			conn.Release()
			return nil, fmt.Errorf("take consumer lock: %w", err)
		}
		b.conn = conn
	}
	txOpts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead}
	if opts != nil && opts.Isolation == stdsql.LevelReadCommitted {
		txOpts.IsoLevel = pgx.ReadCommitted
	}
	tx, err := b.conn.BeginTx(ctx, txOpts)
	if err != nil {
		return nil, err
	}
	return &lockedTx{tx: tx, ctx: ctx}, nil
}

// close gives the lock (and connection) back.
func (b *lockingBeginner) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, b.key); err != nil {
		_ = b.conn.Conn().Close(ctx) // ending the session releases its locks
	}
	b.conn.Release()
	b.conn = nil
}

func (b *lockingBeginner) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	return wsql.BeginnerFromPgx(b.pool).ExecContext(ctx, query, args...)
}

func (b *lockingBeginner) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	return wsql.BeginnerFromPgx(b.pool).QueryContext(ctx, query, args...)
}

type lockedTx struct {
	tx  pgx.Tx
	ctx context.Context
}

func (t *lockedTx) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	return wsql.PgxResult{CommandTag: tag}, err
}

func (t *lockedTx) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	rows, err := t.tx.Query(ctx, query, args...)
	return wsql.PgxRows{Rows: rows}, err
}

func (t *lockedTx) Commit() error { return t.tx.Commit(t.ctx) }

func (t *lockedTx) Rollback() error { return t.tx.Rollback(context.WithoutCancel(t.ctx)) }
