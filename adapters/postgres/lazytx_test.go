package postgres_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
)

// roundTrips counts what a connection sends: each statement on its own and
// each batch is one round trip to the server.
type roundTrips struct{ queries, batches atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.queries.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batches.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (r *roundTrips) reset() int64 {
	return r.queries.Swap(0) + r.batches.Swap(0)
}

// lazyUoW returns a unit of work on a traced pool of one connection (so
// every transaction reuses the one before's connection), an untraced pool on
// the same database, which has a table lazy_probe to write to, the traced
// pool, and its round-trip counter.
func lazyUoW(t *testing.T) (*postgres.UnitOfWork, *pgxpool.Pool, *pgxpool.Pool, *roundTrips) {
	t.Helper()
	db := pgtest.New(t)
	if _, err := db.Pool.Exec(context.Background(), `CREATE TABLE lazy_probe (id int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	uow, err := postgres.NewUnitOfWork(pool, outbox.New(outbox.Direct, nil))
	if err != nil {
		t.Fatal(err)
	}
	return uow, db.Pool, pool, rt
}

func rowsIn(t *testing.T, pool *pgxpool.Pool) []int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT id FROM lazy_probe ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// inTx runs fn with the transaction's postgres.LazyTx.
func inTx(uow *postgres.UnitOfWork, fn func(ctx context.Context, lt *postgres.LazyTx) error) error {
	return uow.InTx(context.Background(), func(ctx context.Context, tx command.Tx) error {
		return fn(ctx, postgres.LazyTxOf(tx))
	})
}

// TestTransactionBeginsWithItsFirstStatement: BEGIN travels with the first
// statement, so a transaction of one statement costs two round trips (three
// with pgx.BeginFunc), one of two statements three, and one with none
// sends nothing.
func TestTransactionBeginsWithItsFirstStatement(t *testing.T) {
	uow, pool, traced, rt := lazyUoW(t)
	ctx := context.Background()
	warm := func(sql string) { // statements are prepared on their first use, in a round trip of their own
		if err := inTx(uow, func(ctx context.Context, lt *postgres.LazyTx) error { _, err := lt.Exec(ctx, sql, 0); return err }); err != nil {
			t.Fatal(err)
		}
	}
	warm(`INSERT INTO lazy_probe (id) VALUES ($1) ON CONFLICT DO NOTHING`)
	warm(`DELETE FROM lazy_probe WHERE id = $1`)
	rt.reset()

	for _, c := range []struct {
		name  string
		stmts []string
		want  int64
	}{
		{"no statement", nil, 0},
		{"one statement", []string{`INSERT INTO lazy_probe (id) VALUES ($1) ON CONFLICT DO NOTHING`}, 2},
		{"two statements", []string{`INSERT INTO lazy_probe (id) VALUES ($1) ON CONFLICT DO NOTHING`, `DELETE FROM lazy_probe WHERE id = $1`}, 3},
	} {
		err := inTx(uow, func(ctx context.Context, lt *postgres.LazyTx) error {
			for _, s := range c.stmts {
				if _, err := lt.Exec(ctx, s, 7); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := rt.reset(); got != c.want {
			t.Errorf("%s: %d round trips, want %d", c.name, got, c.want)
		}
	}
	// What it saves: pgx's own transaction of one statement, on the same
	// connection, costs three.
	if err := pgx.BeginFunc(ctx, traced, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO lazy_probe (id) VALUES ($1) ON CONFLICT DO NOTHING`, 8)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := rt.reset(); got != 3 {
		t.Errorf("pgx.BeginFunc: %d round trips, want 3", got)
	}
	if ids := rowsIn(t, pool); len(ids) != 1 || ids[0] != 8 {
		t.Errorf("rows %v, want [8]", ids)
	}
}

// TestLazyTransactionIsOneTransaction: the statements after the first run in
// the transaction BEGIN opened: an error rolls all of them back, whichever
// way the first statement was sent (Exec, Query, QueryRow, SendBatch), a
// panic too, and the connection goes back to the pool outside any
// transaction.
func TestLazyTransactionIsOneTransaction(t *testing.T) {
	uow, pool, _, _ := lazyUoW(t)
	boom := errors.New("boom")
	first := map[string]func(ctx context.Context, lt *postgres.LazyTx) error{
		"exec": func(ctx context.Context, lt *postgres.LazyTx) error {
			_, err := lt.Exec(ctx, `INSERT INTO lazy_probe (id) VALUES (1)`)
			return err
		},
		"query": func(ctx context.Context, lt *postgres.LazyTx) error {
			rows, err := lt.Query(ctx, `INSERT INTO lazy_probe (id) VALUES (1), (2) RETURNING id`)
			if err != nil {
				return err
			}
			rows.Next() // one of two: Close reads the rest
			rows.Close()
			return rows.Err()
		},
		"query row": func(ctx context.Context, lt *postgres.LazyTx) error {
			var id int
			return lt.QueryRow(ctx, `INSERT INTO lazy_probe (id) VALUES (1) RETURNING id`).Scan(&id)
		},
		"batch": func(ctx context.Context, lt *postgres.LazyTx) error {
			b := &pgx.Batch{}
			b.Queue(`INSERT INTO lazy_probe (id) VALUES (1)`)
			b.Queue(`INSERT INTO lazy_probe (id) VALUES (2)`)
			return lt.SendBatch(ctx, b).Close()
		},
	}
	for name, fn := range first {
		err := inTx(uow, func(ctx context.Context, lt *postgres.LazyTx) error {
			if err := fn(ctx, lt); err != nil {
				return err
			}
			if _, err := lt.Exec(ctx, `INSERT INTO lazy_probe (id) VALUES (3)`); err != nil {
				return err
			}
			// Inside the transaction its rows are seen.
			var n int
			if err := lt.QueryRow(ctx, `SELECT count(*) FROM lazy_probe`).Scan(&n); err != nil || n < 2 {
				t.Errorf("%s: %d rows seen inside the transaction, %v", name, n, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("%s: InTx = %v, want boom", name, err)
		}
		if ids := rowsIn(t, pool); len(ids) != 0 {
			t.Errorf("%s: rows %v left by a rolled-back transaction", name, ids)
		}
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		_ = inTx(uow, func(ctx context.Context, lt *postgres.LazyTx) error {
			if _, err := lt.Exec(ctx, `INSERT INTO lazy_probe (id) VALUES (1)`); err != nil {
				return err
			}
			panic("in the middle")
		})
	}()
	if ids := rowsIn(t, pool); len(ids) != 0 {
		t.Errorf("rows %v left by a panicking transaction", ids)
	}

	// The one connection is reusable, outside a transaction: this commits.
	if err := inTx(uow, first["batch"]); err != nil {
		t.Fatal(err)
	}
	if ids := rowsIn(t, pool); len(ids) != 2 {
		t.Errorf("rows %v after a committed batch, want [1 2]", ids)
	}
}

// TestLazyTransactionErrors: a failing first statement returns the server's
// error, and nothing of the transaction is committed; QueryRow on no rows is
// pgx.ErrNoRows and the transaction goes on; committing a transaction the
// server aborted is pgx.ErrTxCommitRollback.
func TestLazyTransactionErrors(t *testing.T) {
	uow, pool, _, _ := lazyUoW(t)
	if err := inTx(uow, func(ctx context.Context, lt *postgres.LazyTx) error {
		_, err := lt.Exec(ctx, `INSERT INTO lazy_probe (id) VALUES (1)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	err := inTx(uow, func(ctx context.Context, lt *postgres.LazyTx) error {
		_, err := lt.Exec(ctx, `INSERT INTO lazy_probe (id) VALUES (1)`)
		return err
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Errorf("duplicate key as the first statement: %v, want a 23505 error", err)
	}
	err = inTx(uow, func(ctx context.Context, lt *postgres.LazyTx) error {
		rows, err := lt.Query(ctx, `SELECT no_such_column FROM lazy_probe`)
		if err == nil {
			rows.Close()
			err = rows.Err()
		}
		return err
	})
	if !errors.As(err, &pgErr) || pgErr.Code != "42703" {
		t.Errorf("undefined column in a first query: %v, want a 42703 error", err)
	}

	err = inTx(uow, func(ctx context.Context, lt *postgres.LazyTx) error {
		var id int
		if err := lt.QueryRow(ctx, `SELECT id FROM lazy_probe WHERE id = 99`).Scan(&id); !errors.Is(err, pgx.ErrNoRows) {
			t.Errorf("QueryRow of no rows = %v, want pgx.ErrNoRows", err)
		}
		_, err := lt.Exec(ctx, `INSERT INTO lazy_probe (id) VALUES (2)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	err = inTx(uow, func(ctx context.Context, lt *postgres.LazyTx) error {
		_, _ = lt.Exec(ctx, `INSERT INTO lazy_probe (id) VALUES (1)`) // fails: the server aborts the transaction
		return nil
	})
	if !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Errorf("commit after a failed statement = %v, want pgx.ErrTxCommitRollback", err)
	}
	if ids := rowsIn(t, pool); len(ids) != 2 || ids[0] != 1 || ids[1] != 2 {
		t.Errorf("rows %v, want [1 2]", ids)
	}
}
