package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app/command"
)

// NotBlockedEitherWayForTest evaluates the block rule for users a and b.
func NotBlockedEitherWayForTest(ctx context.Context, pool *pgxpool.Pool, a, b uuid.UUID) (bool, error) {
	var ok bool
	err := pool.QueryRow(ctx, `SELECT `+notBlockedEitherWay("$1::uuid", "$2::uuid")+` IS TRUE`, a, b).Scan(&ok)
	return ok, err
}

// VisibleToForTest evaluates the visibility rule and the listing rule for
// the thought and viewer (nil: anonymous). NULL, which a WHERE clause treats
// as false, is false.
func VisibleToForTest(ctx context.Context, pool *pgxpool.Pool, viewer *uuid.UUID, thoughtID uuid.UUID) (visible, listed bool, err error) {
	err = pool.QueryRow(ctx, `SELECT (`+visibleTo(2)+`) IS TRUE, (`+listedTo(2)+`) IS TRUE FROM thoughts t WHERE t.id = $1`, thoughtID, viewer).
		Scan(&visible, &listed)
	return visible, listed, err
}

// UsersForTest is the user repository on pool, outside a transaction.
func UsersForTest(pool *pgxpool.Pool) Users { return Users{db: pool} }

// LazyTx is the unit of work's transaction, for tests.
type LazyTx = lazyTx

// LazyTxOf is the transaction behind a command.Tx of UnitOfWork.InTx.
func LazyTxOf(t command.Tx) *LazyTx { return t.(*tx).ptx }
