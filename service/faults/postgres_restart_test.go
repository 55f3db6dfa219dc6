//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPostgresRestartUnderLoad: PostgreSQL (a throwaway cluster of the
// test's own) is shut down in the middle of a burst of likes and started
// again a few seconds later, with `thoughts api` and `thoughts router` (NATS
// backend, an external nats-server) running all along. Requests during the
// outage are answered 503 with a problem body, quickly (no hang, no 500, no
// internals); /readyz reports the outage; the API, the forwarder and the
// router recover without a restart; every committed like is notified once,
// and nothing is poisoned.
func TestPostgresRestartUnderLoad(t *testing.T) {
	n := min(likes(t), 3000)
	const outage = 8 * time.Second
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
	pop := populate(t, a, "pgr", n)

	type probe struct {
		took   time.Duration
		status int
		body   string
	}
	var (
		mu      sync.Mutex
		readyz  []probe
		probed  = make(chan struct{})
		stopped = make(chan struct{})
		resumed = make(chan struct{})
		stopAt  time.Duration
		startAt time.Duration
	)
	// /readyz is probed from the moment the database is down until it is
	// back.
	go func() {
		defer close(probed)
		<-stopped
		for {
			select {
			case <-resumed:
				return
			case <-time.After(250 * time.Millisecond):
			}
			t0 := time.Now()
			code, body := httpGet(apiProc.base+"/readyz", 30*time.Second)
			mu.Lock()
			readyz = append(readyz, probe{took: time.Since(t0), status: code, body: body})
			mu.Unlock()
		}
	}()
	start := time.Now()
	b := likeAll(context.Background(), a, pop, n, 16, func(sent int64) {
		if sent != int64(n*3/10) {
			return
		}
		go func() {
			pg.stop("fast")
			mu.Lock()
			stopAt = time.Since(start)
			mu.Unlock()
			close(stopped)
			time.Sleep(outage)
			pg.start()
			mu.Lock()
			startAt = time.Since(start)
			mu.Unlock()
			close(resumed)
		}()
	})
	took := time.Since(start)
	<-resumed
	<-probed
	mu.Lock()
	var notReady []probe
	for _, p := range readyz {
		if p.took > 5*time.Second {
			t.Errorf("/readyz took %v to answer during the outage", p.took)
		}
		if p.status != 200 {
			notReady = append(notReady, p)
		}
	}
	mu.Unlock()
	if len(notReady) == 0 {
		t.Error("/readyz never reported the outage")
	}
	for _, p := range notReady {
		if p.status != 503 || !strings.Contains(p.body, "urn:thoughts:problem:unavailable") || strings.Contains(p.body, "127.0.0.1") {
			t.Errorf("/readyz during the outage: %d %s", p.status, p.body)
		}
	}
	readyAgain := time.Now()
	for code, _ := httpGet(apiProc.base+"/readyz", 5*time.Second); code != 200; code, _ = httpGet(apiProc.base+"/readyz", 5*time.Second) {
		if time.Since(readyAgain) > 30*time.Second {
			t.Fatal("/readyz not ready 30 s after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}

	statuses, worst, bodies := b.failures()
	failed := 0
	for code, k := range statuses {
		failed += k
		if code != 503 {
			t.Errorf("%d answers with status %d during the outage, want only 503", k, code)
		}
	}
	if failed == 0 {
		t.Error("no request failed while the database was down: was it?")
	}
	if worst > 5*time.Second {
		t.Errorf("a failed request took %v; want an answer within 5 s", worst)
	}
	for _, body := range bodies {
		var p struct{ Type, Detail string }
		raw := body[strings.Index(body, ": ")+2:]
		if err := json.Unmarshal([]byte(raw), &p); err != nil || p.Type != "urn:thoughts:problem:unavailable" {
			t.Errorf("a failed answer is not an unavailable problem: %s", body)
		}
		for _, leak := range []string{"postgres", "127.0.0.1", "dial", "SQLSTATE", "pgx"} {
			if strings.Contains(strings.ToLower(raw), strings.ToLower(leak)) {
				t.Errorf("a failed answer shows internals (%q): %s", leak, body)
			}
		}
	}
	got, wait := awaitNotified(t, pg.pool(), n, 3*time.Minute)
	poisoned, err := metric(router.metrics, "thoughts_poison_queue_messages")
	if err != nil {
		t.Error(err)
	}
	if poisoned != 0 {
		t.Errorf("%v events were poisoned during the outage", poisoned)
	}
	report(t, "sent %d / %v; burst %v, database stopped at %v and started at %v; %d failed answers %v (slowest %v); /readyz not ready %d of %d probes; poisoned %v; last notification %v after the burst",
		b.sent.Load(), got, took.Round(time.Millisecond), stopAt.Round(time.Millisecond), startAt.Round(time.Millisecond),
		failed, statuses, worst.Round(time.Millisecond), len(notReady), len(readyz), poisoned, wait.Round(time.Millisecond))
	if int(b.sent.Load()) != n || got.stored != n || got.notified != n || got.duplicates != 0 || got.missing != 0 {
		t.Errorf("want %d sent, stored and notified once each", n)
	}
}
