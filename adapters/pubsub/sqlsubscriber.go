package pubsub

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

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
// tableConsumer, locked on (group, topic), which hands the router a whole
// batch at once and acks it with one commit.
type sqlSubscriber struct {
	b           *Backend
	group       string
	batch       int
	maxPoll     time.Duration
	ackDeadline time.Duration
	resend      time.Duration
	mu          sync.Mutex
	closed      bool
	closing     chan struct{}
	cancels     []context.CancelFunc
	running     sync.WaitGroup
}

var _ message.Subscriber = (*sqlSubscriber)(nil)

// Subscribe delivers topic's messages until ctx is cancelled or Close; the
// lock is given back when the delivery stops, whichever way.
func (s *sqlSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, wsql.ErrSubscriberClosed
	}
	start, err := outbox.OffsetsAdapter().BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams{Topic: topic, ConsumerGroup: s.group})
	if err != nil {
		return nil, err
	}
	for _, q := range start {
		if _, err := s.b.cfg.SubscriberPool.Exec(ctx, q.Query, q.Args...); err != nil {
			return nil, fmt.Errorf("create %s offsets of %s: %w", topic, s.group, err)
		}
	}
	c := s.b.newTableConsumer(s.group, topic, s.batch, s.maxPoll)
	ctx, cancel := context.WithCancel(ctx)
	s.cancels = append(s.cancels, cancel)
	out := make(chan *message.Message)
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		defer close(out)
		c.run(ctx, routerSettle(out, s.closing, s.ackDeadline, s.resend))
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
	for _, cancel := range s.cancels {
		cancel()
	}
	s.mu.Unlock()
	s.running.Wait()
	return nil
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
	iso := pgx.RepeatableRead
	if opts != nil && opts.Isolation == stdsql.LevelReadCommitted {
		iso = pgx.ReadCommitted
	}
	return b.beginIso(ctx, iso)
}

// begin starts a repeatable-read transaction (watermill-sql's isolation for
// reading a topic table) holding the lock. Only the lock wait and the
// statements given ctx are cancelled by it: commit and rollback are not.
func (b *lockingBeginner) begin(ctx context.Context) (*lockedTx, error) {
	return b.beginIso(ctx, pgx.RepeatableRead)
}

func (b *lockingBeginner) beginIso(ctx context.Context, iso pgx.TxIsoLevel) (*lockedTx, error) {
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
	tx, err := b.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso})
	if err != nil {
		return nil, err
	}
	return &lockedTx{tx: tx, ctx: context.WithoutCancel(ctx)}, nil
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
