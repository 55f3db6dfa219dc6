package pubsub

import (
	"context"
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/app/events"
)

// tableConsumer reads one watermill-sql topic table as one consumer group, a
// batch of rows per transaction, in the order watermill-sql's subscriber
// reads (transaction ID, offset; only rows of transactions older than every
// running one), and advances the group's offset once per batch, over the
// longest prefix of the batch its settle function reports done. It is the
// reading half of watermill-sql's Subscriber, without its one-message-at-a-
// time hand-off: a whole batch goes to settle at once (to the router, which
// handles its messages concurrently and batches their effects; or to
// JetStream, published asynchronously). Transactions run on the lock's
// connection (lockingBeginner): one consumer of a group and topic at a time,
// across processes.
type tableConsumer struct {
	group, topic string
	lock         *lockingBeginner
	schema       wsql.DefaultPostgreSQLSchema
	offsets      offsetsAdapter
	poll         pollSchedule
	wake         <-chan struct{}
	// retry is the pause after a failed read or ack.
	retry time.Duration
	log   func(msg string, err error, rows int)
}

// settleFunc handles a batch and reports how many of its leading rows are
// done (their offset may be acked); it returns when it knows.
type settleFunc func(ctx context.Context, rows []wsql.Row) int

// pollSchedule is the wait after each poll: none after one that found rows;
// after an empty one first, doubling with every further empty poll up to
// busyMax while nothing wakes the consumer (no listener), or up to idleMax
// while a listener wakes it on every commit (the poll is then only a safety
// net, and the doubling covers rows that a notification announced but an
// older transaction still hides).
type pollSchedule struct {
	first, busyMax, idleMax time.Duration
	listening               func() bool
}

func (p pollSchedule) next(prev time.Duration) time.Duration {
	limit := p.busyMax
	if p.listening != nil && p.listening() {
		limit = max(p.idleMax, p.busyMax)
	}
	if prev <= 0 {
		return p.first
	}
	return min(2*prev, limit)
}

// run consumes until ctx is done.
func (c *tableConsumer) run(ctx context.Context, settle settleFunc) {
	defer c.lock.close()
	var wait time.Duration
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
				// A commit was announced: read now, and back off afresh.
				wait = 0
			case <-timer.C:
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		n, err := c.once(ctx, settle)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			c.log("reading the topic table failed; retrying", err, 0)
			wait = c.retry
		case n > 0:
			wait = 0
		default:
			wait = c.poll.next(wait)
		}
	}
}

// once reads a batch, settles it and acks the settled prefix, in one
// transaction. It returns how many rows it read.
func (c *tableConsumer) once(ctx context.Context, settle settleFunc) (n int, err error) {
	tx, err := c.lock.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	q, err := c.schema.SelectQuery(wsql.SelectQueryParams{Topic: c.topic, ConsumerGroup: c.group, OffsetsAdapter: c.offsets})
	if err != nil {
		return 0, err
	}
	rows, err := tx.tx.Query(ctx, q.Query, q.Args...)
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	var batch []wsql.Row
	for rows.Next() {
		row, err := c.schema.UnmarshalMessage(wsql.UnmarshalMessageParams{Row: rows})
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("read: %w", err)
		}
		batch = append(batch, row)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	if len(batch) == 0 {
		// Nothing written: ending the read-only transaction costs no flush.
		return 0, tx.Commit()
	}
	done := settle(ctx, batch)
	if done == 0 {
		return len(batch), tx.Rollback()
	}
	ack, err := c.offsets.AckMessageQuery(wsql.AckMessageQueryParams{Topic: c.topic, LastRow: batch[done-1], Rows: batch[:done], ConsumerGroup: c.group})
	if err != nil {
		return 0, err
	}
	// The ack must not be lost to a cancellation after the rows' effects
	// were applied: they would be applied again (harmless, but avoidable).
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := tx.ExecContext(actx, ack.Query, ack.Args...); err != nil {
		return 0, fmt.Errorf("ack %d rows: %w", done, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("ack %d rows: commit: %w", done, err)
	}
	return len(batch), nil
}

// routerSettle hands a batch's messages to out all at once and waits for the
// router to ack or nack each (a nacked message is sent again after resend,
// as watermill-sql does), until every one is settled, ackDeadline passes,
// or closing. The acked prefix is done.
func routerSettle(out chan<- *message.Message, closing <-chan struct{}, ackDeadline, resend time.Duration) settleFunc {
	return func(ctx context.Context, rows []wsql.Row) int {
		if ackDeadline > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, ackDeadline)
			defer cancel()
		}
		msgCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		// The router's batching handlers gather the whole batch into one
		// call instead of starting with whichever message reaches them
		// first (events.Delivery).
		ids := make([]string, len(rows))
		for i, row := range rows {
			ids[i] = row.Msg.UUID
		}
		msgCtx = events.WithDelivery(msgCtx, events.NewDelivery(ids))
		send := func(msg *message.Message) bool {
			msg.SetContext(msgCtx)
			select {
			case out <- msg:
				return true
			case <-closing:
			case <-ctx.Done():
			}
			return false
		}
		msgs := make([]*message.Message, len(rows))
		sent := 0
		for i, row := range rows {
			msgs[i] = row.Msg
			if !send(msgs[i]) {
				break
			}
			sent++
		}
		for i := range sent {
			for {
				msg := msgs[i]
				select {
				case <-msg.Acked():
				case <-msg.Nacked():
					select {
					case <-time.After(resend):
					case <-closing:
						return i
					case <-ctx.Done():
						return i
					}
					msgs[i] = msg.Copy()
					if !send(msgs[i]) {
						return i
					}
					continue
				case <-closing:
					return i
				case <-ctx.Done():
					return i
				}
				break
			}
		}
		return sent
	}
}

// newTableConsumer builds the consumer of group on topic; its transactions
// hold the (group, topic) lock on a connection of pool.
func (b *Backend) newTableConsumer(group, topic string, batch int, maxPoll time.Duration) *tableConsumer {
	c := &tableConsumer{
		group: group, topic: topic,
		lock:    &lockingBeginner{pool: b.cfg.SubscriberPool, key: lockKey(group, topic)},
		schema:  outbox.SchemaAdapter(batch),
		offsets: newOffsetsAdapter(),
		poll:    pollSchedule{first: b.cfg.PollInterval, busyMax: max(maxPoll, b.cfg.PollInterval), idleMax: b.cfg.IdlePollInterval},
		retry:   time.Second,
	}
	if b.wakes != nil {
		c.wake = b.wakes.register(topic)
		c.poll.listening = b.wakes.listening
	}
	c.log = func(msg string, err error, rows int) {
		b.log.Warn(msg, "consumer_group", group, "topic", topic, "rows", rows, "err", err)
	}
	return c
}
