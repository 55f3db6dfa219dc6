package router_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
)

// TestNotificationsSurviveAbruptStop is the no-loss test with the real
// notification handler: 1,000 LikeAdded events committed through the outbox,
// the router stopped abruptly part-way and restarted; every event yields its
// notification, and redeliveries add none.
func TestNotificationsSurviveAbruptStop(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		hasher, err := auth.NewArgon2Hasher(auth.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32})
		if err != nil {
			t.Fatal(err)
		}
		uow := r.unitOfWork()
		application := app.New(app.Deps{UoW: uow, Hasher: hasher, Reads: postgres.NewReadModel(r.db.Pool)})

		// An author with a thought, and likers.
		now := time.Now().UTC().Truncate(time.Microsecond)
		mkUser := func(name string) domain.User {
			u, err := domain.NewUser(uuid.Must(uuid.NewV7()), name, name+"@example.com", "x", now)
			if err != nil {
				t.Fatal(err)
			}
			if err := uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return tx.Users().Create(ctx, u) }); err != nil {
				t.Fatal(err)
			}
			return u
		}
		author := mkUser("author")
		var likers []domain.User
		for i := range 10 {
			likers = append(likers, mkUser("liker"+string(rune('a'+i))))
		}
		th, err := application.Commands.PostThought.Handle(ctx, command.PostThought{AuthorID: author.ID, Draft: domain.ThoughtDraft{Content: "like me"}})
		if err != nil {
			t.Fatal(err)
		}

		var attempts atomic.Int64
		// The real handler, as the handler list binds it, counting attempts.
		notify := router.Handlers(app.Deps{UoW: uow})[0]
		handle := notify.Handle
		notify.Handle = func(ctx context.Context, env events.Envelope) error {
			attempts.Add(1)
			return handle(ctx, env)
		}
		count := func() int {
			var n int
			if err := r.db.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE recipient_id = $1 AND type = 'like'`, author.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		const total = 1000
		var batches [][]events.Envelope
		for b := range total / 100 {
			var batch []events.Envelope
			for i := range 100 {
				liker := likers[(b*100+i)%len(likers)]
				batch = append(batch, events.New(events.WithCorrelationID(ctx, "corr-noloss"), liker.ID,
					events.LikeAdded{LikeID: uuid.Must(uuid.NewV7()), UserID: liker.ID, ThoughtID: th.ID}, now))
			}
			batches = append(batches, batch)
		}
		runCtx, cancel := context.WithCancel(ctx)
		first := r.start([]router.Handler{notify}, routerOpts{ctx: runCtx, closeTimeout: time.Millisecond})
		r.commit(batches...)
		eventually(t, patience, "a third notified before the stop", func() bool { return count() >= total/3 })
		cancel()
		_ = first.Close() // in-flight messages are abandoned unacked
		stoppedAt := count()

		r.start([]router.Handler{notify})
		eventually(t, testPolicy.AckWait()+patience, "every event notified after the restart", func() bool { return count() >= total })
		var notified, dupes int
		if err := r.db.Pool.QueryRow(ctx, `SELECT count(DISTINCT event_id), count(*) - count(DISTINCT event_id) FROM notifications WHERE recipient_id = $1`, author.ID).Scan(&notified, &dupes); err != nil {
			t.Fatal(err)
		}
		t.Logf("stopped at %d/%d; %d deliveries for %d events", stoppedAt, total, attempts.Load(), total)
		if notified != total || dupes != 0 || count() != total || attempts.Load() < total {
			t.Errorf("notified events %d (want %d), duplicate rows %d, rows %d, deliveries %d", notified, total, dupes, count(), attempts.Load())
		}
	})
}
