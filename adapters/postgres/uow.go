package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// Outbox appends events inside a transaction.
type Outbox interface {
	Append(ctx context.Context, tx pgx.Tx, envs ...events.Envelope) error
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

// InTx runs fn in a transaction, committing if it returns nil.
func (u *UnitOfWork) InTx(ctx context.Context, fn func(ctx context.Context, tx command.Tx) error) error {
	err := pgx.BeginFunc(ctx, u.pool, func(ptx pgx.Tx) error {
		return fn(ctx, &tx{ptx: ptx, outbox: u.outbox})
	})
	if err != nil {
		// Commands wrap with their own context; domain errors must stay visible to errors.Is.
		return err
	}
	return nil
}

var _ command.NotificationStore = (*UnitOfWork)(nil)

// Notifications serves the notification handler outside a transaction: each
// call is one statement, committed on its own.
func (u *UnitOfWork) Notifications() command.TxNotifications { return Notifications{db: u.pool} }

type tx struct {
	ptx    pgx.Tx
	outbox Outbox
}

func (t *tx) Users() domain.UserRepository       { return Users{db: t.ptx} }
func (t *tx) Thoughts() command.TxThoughts       { return Thoughts{db: t.ptx, lock: true} }
func (t *tx) APIKeys() domain.APIKeyRepository   { return APIKeys{db: t.ptx} }
func (t *tx) Sessions() domain.SessionRepository { return Sessions{db: t.ptx} }
func (t *tx) Accounts() command.AccountEraser    { return Accounts{db: t.ptx} }
func (t *tx) Publish(ctx context.Context, envs ...events.Envelope) error {
	return t.outbox.Append(ctx, t.ptx, envs...)
}

func (t *tx) Notifications() command.TxNotifications { return Notifications{db: t.ptx} }

func (t *tx) Interactions() domain.InteractionRepository { return Interactions{db: t.ptx} }
func (t *tx) Graph() domain.GraphRepository              { return Graph{db: t.ptx} }
func (t *tx) Entities() domain.EntityRepository          { return Entities{db: t.ptx} }

func (t *tx) Inbox() command.InboxRepository         { return Inbox{db: t.ptx} }
func (t *tx) Federated() command.FederatedRepository { return Federated{db: t.ptx} }
