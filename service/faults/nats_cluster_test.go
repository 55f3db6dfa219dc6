//go:build faults

package faults

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestJetStreamClusterFaults: a three-node NATS JetStream cluster on
// loopback (nats-server processes), streams with three replicas, two
// `thoughts router` processes and one `thoughts api`. During a burst of likes
// over HTTP one NATS node is killed (SIGKILL) and later restarted, and one
// router is killed with SIGKILL. Every like is notified exactly once.
func TestJetStreamClusterFaults(t *testing.T) {
	n := likes(t)
	dir := t.TempDir()
	nodes := startNATS(t, dir, 3)
	awaitJetStream(t, natsURLs(nodes), 3)
	pg := startPostgres(t)
	db := pg.url("thoughts")
	migrate(t, db)
	env := thoughtsEnv(dir, db, "nats", natsURLs(nodes), "NATS_STREAM_REPLICAS=3")
	// router2 starts first, so it holds the forwarder's lock: killing it
	// kills the forwarder mid-batch too.
	r2 := startThoughts(t, dir, "router2", env, "router")
	r1 := startThoughts(t, dir, "router1", env, "router")
	apiProc := startThoughts(t, dir, "api", env, "api")
	checkReplicas(t, natsURLs(nodes), 3)
	a := newAPI(apiProc.base)
	pop := populate(t, a, "js", n)

	start := time.Now()
	var mu sync.Mutex
	var events []string
	at := func(what string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, fmt.Sprintf("%s at %v", what, time.Since(start).Round(time.Millisecond)))
	}
	var work string
	restarted := make(chan struct{})
	b := likeAll(context.Background(), a, pop, n, 16, func(sent int64) {
		switch sent {
		case int64(n / 5):
			nodes[2].kill()
			at("nats3 SIGKILLed")
		case int64(n * 2 / 5):
			relayed2, liked2 := relayed(r2.metrics), handled(r2.metrics, "notifications:likes.added")
			liked1 := handled(r1.metrics, "notifications:likes.added")
			r2.kill()
			at("router2 SIGKILLed")
			work = fmt.Sprintf("before its kill router2 had relayed %.0f events and handled %.0f likes, router1 handled %.0f likes", relayed2, liked2, liked1)
			if relayed2 <= 0 || liked2 <= 0 {
				t.Errorf("router2 was not working when killed: %s", work)
			}
		case int64(n * 3 / 5):
			// Restarted from its store, it catches up with the other two.
			go func() {
				defer close(restarted)
				nodes[2].restart()
				at("nats3 restarted")
			}()
		}
	})
	took := time.Since(start)
	<-restarted
	if r2.running() || !nodes[2].running() {
		t.Fatal("the faults did not all happen")
	}
	statuses, _, bodies := b.failures()
	if len(statuses) != 0 {
		t.Errorf("answers other than 200: %v, e.g. %q", statuses, bodies)
	}
	// A message the killed router held unacked is delivered again once its
	// AckWait (15 s after its last progress signal) expires.
	got, wait := awaitNotified(t, pg.pool(), n, 4*time.Minute)
	report(t, "sent %d / %v; burst %v (%.0f likes/s); %s; %s; last notification %v after the burst",
		b.sent.Load(), got, took.Round(time.Millisecond), float64(n)/took.Seconds(), strings.Join(events, ", "), work, wait.Round(time.Millisecond))
	if int(b.sent.Load()) != n || got.stored != n || got.notified != n || got.duplicates != 0 || got.missing != 0 {
		t.Errorf("want %d sent, stored and notified once each", n)
	}
}

// awaitJetStream waits until the cluster at urls has elected a JetStream
// meta leader with every one of its `size` nodes present.
func awaitJetStream(t *testing.T, urls string, size int) {
	t.Helper()
	nc, err := natsgo.Connect(urls, natsgo.MaxReconnects(-1), natsgo.RetryOnFailedConnect(true))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		js, err := jetstream.New(nc)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
			if err == nil && len(nc.Servers()) >= size {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream cluster not ready after 60 s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkReplicas asserts every stream the routers created has `want` replicas.
func checkReplicas(t *testing.T, urls string, want int) {
	t.Helper()
	nc, err := natsgo.Connect(urls)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names := js.StreamNames(ctx)
	count := 0
	for name := range names.Name() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info := s.CachedInfo()
		if info.Config.Replicas != want {
			t.Errorf("stream %s has %d replicas, want %d", name, info.Config.Replicas, want)
		}
		if info.Cluster == nil || len(info.Cluster.Replicas)+1 != want {
			t.Errorf("stream %s: cluster info %+v", name, info.Cluster)
		}
		count++
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	if count == 0 {
		t.Fatal("no streams")
	}
	t.Log(fmt.Sprintf("%d streams, %d replicas each", count, want))
}
