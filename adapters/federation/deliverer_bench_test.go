package federation_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// BenchmarkDelivery measures the delivery worker on loopback (real
// Postgres, real signatures, default concurrency 16 and 4 per host):
//
//	healthy      deliveries/s to one healthy peer (500 per iteration, each
//	             to its own inbox path on the peer);
//	beside-dead  the same, with 500 deliveries to a peer that never
//	             answers (2 s timeout) queued ahead of them: what a dead
//	             peer costs the others.
//
//	go test -run '^$' -bench Delivery -benchtime 3x ./adapters/federation
func BenchmarkDelivery(b *testing.B) {
	for _, withDead := range []bool{false, true} {
		name := map[bool]string{false: "healthy", true: "beside-dead"}[withDead]
		b.Run(name, func(b *testing.B) {
			r := newRig(b)
			healthy := newPeer(b, func(int) (int, http.Header) { return 202, nil })
			dead := newPeer(b, func(int) (int, http.Header) { return -1, nil })
			cfg := fastConfig()
			cfg.Concurrency, cfg.PerHost, cfg.Timeout = 16, 4, 2*time.Second
			cfg.Schedule.RetryFor = time.Hour
			const n = 500
			var total time.Duration
			for i := range b.N {
				b.StopTimer()
				if withDead {
					for j := range n {
						r.enqueue(dead.target(fmt.Sprintf("/users/d%d-%d/inbox", i, j)))
					}
				}
				for j := range n {
					r.enqueue(healthy.target(fmt.Sprintf("/users/h%d-%d/inbox", i, j)))
				}
				want := (i + 1) * n
				b.StartTimer()
				start := time.Now()
				_, stop := r.start(cfg, nil)
				for r.countState(healthy.host, "delivered") < want {
					time.Sleep(20 * time.Millisecond)
				}
				total += time.Since(start)
				b.StopTimer()
				stop()
				if withDead { // forget the dead peer's backlog between iterations
					if _, err := r.db.Pool.Exec(context.Background(), `DELETE FROM deliveries WHERE host = $1`, dead.host); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*n)/total.Seconds(), "deliveries/s")
		})
	}
}
