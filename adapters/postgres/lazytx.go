package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// lazyTx is a transaction on one connection whose BEGIN travels with its
// first statement, in one pipelined round trip (a pgx batch: an explicit
// BEGIN inside it opens a transaction block that outlives the batch), instead
// of a round trip of its own. A command's transaction is BEGIN, a few
// statements and COMMIT: for a like, three round trips become two. Each
// round trip costs both sides a write, a read and a wake-up, and on a busy
// machine those system calls are a large part of a write's CPU
// (bench/README.md).
//
// A transaction that ran no statement sends nothing, not even its COMMIT.
// lazyTx is not safe for concurrent use, as a pgx.Tx is not.
type lazyTx struct {
	conn   *pgx.Conn
	begun  bool // BEGIN sent (with or before a statement)
	closed bool // COMMIT or ROLLBACK sent, or nothing to end
}

// beginSQL opens the transaction block, as pgx.Conn.Begin with no options.
const beginSQL = "begin"

var _ querier = (*lazyTx)(nil)

// Exec runs sql in the transaction.
func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.begun {
		return t.conn.Exec(ctx, sql, args...)
	}
	br := t.begin(ctx, sql, args)
	tag, err := br.Exec()
	if err != nil {
		_ = br.Close() // reports err again
		return tag, err
	}
	return tag, br.Close()
}

// Query runs sql in the transaction; its rows must be closed (reading them
// to the end closes them) before the transaction's next statement.
func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.begun {
		return t.conn.Query(ctx, sql, args...)
	}
	br := t.begin(ctx, sql, args)
	rows, err := br.Query()
	if err != nil {
		_ = br.Close() // reports err again
		return rows, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow runs sql in the transaction; Scan reads its first row (or
// returns pgx.ErrNoRows) and closes it, as pgx's own.
func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.begun {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	rows, err := t.Query(ctx, sql, args...)
	return &firstRow{rows: rows, err: err}
}

// SendBatch runs b in the transaction, its BEGIN queued first if not sent.
func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.begun {
		return t.conn.SendBatch(ctx, b)
	}
	t.begun = true
	withBegin := &pgx.Batch{QueuedQueries: append([]*pgx.QueuedQuery{{SQL: beginSQL}}, b.QueuedQueries...)}
	br := t.conn.SendBatch(ctx, withBegin)
	_, _ = br.Exec() // BEGIN's result; an error stays in br for the caller
	return br
}

// begin sends BEGIN and sql in one batch, reads BEGIN's result and returns
// the batch at sql's.
func (t *lazyTx) begin(ctx context.Context, sql string, args []any) pgx.BatchResults {
	t.begun = true
	b := &pgx.Batch{}
	b.Queue(beginSQL)
	b.Queue(sql, args...)
	br := t.conn.SendBatch(ctx, b)
	_, _ = br.Exec() // an error stays in br: the statement's read returns it
	return br
}

// commit ends the transaction with COMMIT, if it began: as pgx's, it returns
// pgx.ErrTxCommitRollback if the server rolled back instead (a statement
// had failed).
func (t *lazyTx) commit(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	if !t.begun {
		return nil
	}
	tag, err := t.conn.Exec(ctx, "commit")
	if err != nil {
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// rollback ends the transaction with ROLLBACK, if it began and is not
// closed. A connection left inside a transaction by a failed rollback is
// not pooled again (pgxpool.Conn.Release closes it).
func (t *lazyTx) rollback(ctx context.Context) error {
	if t.closed {
		return nil
	}
	t.closed = true
	if !t.begun {
		return nil
	}
	_, err := t.conn.Exec(ctx, "rollback")
	return err
}

// batchRows are the rows of a batch's last statement: closing them closes
// the batch too, which reads the server's end of the round trip.
type batchRows struct {
	pgx.Rows
	br       pgx.BatchResults
	closed   bool
	closeErr error
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	if err := r.br.Close(); r.Rows.Err() == nil {
		r.closeErr = err // else it repeats or follows from the rows' error
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// firstRow is QueryRow's result on rows of a batch.
type firstRow struct {
	rows pgx.Rows
	err  error
}

func (r *firstRow) Scan(dest ...any) error {
	if r.err != nil {
		if r.rows != nil {
			r.rows.Close()
		}
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
