package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// Outbox appends events inside a transaction.
type Outbox interface {
	Append(ctx context.Context, tx outbox.Tx, envs ...events.Envelope) error
}

// committedAnnouncer is an Outbox that wants to know when the events it
// appended have committed (to wake their consumers).
type committedAnnouncer interface {
	Committed(envs ...events.Envelope)
}

// UnitOfWork runs commands in pgx transactions whose events go to the outbox.
type UnitOfWork struct {
	pool   *pgxpool.Pool
	outbox Outbox
}

// NewUnitOfWork returns a unit of work; outbox must not be nil: there is no
// silent no-op publisher.
func NewUnitOfWork(pool *pgxpool.Pool, outbox Outbox) (*UnitOfWork, error) {
	if pool == nil || outbox == nil {
		return nil, errors.New("unit of work needs a pool and an outbox")
	}
	return &UnitOfWork{pool: pool, outbox: outbox}, nil
}

var _ command.UnitOfWork = (*UnitOfWork)(nil)

// InTx runs fn in a transaction, committing if it returns nil. The
// transaction's BEGIN goes with its first statement (lazyTx).
func (u *UnitOfWork) InTx(ctx context.Context, fn func(ctx context.Context, tx command.Tx) error) (err error) {
	conn, err := u.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	lt := &lazyTx{conn: conn.Conn()}
	defer func() {
		// On a panic or error; a connection a failed ROLLBACK left in the
		// transaction is closed, not pooled, by Release.
		if rbErr := lt.rollback(ctx); rbErr != nil && err == nil {
			err = rbErr
		}
		conn.Release()
	}()
	t := &tx{ptx: lt, outbox: u.outbox}
	if err := fn(ctx, t); err != nil {
		// Commands wrap with their own context; domain errors must stay visible to errors.Is.
		return err
	}
	if err := lt.commit(ctx); err != nil {
		return err
	}
	if a, ok := u.outbox.(committedAnnouncer); ok && len(t.published) > 0 {
		a.Committed(t.published...)
	}
	return nil
}

var _ command.NotificationStore = (*UnitOfWork)(nil)

// Notifications serves the notification handler outside a transaction: each
// call is one statement, committed on its own.
func (u *UnitOfWork) Notifications() command.TxNotifications { return Notifications{db: u.pool} }

type tx struct {
	ptx       *lazyTx
	outbox    Outbox
	published []events.Envelope
}

func (t *tx) Users() domain.UserRepository       { return Users{db: t.ptx} }
func (t *tx) Thoughts() command.TxThoughts       { return Thoughts{db: t.ptx, lock: true} }
func (t *tx) APIKeys() domain.APIKeyRepository   { return APIKeys{db: t.ptx} }
func (t *tx) Sessions() domain.SessionRepository { return Sessions{db: t.ptx} }
func (t *tx) Accounts() command.AccountEraser    { return Accounts{db: t.ptx} }
func (t *tx) Publish(ctx context.Context, envs ...events.Envelope) error {
	if err := t.outbox.Append(ctx, t.ptx, envs...); err != nil {
		return err
	}
	t.published = append(t.published, envs...)
	return nil
}

func (t *tx) Notifications() command.TxNotifications { return Notifications{db: t.ptx} }

func (t *tx) Interactions() domain.InteractionRepository { return Interactions{db: t.ptx} }
func (t *tx) Graph() domain.GraphRepository              { return Graph{db: t.ptx} }
func (t *tx) Entities() domain.EntityRepository          { return Entities{db: t.ptx} }

func (t *tx) Inbox() command.InboxRepository         { return Inbox{db: t.ptx} }
func (t *tx) Federated() command.FederatedRepository { return Federated{db: t.ptx} }
