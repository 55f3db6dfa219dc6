package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

type row struct {
	UUID     string
	Payload  []byte
	Metadata map[string]string
}

func rows(t *testing.T, db pgtest.DB, topic string) []row {
	t.Helper()
	rs, err := db.Pool.Query(context.Background(), `SELECT uuid, payload::text, metadata::text FROM `+outbox.TableName(topic)+` ORDER BY "offset"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		var payload, md string
		if err := rs.Scan(&r.UUID, &payload, &md); err != nil {
			t.Fatal(err)
		}
		r.Payload = []byte(payload)
		if err := json.Unmarshal([]byte(md), &r.Metadata); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestEventIffCommit: an event appended in a transaction exists exactly when
// the transaction commits, in both layouts.
func TestEventIffCommit(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name  string
		mode  outbox.Mode
		table string
	}{{"forward", outbox.Forward, outbox.ForwarderTopic}, {"direct", outbox.Direct, events.TopicThoughtCreated}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t)
			uow, err := postgres.NewUnitOfWork(db.Pool, outbox.New(mode.mode, nil))
			if err != nil {
				t.Fatal(err)
			}
			ctx := events.WithCorrelationID(context.Background(), "corr-iff")
			now := time.Now().UTC().Truncate(time.Microsecond)
			user, _ := domain.NewUser(uuid.Must(uuid.NewV7()), "writer", "w@example.com", "x", now)
			if err := uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return tx.Users().Create(ctx, user) }); err != nil {
				t.Fatal(err)
			}
			post := func(fail error) (events.Envelope, error) {
				th, err := domain.NewThought(uuid.Must(uuid.NewV7()), user.ID, domain.ThoughtDraft{Content: "hi"}, now)
				if err != nil {
					t.Fatal(err)
				}
				env := events.New(ctx, user.ID, events.ThoughtCreated{ThoughtID: th.ID, UserID: user.ID}, now)
				err = uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
					if err := tx.Thoughts().Create(ctx, th); err != nil {
						return err
					}
					if err := tx.Publish(ctx, env); err != nil {
						return err
					}
					return fail
				})
				return env, err
			}
			boom := errors.New("boom after publish")
			if _, err := post(boom); !errors.Is(err, boom) {
				t.Fatalf("rolled back tx error = %v", err)
			}
			if got := rows(t, db, mode.table); len(got) != 0 {
				t.Fatalf("rolled back transaction left %d events", len(got))
			}
			env, err := post(nil)
			if err != nil {
				t.Fatal(err)
			}
			got := rows(t, db, mode.table)
			if len(got) != 1 {
				t.Fatalf("committed transaction left %d events, want 1", len(got))
			}
			payload, md, id := got[0].Payload, got[0].Metadata, got[0].UUID
			if mode.mode == outbox.Forward {
				var envelope struct {
					DestinationTopic string            `json:"destination_topic"`
					UUID             string            `json:"uuid"`
					Payload          []byte            `json:"payload"`
					Metadata         map[string]string `json:"metadata"`
				}
				if err := json.Unmarshal(payload, &envelope); err != nil {
					t.Fatal(err)
				}
				if envelope.DestinationTopic != events.TopicThoughtCreated {
					t.Errorf("destination = %q", envelope.DestinationTopic)
				}
				payload, md, id = envelope.Payload, envelope.Metadata, envelope.UUID
			}
			if id != env.ID.String() {
				t.Errorf("message UUID %s, want event ID %s", id, env.ID)
			}
			ev, err := events.Unmarshal(payload)
			if err != nil {
				t.Fatal(err)
			}
			if created, ok := ev.(events.ThoughtCreated); !ok || created.UserID != user.ID {
				t.Errorf("event = %#v", ev)
			}
			for k, v := range map[string]string{
				events.MetaCorrelationID: "corr-iff", events.MetaEventType: "ThoughtCreated",
				events.MetaActorID: user.ID.String(), events.MetaOccurredAt: now.Format(time.RFC3339Nano),
			} {
				if md[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, md[k], v)
				}
			}
			// The state change committed with it.
			var n int
			if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM thoughts`).Scan(&n); err != nil || n != 1 {
				t.Errorf("thoughts = %d (%v), want 1", n, err)
			}
		})
	}
}

func TestTableNamesAreIdentifiers(t *testing.T) {
	t.Parallel()
	for _, topic := range outbox.Topics() {
		name := outbox.TableName(topic)
		for _, r := range name[1 : len(name)-1] {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				t.Errorf("table for %s is %s", topic, name)
				break
			}
		}
	}
}

// TestAnnouncementsAreCoalescedAndNoneIsLost: a steady flow of commits is
// announced on WakeChannel a few times a second (every commit would cost a
// statement and a wake-up of every listener), the last commit of the flow is
// announced too, and the committing process's own consumers are woken once
// per commit, without waiting.
func TestAnnouncementsAreCoalescedAndNoneIsLost(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	listener, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Release()
	if _, err := listener.Exec(ctx, `LISTEN `+outbox.WakeChannel); err != nil {
		t.Fatal(err)
	}
	ob := outbox.New(outbox.Direct, nil)
	ob.AnnounceOn(db.Pool, nil)
	var local int
	ob.WakeLocally(func(topic string) {
		if topic == events.TopicLikeAdded {
			local++ // writers commit one at a time below
		}
	})
	uow, err := postgres.NewUnitOfWork(db.Pool, ob)
	if err != nil {
		t.Fatal(err)
	}
	const commits = 150
	start := time.Now()
	for range commits {
		actor := uuid.Must(uuid.NewV7())
		env := events.New(ctx, actor, events.LikeAdded{LikeID: uuid.New(), UserID: actor, ThoughtID: uuid.New()}, time.Now())
		if err := uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return tx.Publish(ctx, env) }); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	lastCommit := time.Since(start)
	if local != commits {
		t.Errorf("local wake-ups: %d, want one per commit (%d)", local, commits)
	}
	// Count the announcements until none has come for a second: the last
	// one must name the topic and come after the last commit.
	var announced int
	var last time.Duration
	for {
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		n, err := listener.Conn().WaitForNotification(wctx)
		cancel()
		if err != nil {
			break
		}
		if n.Payload != events.TopicLikeAdded {
			t.Errorf("announced %q, want %q", n.Payload, events.TopicLikeAdded)
		}
		announced++
		last = time.Since(start)
	}
	if announced == 0 || last < lastCommit {
		t.Fatalf("%d announcements, the last %v after the start; the last commit was at %v", announced, last, lastCommit)
	}
	// At most one per 20 ms, and the first at once.
	if bound := int(last/(20*time.Millisecond)) + 2; announced > bound {
		t.Errorf("%d announcements of %d commits over %v; want at most %d", announced, commits, last.Round(time.Millisecond), bound)
	}
	t.Logf("%d commits over %v: %d announcements", commits, lastCommit.Round(time.Millisecond), announced)
}
