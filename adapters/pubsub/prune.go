package pubsub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/thoughts-project/thoughts/adapters/outbox"
)

// Retention of the watermill-sql tables (the outbox on NATS, the topic tables
// on Postgres).
//
// A row may go once every consumer group of its table has passed it: a group
// reads in (transaction_id, offset) order and its offsets row holds the last
// position it acked, so every row at or before the lowest of those positions
// has been taken by every group. No row a group has not read can sit below
// that position: groups only read rows whose transaction is older than every
// transaction still running (pg_snapshot_xmin), so a row committed later has
// a higher transaction ID than anything already read.
//
// Consequences worth knowing:
//   - a table without consumer groups (the poison table, a layout the
//     backend does not use) is never pruned;
//   - a consumer group that no longer runs (a handler removed or renamed)
//     holds its tables back until its offsets row is deleted
//     (DELETE FROM watermill_offsets_<topic> WHERE consumer_group = '<name>');
//   - a new handler's group starts at the beginning of what is left: it
//     never sees events pruned before it first subscribed, which is what a
//     new handler should see anyway (it does not replay history).

// DB is where the pruners run their statements: a pool, or one connection
// of it (the retention pass runs on the connection holding its lock, so it
// never waits for a second one while holding the first).
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// PruneTopic deletes the rows of topic's table that every consumer group has
// passed, at most batch rows per statement (each its own short transaction,
// taking only the deleted rows' locks, so writers and readers are not held
// up), until none is left to delete. After each full batch it pauses as long
// as the batch took, so a large backlog is deleted at half speed instead of
// taking a core away from the pipeline for seconds. It returns how many rows
// went.
func PruneTopic(ctx context.Context, db DB, topic string, batch int) (int64, error) {
	if batch <= 0 {
		return 0, errors.New("prune: batch size must be positive")
	}
	var tx string
	var offset int64
	// The lowest position over every group; a group that has read nothing
	// is at ('0', 0) and holds everything back.
	err := db.QueryRow(ctx, `SELECT last_processed_transaction_id::text, offset_acked
		FROM `+outbox.OffsetsTableName(topic)+`
		ORDER BY last_processed_transaction_id, offset_acked LIMIT 1`).Scan(&tx, &offset)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("prune %s: read consumer positions: %w", topic, err)
	}
	// The PRIMARY KEY (transaction_id, "offset") orders the rows as groups
	// read them: each batch is an index range from the start of the table.
	del := `DELETE FROM ` + outbox.TableName(topic) + ` WHERE (transaction_id, "offset") IN (
		SELECT transaction_id, "offset" FROM ` + outbox.TableName(topic) + `
		WHERE (transaction_id, "offset") <= ($1::text::xid8, $2::bigint)
		ORDER BY transaction_id, "offset" LIMIT $3)`
	var total int64
	for {
		start := time.Now()
		tag, err := db.Exec(ctx, del, tx, offset, batch)
		if err != nil {
			return total, fmt.Errorf("prune %s: %w", topic, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) {
			return total, nil
		}
		if err := pause(ctx, time.Since(start)); err != nil {
			return total, err
		}
	}
}

// pause waits d, or until ctx is done (its error). Pruners call it between
// batches with the time the last batch took, to work at most half the time.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PruneTopics prunes every table the outbox may write to (both layouts: the
// one the backend does not use is empty and costs one index probe) and
// returns the rows deleted per topic.
func PruneTopics(ctx context.Context, db DB, batch int) (map[string]int64, error) {
	out := map[string]int64{}
	var errs []error
	for _, topic := range outbox.Topics() {
		n, err := PruneTopic(ctx, db, topic, batch)
		out[topic] = n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}
