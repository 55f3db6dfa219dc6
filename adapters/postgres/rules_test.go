package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/domain"
)

// ruleFixture stores users, thoughts, follows and blocks for the rule tests.
type ruleFixture struct {
	t  *testing.T
	db pgtest.DB
}

func (f ruleFixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f ruleFixture) user(name string) uuid.UUID {
	f.t.Helper()
	id := uuid.Must(uuid.NewV7())
	f.exec(`INSERT INTO users (id, username, email, password_hash, created_at, updated_at)
		VALUES ($1, $2, $2 || '@example.com', 'x', now(), now())`, id, name)
	return id
}

func (f ruleFixture) block(blocker, blocked uuid.UUID) {
	f.t.Helper()
	f.exec(`INSERT INTO blocks (blocker_id, blocked_id, id, created_at) VALUES ($1, $2, $3, now())`,
		blocker, blocked, uuid.Must(uuid.NewV7()))
}

func (f ruleFixture) follow(follower, following uuid.UUID, state domain.FollowState) {
	f.t.Helper()
	f.exec(`INSERT INTO follows (follower_id, following_id, id, state, created_at) VALUES ($1, $2, $3, $4, now())`,
		follower, following, uuid.Must(uuid.NewV7()), state)
}

func (f ruleFixture) thought(author uuid.UUID, vis domain.Visibility) uuid.UUID {
	f.t.Helper()
	id := uuid.Must(uuid.NewV7())
	f.exec(`INSERT INTO thoughts (id, author_id, content, visibility, created_at) VALUES ($1, $2, 'x', $3, now())`, id, author, vis)
	return id
}

// TestBlockedEitherWayRule checks the block rule (notBlockedEitherWay) on
// each way two users can stand, in both argument orders.
func TestBlockedEitherWayRule(t *testing.T) {
	t.Parallel()
	f := ruleFixture{t: t, db: pgtest.New(t)}
	cases := []struct {
		name string
		// setup blocks between a, b and a third user c.
		setup       func(a, b, c uuid.UUID)
		self        bool // b is a
		wantAllowed bool
	}{
		{"neither blocks", func(a, b, c uuid.UUID) {}, false, true},
		{"a blocks b", func(a, b, c uuid.UUID) { f.block(a, b) }, false, false},
		{"b blocks a", func(a, b, c uuid.UUID) { f.block(b, a) }, false, false},
		{"both block", func(a, b, c uuid.UUID) { f.block(a, b); f.block(b, a) }, false, false},
		{"blocks with a third user only", func(a, b, c uuid.UUID) { f.block(a, c); f.block(c, b) }, false, true},
		{"self", func(a, b, c uuid.UUID) { f.block(a, c); f.block(c, a) }, true, true},
	}
	for i, c := range cases {
		a, b, third := f.user(userName("ba", i)), f.user(userName("bb", i)), f.user(userName("bc", i))
		if c.self {
			b = a
		}
		c.setup(a, b, third)
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, pair := range [][2]uuid.UUID{{a, b}, {b, a}} {
				got, err := postgres.NotBlockedEitherWayForTest(context.Background(), f.db.Pool, pair[0], pair[1])
				if err != nil {
					t.Fatal(err)
				}
				if got != c.wantAllowed {
					t.Errorf("not blocked either way (%s, %s) = %v, want %v", pair[0], pair[1], got, c.wantAllowed)
				}
			}
		})
	}
}

func userName(prefix string, i int) string { return prefix + string(rune('a'+i)) }

// TestVisibilityAndListingRules checks the visibility rule (visibleTo) and the listing
// rule built on it (listedTo) for each visibility and each way a viewer can
// stand with the author.
func TestVisibilityAndListingRules(t *testing.T) {
	t.Parallel()
	f := ruleFixture{t: t, db: pgtest.New(t)}
	author := f.user("author")
	viewers := map[string]*uuid.UUID{"anonymous": nil, "author": &author}
	newViewer := func(name string) uuid.UUID {
		id := f.user(name)
		viewers[name] = &id
		return id
	}
	f.follow(newViewer("follower"), author, domain.FollowAccepted)
	f.follow(newViewer("pending"), author, domain.FollowPending)
	f.block(author, newViewer("blocked"))
	// Blocking removes follows, but should one remain, the block wins.
	blockedFollower := newViewer("blockedfollower")
	f.follow(blockedFollower, author, domain.FollowAccepted)
	f.block(author, blockedFollower)
	f.block(newViewer("blocking"), author)
	newViewer("stranger")
	thoughts := map[domain.Visibility]uuid.UUID{}
	for _, vis := range []domain.Visibility{domain.VisibilityPublic, domain.VisibilityUnlisted, domain.VisibilityFollowers} {
		thoughts[vis] = f.thought(author, vis)
	}

	type want struct{ visible, listed bool }
	cases := []struct {
		viewer                      string
		public, unlisted, followers want
	}{
		{"anonymous", want{true, true}, want{true, false}, want{false, false}},
		{"author", want{true, true}, want{true, true}, want{true, true}},
		{"follower", want{true, true}, want{true, false}, want{true, true}},
		{"pending", want{true, true}, want{true, false}, want{false, false}},
		{"blocked", want{false, false}, want{false, false}, want{false, false}},
		{"blockedfollower", want{false, false}, want{false, false}, want{false, false}},
		// By link the blocker still sees what a stranger does; listings
		// leave the blocked author out.
		{"blocking", want{true, false}, want{true, false}, want{false, false}},
		{"stranger", want{true, true}, want{true, false}, want{false, false}},
	}
	if len(cases) != len(viewers) {
		t.Fatalf("%d cases for %d viewers", len(cases), len(viewers))
	}
	for _, c := range cases {
		viewer, ok := viewers[c.viewer]
		if !ok {
			t.Fatalf("no viewer %q", c.viewer)
		}
		t.Run(c.viewer, func(t *testing.T) {
			t.Parallel()
			for vis, w := range map[domain.Visibility]want{
				domain.VisibilityPublic: c.public, domain.VisibilityUnlisted: c.unlisted, domain.VisibilityFollowers: c.followers,
			} {
				visible, listed, err := postgres.VisibleToForTest(context.Background(), f.db.Pool, viewer, thoughts[vis])
				if err != nil {
					t.Fatal(err)
				}
				if got := (want{visible, listed}); got != w {
					t.Errorf("%s thought: (visible, listed) = %v, want %v", vis, got, w)
				}
			}
		})
	}
}
