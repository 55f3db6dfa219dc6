package pubsub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/thoughts-project/thoughts/adapters/outbox"
)

var (
	poisonSizeDesc = prometheus.NewDesc("thoughts_poison_queue_messages",
		"Messages on the poison queue, waiting for an operator.", nil, nil)
	outboxLagDesc = prometheus.NewDesc("thoughts_outbox_lag_seconds",
		"Age of the oldest committed event not yet taken by consumer (the forwarder on NATS, each handler on Postgres); 0 when none waits.",
		[]string{"consumer"}, nil)
	scrapeErrorDesc = prometheus.NewDesc("thoughts_event_metrics_scrape_error",
		"1 if reading the event backend for these metrics failed during this scrape.", nil, nil)
)

// Collector reads the backend's gauges at scrape time: the poison queue's size
// and the outbox lag. On NATS the lag is the forwarder's (events committed but
// not yet relayed); on Postgres it is each handler's, over the topics in subs.
func (b *Backend) Collector(subs []Subscription) prometheus.Collector {
	return collector{b: b, subs: subs}
}

type collector struct {
	b    *Backend
	subs []Subscription
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poisonSizeDesc
	ch <- outboxLagDesc
	ch <- scrapeErrorDesc
}

// Collect reads each gauge with a deadline of its own: the poison queue's
// size may wait for a NATS server that is down, and the lag, which matters
// most then, must not be left without time. A gauge that could not be read
// is left out of the scrape (and the error gauge set), never reported as 0.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	var errs []error
	lagCtx, cancelLag := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelLag()
	lags := map[string][]string{}
	if c.b.cfg.Backend == NATS {
		lags[ForwarderConsumerGroup] = []string{outbox.ForwarderTopic}
	} else {
		for _, s := range c.subs {
			lags[s.Handler] = append(lags[s.Handler], s.Topics...)
		}
	}
	for consumer, topics := range lags {
		var worst float64
		read := true
		for _, t := range topics {
			lag, err := c.b.lag(lagCtx, t, consumer)
			if err != nil {
				errs = append(errs, err)
				read = false
				break
			}
			worst = max(worst, lag)
		}
		if read {
			ch <- prometheus.MustNewConstMetric(outboxLagDesc, prometheus.GaugeValue, worst, consumer)
		}
	}
	poisonCtx, cancelPoison := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelPoison()
	if n, err := c.b.PoisonSize(poisonCtx); err != nil {
		errs = append(errs, err)
	} else {
		ch <- prometheus.MustNewConstMetric(poisonSizeDesc, prometheus.GaugeValue, float64(n))
	}
	failed := 0.0
	if err := errors.Join(errs...); err != nil {
		failed = 1
		c.b.log.Warn("reading event metrics failed", "err", err)
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrorDesc, prometheus.GaugeValue, failed)
}

// lag is the age in seconds of the first row of topic's table that group
// has not acked, in the order the group reads (transaction, offset).
func (b *Backend) lag(ctx context.Context, topic, group string) (float64, error) {
	lastTx, lastOffset := "0", int64(0)
	err := b.cfg.Pool.QueryRow(ctx, `SELECT last_processed_transaction_id::text, offset_acked
		FROM `+outbox.OffsetsTableName(topic)+` WHERE consumer_group = $1`, group).Scan(&lastTx, &lastOffset)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("read %s offset of %s: %w", topic, group, err)
	}
	var age float64
	err = b.cfg.Pool.QueryRow(ctx, `SELECT greatest(EXTRACT(EPOCH FROM (LOCALTIMESTAMP - created_at))::float8, 0)
		FROM `+outbox.TableName(topic)+`
		WHERE (transaction_id, "offset") > ($1::xid8, $2::bigint)
		ORDER BY transaction_id, "offset" LIMIT 1`, lastTx, lastOffset).Scan(&age)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s lag of %s: %w", topic, group, err)
	}
	return age, nil
}
