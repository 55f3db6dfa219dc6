package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DeliveryStats are the reads behind the federation gauges, made at scrape
// time.
type DeliveryStats interface {
	// HostCounts counts hosts by state: available, open, unavailable.
	HostCounts(ctx context.Context) (map[string]int, error)
	// PendingCount counts deliveries not yet done.
	PendingCount(ctx context.Context) (int, error)
}

// Delivery is the delivery worker's metrics: attempts by outcome (counted
// as they happen) and hosts by state and pending deliveries (read from the
// database at each scrape, so every process reports the shared truth).
type Delivery struct {
	outcomes *prometheus.CounterVec
	stats    DeliveryStats
	hosts    *prometheus.Desc
	pending  *prometheus.Desc
}

// NewDelivery registers the delivery metrics with reg.
func NewDelivery(reg prometheus.Registerer, stats DeliveryStats) (*Delivery, error) {
	d := &Delivery{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thoughts_federation_deliveries_total",
			Help: "Delivery attempts by outcome: delivered, retry (failed, will be retried), failed (given up), released (shutdown).",
		}, []string{"outcome"}),
		stats:   stats,
		hosts:   prometheus.NewDesc("thoughts_federation_hosts", "Remote hosts by delivery state: available, open (breaker open), unavailable.", []string{"state"}, nil),
		pending: prometheus.NewDesc("thoughts_federation_deliveries_pending", "Deliveries not yet delivered or given up.", nil, nil),
	}
	for _, o := range []string{"delivered", "retry", "failed", "released"} {
		d.outcomes.WithLabelValues(o)
	}
	if err := reg.Register(d.outcomes); err != nil {
		return nil, err
	}
	if err := reg.Register(d); err != nil {
		return nil, err
	}
	return d, nil
}

// Observe counts one attempt's outcome.
func (d *Delivery) Observe(outcome string) { d.outcomes.WithLabelValues(outcome).Inc() }

// Describe implements prometheus.Collector (the gauges).
func (d *Delivery) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.hosts
	ch <- d.pending
}

// Collect implements prometheus.Collector: a failed read reports nothing
// rather than a wrong zero.
func (d *Delivery) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if counts, err := d.stats.HostCounts(ctx); err == nil {
		for state, n := range counts {
			ch <- prometheus.MustNewConstMetric(d.hosts, prometheus.GaugeValue, float64(n), state)
		}
	}
	if n, err := d.stats.PendingCount(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(d.pending, prometheus.GaugeValue, float64(n))
	}
}
