package service

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
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
			ctx := context.Background()
			serve := startProcess(t, cfg, serveOptions)
			base := serve.base
			waitFor(t, "serve never became ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })

			// /metrics is on its own listener (METRICS_ADDR), not the API's.
			if code, _ := get(t, base+"/metrics"); code != 404 {
				t.Errorf("the API listener answers /metrics with %d, want 404", code)
			}

			// The first scrape, before any event: every consumer's router
			// series is there at zero (not absent until the process handles
			// its first event), and only for the events the handler acts on.
			_, first := get(t, serve.metrics+"/metrics")
			for _, topic := range []string{"likes.added", "boosts.added", "follows.requested", "follows.accepted", "thoughts.created", "thoughts.deleted"} {
				for _, success := range []string{"true", "false"} {
					if want := `handler_execution_time_seconds_count{handler_name="notifications:` + topic + `",success="` + success + `"} 0`; !strings.Contains(first, want) {
						t.Errorf("first scrape lacks %s", want)
					}
				}
			}
			for _, topic := range []string{"likes.removed", "boosts.removed", "thoughts.updated", "follows.rejected", "follows.removed", "users.blocked", "users.unblocked"} {
				if strings.Contains(first, `handler_name="notifications:`+topic+`"`) {
					t.Errorf("the notifications handler consumes %s, an event it does not act on", topic)
				}
			}
			if !strings.Contains(first, `thoughts_events_poisoned_total{handler="notifications"} 0`) {
				t.Error("first scrape lacks the poison counter at zero")
			}

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
				_, metrics = get(t, serve.metrics+"/metrics")
				// Only notifications consume likes.added (federation reads
				// the likes of remote thoughts): one poisoned copy.
				return strings.Contains(metrics, `thoughts_poison_queue_messages 1`) &&
					strings.Contains(metrics, `thoughts_events_poisoned_total{handler="notifications"} 1`) &&
					strings.Contains(metrics, `thoughts_events_poisoned_total{handler="federation"} 0`) &&
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
			if backend == "nats" && !strings.Contains(metrics, `thoughts_forwarder_relayed_total 2`) {
				t.Error("/metrics lacks the forwarder's count of relayed events (2)")
			}

			if err := serve.stop(t); err != nil {
				t.Fatalf("serve: %v", err)
			}

			// The poison tooling, with the process stopped (the embedded
			// store is free again).
			run := func(args ...string) string {
				t.Helper()
				var out bytes.Buffer
				if err := Poison(context.Background(), cfg, slog.New(slog.DiscardHandler), args, &out); err != nil {
					t.Fatalf("poison %v: %v\n%s", args, err, out.String())
				}
				return out.String()
			}
			list := run("list")
			for _, want := range []string{"EVENT ID", "TYPE", "HANDLER", "FIRST SEEN", "CORRELATION ID", "REASON", bad.UUID, "notifications", "corr-bad", "undecodable", "1 entry;"} {
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
			if out := run("requeue", "--all"); !strings.Contains(out, "1 of 1 entry requeued") {
				t.Errorf("requeue --all:\n%s", out)
			}
			if out := run("list"); !strings.Contains(out, "the poison queue is empty") {
				t.Errorf("list after requeue:\n%s", out)
			}
			if out := run("purge"); !strings.Contains(out, "purged 0 entries") {
				t.Errorf("purge:\n%s", out)
			}
			var out bytes.Buffer
			if err := Poison(context.Background(), cfg, slog.New(slog.DiscardHandler), []string{"show", "12345"}, &out); err == nil {
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
	if err := API(context.Background(), cfg, quiet); !errors.Is(err, ErrSplitNeedsBroker) {
		t.Errorf("api: %v", err)
	}
	if err := Router(context.Background(), cfg, quiet); !errors.Is(err, ErrSplitNeedsBroker) {
		t.Errorf("router: %v", err)
	}
	if !strings.Contains(ErrSplitNeedsBroker.Error(), "NATS_URL") {
		t.Error("the message does not name NATS_URL")
	}
}
