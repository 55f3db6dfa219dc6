package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

// countingGenerator hands out distinct fake key pairs (the store does not
// parse them), so a test can tell whose key was kept.
type countingGenerator struct{ n atomic.Int64 }

func (g *countingGenerator) Generate(context.Context) (domain.KeyPair, error) {
	n := g.n.Add(1)
	return domain.KeyPair{PublicKeyPEM: fmt.Sprintf("pub-%d", n), PrivateKeyPEM: fmt.Sprintf("priv-%d", n)}, nil
}

func createUsers(t *testing.T, db pgtest.DB, names ...string) []domain.User {
	t.Helper()
	uow, err := postgres.NewUnitOfWork(db.Pool, outbox.New(outbox.Forward, nil))
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.User
	for _, name := range names {
		u := newUser(t, name)
		if err := uow.InTx(context.Background(), func(ctx context.Context, tx command.Tx) error { return tx.Users().Create(ctx, u) }); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// TestEnsureUserKeyConcurrently: many first uses at once store one key and
// all return it; later uses return it without generating.
func TestEnsureUserKeyConcurrently(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	alice := createUsers(t, db, "alice")[0]
	keys := postgres.NewActorKeys(db.Pool)
	gen := &countingGenerator{}
	ensure := command.EnsureUserKeyHandler{Keys: keys, Generator: gen}

	if k, err := keys.UserKey(ctx, alice.ID); err != nil || !k.Empty() {
		t.Fatalf("a new user's key = %+v, %v; want empty", k, err)
	}
	const n = 8
	got := make([]domain.KeyPair, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := ensure.Handle(ctx, alice.ID)
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		})
	}
	wg.Wait()
	stored, err := keys.UserKey(ctx, alice.ID)
	if err != nil || stored.Empty() {
		t.Fatalf("stored key = %+v, %v", stored, err)
	}
	for i, k := range got {
		if k != stored {
			t.Errorf("caller %d got %+v, the store holds %+v", i, k, stored)
		}
	}
	before := gen.n.Load()
	if k, err := ensure.Handle(ctx, alice.ID); err != nil || k != stored {
		t.Errorf("later use = %+v, %v", k, err)
	}
	if gen.n.Load() != before {
		t.Error("a user with a key got another one generated")
	}
	if _, err := ensure.Handle(ctx, uuid.New()); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown user: %v, want not found", err)
	}
}

// TestBackfillUserKeys: every keyless user gets a key, users with one keep
// it, a second run has nothing to do, and two runs at once agree.
func TestBackfillUserKeys(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	users := createUsers(t, db, "ann", "ben", "cat", "dan", "eve")
	keys := postgres.NewActorKeys(db.Pool)
	gen := &countingGenerator{}
	early, err := command.EnsureUserKeyHandler{Keys: keys, Generator: gen}.Handle(ctx, users[0].ID)
	if err != nil {
		t.Fatal(err)
	}

	backfill := command.BackfillUserKeysHandler{Keys: keys, Generator: gen}
	var wg sync.WaitGroup
	var total atomic.Int64
	for range 2 {
		wg.Go(func() {
			n, err := backfill.Handle(ctx)
			if err != nil {
				t.Error(err)
			}
			total.Add(int64(n))
		})
	}
	wg.Wait()
	if total.Load() < 4 {
		t.Errorf("two backfills handled %d users, want at least the 4 without a key", total.Load())
	}
	seen := map[string]bool{}
	for _, u := range users {
		k, err := keys.UserKey(ctx, u.ID)
		if err != nil || k.Empty() {
			t.Fatalf("%s after backfill: %+v, %v", u.Username, k, err)
		}
		if seen[k.PublicKeyPEM] {
			t.Errorf("%s shares a key with another user", u.Username)
		}
		seen[k.PublicKeyPEM] = true
	}
	if k, _ := keys.UserKey(ctx, users[0].ID); k != early {
		t.Error("the backfill replaced an existing key")
	}
	if n, err := backfill.Handle(ctx); err != nil || n != 0 {
		t.Errorf("second backfill = %d, %v; want 0, nil", n, err)
	}
}

// TestInstanceKeyCreatedOnce: concurrent first uses create one instance key.
func TestInstanceKeyCreatedOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	ensure := command.EnsureInstanceKeyHandler{Keys: postgres.NewActorKeys(db.Pool), Generator: &countingGenerator{}}
	got := make([]domain.KeyPair, 6)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			k, err := ensure.Handle(ctx)
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		})
	}
	wg.Wait()
	for i, k := range got {
		if k.Empty() || k != got[0] {
			t.Errorf("caller %d got %+v, caller 0 %+v", i, k, got[0])
		}
	}
	var rows int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM instance_actor`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("instance_actor rows = %d, %v", rows, err)
	}
}
