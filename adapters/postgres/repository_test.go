package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

func newUser(t *testing.T, name string) domain.User {
	t.Helper()
	u, err := domain.NewUser(uuid.Must(uuid.NewV7()), name, name+"@example.com",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5", time.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUserRepository(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	uow, err := postgres.NewUnitOfWork(db.Pool, outbox.New(outbox.Forward, nil))
	if err != nil {
		t.Fatal(err)
	}
	in := func(fn func(tx command.Tx) error) error {
		return uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return fn(tx) })
	}
	alice := newUser(t, "alice")
	if err := in(func(tx command.Tx) error { return tx.Users().Create(ctx, alice) }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user   domain.User
		detail string
	}{
		{func() domain.User { u := newUser(t, "alice"); u.Email = "other@example.com"; return u }(), "username is already taken"},
	} {
		err := in(func(tx command.Tx) error { return tx.Users().Create(ctx, c.user) })
		var derr *domain.DetailedError
		if !errors.Is(err, domain.ErrConflict) || !errors.As(err, &derr) || derr.Detail != c.detail {
			t.Errorf("duplicate %s: err = %v, want conflict %q", c.user.Username, err, c.detail)
		}
	}
	reads := postgres.NewReadModel(db.Pool)
	got, err := reads.UserByID(ctx, alice.ID)
	if err == nil && got.CreatedAt.Equal(alice.CreatedAt) && got.UpdatedAt.Equal(alice.UpdatedAt) {
		got.CreatedAt, got.UpdatedAt = alice.CreatedAt, alice.UpdatedAt // same instant, other *Location
	}
	if err != nil || got != alice {
		t.Errorf("UserByID = %+v, %v; want %+v", got, err, alice)
	}
	// Email addresses need not be unique (registration must not reveal them).
	if err := in(func(tx command.Tx) error {
		u := newUser(t, "bob")
		u.Email = "ALICE@example.com"
		return tx.Users().Create(ctx, u)
	}); err != nil {
		t.Errorf("second account with alice's email: %v", err)
	}
	err = in(func(tx command.Tx) error {
		u, err := tx.Users().ByUsername(ctx, "ALICE")
		if err == nil && u.ID != alice.ID {
			t.Errorf("ByUsername(ALICE) = %s", u.ID)
		}
		return err
	})
	if err != nil {
		t.Errorf("ByUsername(ALICE): %v", err)
	}
	if _, err := reads.UserByID(ctx, uuid.New()); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	ghost := newUser(t, "ghost")
	if err := in(func(tx command.Tx) error { return tx.Users().Update(ctx, ghost) }); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("update unknown user: %v", err)
	}
}

// TestVisibilityRule exercises the one SQL visibility predicate with every
// relation it reads: authorship, accepted and pending follows, and blocks.
func TestVisibilityRule(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	uow, err := postgres.NewUnitOfWork(db.Pool, outbox.New(outbox.Forward, nil))
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]domain.User{}
	for _, name := range []string{"author", "follower", "pending", "stranger", "blocked"} {
		u := newUser(t, name)
		users[name] = u
		if err := uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return tx.Users().Create(ctx, u) }); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO follows (follower_id, following_id, id, state, created_at) VALUES ($1, $2, $3, 'accepted', $4), ($5, $2, $6, 'pending', $4), ($7, $2, $8, 'accepted', $4)`,
		users["follower"].ID, users["author"].ID, uuid.New(), now, users["pending"].ID, uuid.New(), users["blocked"].ID, uuid.New())
	exec(`INSERT INTO blocks (blocker_id, blocked_id, id, created_at) VALUES ($1, $2, $3, $4)`, users["author"].ID, users["blocked"].ID, uuid.New(), now)

	thoughts := map[domain.Visibility]uuid.UUID{}
	for _, vis := range []domain.Visibility{domain.VisibilityPublic, domain.VisibilityUnlisted, domain.VisibilityFollowers} {
		th, err := domain.NewThought(uuid.Must(uuid.NewV7()), users["author"].ID, domain.ThoughtDraft{Content: string(vis), Visibility: vis}, now)
		if err != nil {
			t.Fatal(err)
		}
		thoughts[vis] = th.ID
		if err := uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return tx.Thoughts().Create(ctx, th) }); err != nil {
			t.Fatal(err)
		}
	}
	reads := postgres.NewReadModel(db.Pool)
	want := map[string]map[domain.Visibility]bool{
		"author":    {domain.VisibilityPublic: true, domain.VisibilityUnlisted: true, domain.VisibilityFollowers: true},
		"follower":  {domain.VisibilityPublic: true, domain.VisibilityUnlisted: true, domain.VisibilityFollowers: true},
		"pending":   {domain.VisibilityPublic: true, domain.VisibilityUnlisted: true, domain.VisibilityFollowers: false},
		"stranger":  {domain.VisibilityPublic: true, domain.VisibilityUnlisted: true, domain.VisibilityFollowers: false},
		"blocked":   {domain.VisibilityPublic: false, domain.VisibilityUnlisted: false, domain.VisibilityFollowers: false},
		"anonymous": {domain.VisibilityPublic: true, domain.VisibilityUnlisted: true, domain.VisibilityFollowers: false},
	}
	for viewerName, cases := range want {
		var viewer query.Viewer
		if u, ok := users[viewerName]; ok {
			id := u.ID
			viewer = &id
		}
		for vis, visible := range cases {
			_, err := reads.Thought(ctx, viewer, thoughts[vis])
			if visible && err != nil {
				t.Errorf("%s cannot see a %s thought: %v", viewerName, vis, err)
			}
			if !visible && !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("%s sees a %s thought (err %v)", viewerName, vis, err)
			}
		}
	}
}
