package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/events"
)

func testConfig(t *testing.T, db pgtest.DB, backend string) Config {
	return Config{
		DatabaseURL: db.URL, HTTPAddr: freeAddr(t), PublicURL: "http://localhost:8080",
		JWTSecret: []byte("backbone-test-secret-0123456789abcdef"), JWTTTL: time.Hour,
		EventsBackend: backend, DataDir: t.TempDir(), ShutdownTimeout: 10 * time.Second,
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeRunsTheBackbone: `thoughts serve` runs migrations, the embedded
// NATS server (or the Postgres backend), forwarder, router and API in one
// process; events committed to the outbox are handled, an undecodable one is
// poisoned, /metrics shows router, HTTP, outbox-lag and poison metrics; it
// shuts down cleanly, after which the poison commands inspect and requeue.
func TestServeRunsTheBackbone(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"nats", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			db := pgtest.NewEmpty(t)
			cfg := testConfig(t, db, backend)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- serve(ctx, cfg, slog.New(slog.DiscardHandler), true) }()
			base := "http://" + cfg.HTTPAddr
			waitFor(t, "serve never became ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })

			// A decodable event (handled: a like of an unknown thought
			// notifies nobody) and an undecodable one (poisoned), written the
			// way the outbox writes them.
			mode := outbox.Direct
			if backend == "nats" {
				mode = outbox.Forward
			}
			uow, _ := postgres.NewUnitOfWork(db.Pool, outbox.New(mode, nil))
			actor := uuid.Must(uuid.NewV7())
			env := events.New(events.WithCorrelationID(ctx, "corr-serve"), actor, events.LikeAdded{LikeID: uuid.New(), UserID: actor, ThoughtID: uuid.New()}, time.Now())
			if err := uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return tx.Publish(ctx, env) }); err != nil {
				t.Fatal(err)
			}
			sqlPub, _ := wsql.NewPublisher(wsql.BeginnerFromPgx(db.Pool), wsql.PublisherConfig{SchemaAdapter: outbox.SchemaAdapter(0)}, nil)
			var pub message.Publisher = sqlPub
			if backend == "nats" {
				pub = forwarder.NewPublisher(sqlPub, forwarder.PublisherConfig{ForwarderTopic: outbox.ForwarderTopic})
			}
			bad := message.NewMessage(uuid.NewString(), []byte(`{"type":"NoSuchEvent","data":{}}`))
			bad.Metadata.Set(events.MetaCorrelationID, "corr-bad")
			if err := pub.Publish(events.TopicLikeAdded, bad); err != nil {
				t.Fatal(err)
			}

			var metrics string
			waitFor(t, "metrics never showed the handled and the poisoned event", func() bool {
				_, metrics = get(t, base+"/metrics")
				return strings.Contains(metrics, `thoughts_poison_queue_messages 1`) &&
					strings.Contains(metrics, `thoughts_events_poisoned_total{handler="notifications"} 1`) &&
					strings.Contains(metrics, `handler_execution_time_seconds_count{handler_name="notifications:likes.added",success="true"} 2`)
			})
			for _, name := range []string{
				"handler_execution_time_seconds", "subscriber_messages_received_total", // Watermill's router metrics
				`thoughts_http_requests_total{method="GET",route="/readyz",status="200"}`, "thoughts_http_request_duration_seconds_bucket",
				"thoughts_outbox_lag_seconds{consumer=", "thoughts_poison_queue_messages", "go_goroutines",
			} {
				if !strings.Contains(metrics, name) {
					t.Errorf("/metrics lacks %s", name)
				}
			}
			if backend == "nats" && !strings.Contains(metrics, `handler_name="events_forwarder"`) {
				t.Error("/metrics lacks the forwarder's router metrics")
			}

			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not shut down")
			}

			// The poison tooling, with the process stopped (the embedded
			// store is free again).
			run := func(args ...string) string {
				t.Helper()
				var out bytes.Buffer
				if err := poison(context.Background(), cfg, slog.New(slog.DiscardHandler), args, &out); err != nil {
					t.Fatalf("poison %v: %v\n%s", args, err, out.String())
				}
				return out.String()
			}
			list := run("list")
			for _, want := range []string{"EVENT ID", "TYPE", "HANDLER", "FIRST SEEN", "CORRELATION ID", "REASON", bad.UUID, "notifications", "corr-bad", "undecodable", "1 entries"} {
				if !strings.Contains(list, want) {
					t.Errorf("poison list lacks %q:\n%s", want, list)
				}
			}
			show := run("show", bad.UUID)
			for _, want := range []string{"topic:", "likes.added", "reason:", "payload:", `"type": "NoSuchEvent"`, "first_poisoned_at"} {
				if !strings.Contains(show, want) {
					t.Errorf("poison show lacks %q:\n%s", want, show)
				}
			}
			if out := run("requeue", "--all"); !strings.Contains(out, "1 of 1 entries requeued") {
				t.Errorf("requeue --all:\n%s", out)
			}
			if out := run("list"); !strings.Contains(out, "the poison queue is empty") {
				t.Errorf("list after requeue:\n%s", out)
			}
			if out := run("purge"); !strings.Contains(out, "purged 0 entries") {
				t.Errorf("purge:\n%s", out)
			}
			var out bytes.Buffer
			if err := poison(context.Background(), cfg, slog.New(slog.DiscardHandler), []string{"show", "12345"}, &out); err == nil {
				t.Error("show of a missing entry succeeded")
			}
		})
	}
}

// TestSplitModeNeedsASharedBroker: `thoughts api` and `thoughts router` with
// NATS but no NATS_URL stop with a message naming the fix.
func TestSplitModeNeedsASharedBroker(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	cfg := testConfig(t, db, "nats")
	quiet := slog.New(slog.DiscardHandler)
	if err := serve(context.Background(), cfg, quiet, false); !errors.Is(err, errSplitNeedsBroker) {
		t.Errorf("api: %v", err)
	}
	if err := runRouter(context.Background(), cfg, quiet); !errors.Is(err, errSplitNeedsBroker) {
		t.Errorf("router: %v", err)
	}
	if !strings.Contains(errSplitNeedsBroker.Error(), "NATS_URL") {
		t.Error("the message does not name NATS_URL")
	}
}
