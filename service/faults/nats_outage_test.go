//go:build faults

package faults

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNATSOutage: an external nats-server is stopped for 30 s while likes
// are written over HTTP (`thoughts api` + `thoughts router`). Writes keep
// being accepted (their events wait in the outbox), the backlog drains once
// the server is back, and the router's thoughts_outbox_lag_seconds shows the
// lag rising during the outage and falling after it.
func TestNATSOutage(t *testing.T) {
	const (
		outage = 30 * time.Second
		every  = 25 * time.Millisecond // 40 likes/s
	)
	dir := t.TempDir()
	nodes := startNATS(t, dir, 1)
	awaitJetStream(t, natsURLs(nodes), 1)
	pg := startPostgres(t)
	db := pg.url("thoughts")
	migrate(t, db)
	env := thoughtsEnv(dir, db, "nats", natsURLs(nodes))
	router := startThoughts(t, dir, "router", env, "router")
	apiProc := startThoughts(t, dir, "api", env, "api")
	a := newAPI(apiProc.base)
	// Writes for 3 s before, during and 3 s after the outage.
	n := int((outage + 6*time.Second) / every)
	pop := populate(t, a, "out", n)

	lagSeries := `thoughts_outbox_lag_seconds{consumer="forwarder"}`
	type sample struct {
		at  time.Duration
		lag float64
	}
	var (
		mu      sync.Mutex
		samples []sample
	)
	start := time.Now()
	scrapeCtx, stopScraping := context.WithCancel(context.Background())
	var scraping sync.WaitGroup
	scraping.Go(func() {
		for scrapeCtx.Err() == nil {
			if v, err := metric(router.metrics, lagSeries); err == nil {
				mu.Lock()
				samples = append(samples, sample{time.Since(start), v})
				mu.Unlock()
			}
			select {
			case <-scrapeCtx.Done():
			case <-time.After(time.Second):
			}
		}
	})
	defer func() { stopScraping(); scraping.Wait() }()

	var stoppedAt, restartedAt time.Duration
	outageOver := make(chan struct{})
	go func() {
		defer close(outageOver)
		time.Sleep(3 * time.Second)
		nodes[0].stop(10 * time.Second)
		stoppedAt = time.Since(start)
		time.Sleep(outage)
		nodes[0].restart()
		restartedAt = time.Since(start)
	}()
	b := likePaced(context.Background(), a, pop, n, 8, every, nil)
	<-outageOver
	statuses, _, bodies := b.failures()
	if len(statuses) != 0 {
		t.Errorf("writes refused during the broker outage: %v, e.g. %q", statuses, bodies)
	}
	got, wait := awaitNotified(t, pg.pool(), n, 2*time.Minute)

	// The lag falls back once the backlog is relayed.
	deadline := time.Now().Add(60 * time.Second)
	for {
		v, err := metric(router.metrics, lagSeries)
		if err == nil && v < 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still %v (%v) 60 s after the backlog drained", lagSeries, v, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	stopScraping()
	scraping.Wait()
	var peak sample
	var during, after []string
	for _, s := range samples {
		if s.lag > peak.lag {
			peak = s
		}
		line := fmt.Sprintf("%.0fs:%.1f", s.at.Seconds(), s.lag)
		if s.at < restartedAt {
			during = append(during, line)
		} else {
			after = append(after, line)
		}
	}
	// While the broker is down the oldest waiting event ages with the
	// outage: the lag, scraped during it, rises and comes close to it.
	var rising []sample
	for _, s := range samples {
		if s.at > stoppedAt+2*time.Second && s.at < restartedAt {
			rising = append(rising, s)
		}
	}
	if len(rising) < 5 {
		t.Fatalf("only %d lag samples during the outage: %v", len(rising), samples)
	}
	for i := 1; i < len(rising); i++ {
		if rising[i].lag <= rising[i-1].lag {
			t.Errorf("the lag did not rise during the outage: %v then %v", rising[i-1], rising[i])
		}
	}
	if last := rising[len(rising)-1]; last.lag < (outage - 8*time.Second).Seconds() {
		t.Errorf("the lag reached only %.1f s during a %v outage; samples %v", last.lag, outage, samples)
	}
	report(t, "sent %d during a %v outage (refused %d) / %v; nats stopped at %v, restarted at %v; lag peaked at %.1f s at %v; backlog drained %v after the writes; lag samples (s:lag) before restart %s | after %s",
		b.sent.Load(), outage, len(statuses), got, stoppedAt.Round(time.Millisecond), restartedAt.Round(time.Millisecond),
		peak.lag, peak.at.Round(time.Second), wait.Round(time.Millisecond), strings.Join(during, " "), strings.Join(after, " "))
	if int(b.sent.Load()) != n || got.stored != n || got.notified != n || got.duplicates != 0 || got.missing != 0 {
		t.Errorf("want %d sent, stored and notified once each", n)
	}
}
