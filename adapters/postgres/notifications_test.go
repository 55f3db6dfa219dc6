package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

type notificationFixture struct {
	t    *testing.T
	db   pgtest.DB
	uow  *postgres.UnitOfWork
	read *postgres.ReadModel
}

func newNotificationFixture(t *testing.T) notificationFixture {
	t.Helper()
	db := pgtest.New(t)
	uow, err := postgres.NewUnitOfWork(db.Pool, outbox.New(outbox.Forward, nil))
	if err != nil {
		t.Fatal(err)
	}
	return notificationFixture{t: t, db: db, uow: uow, read: postgres.NewReadModel(db.Pool)}
}

func (f notificationFixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f notificationFixture) user(name string) uuid.UUID {
	f.t.Helper()
	id := uuid.Must(uuid.NewV7())
	f.exec(`INSERT INTO users (id, username, email, password_hash, created_at, updated_at)
		VALUES ($1, $2, $2 || '@example.com', 'x', now(), now())`, id, name)
	return id
}

func (f notificationFixture) thought(author uuid.UUID, content, visibility string) uuid.UUID {
	f.t.Helper()
	id := uuid.Must(uuid.NewV7())
	f.exec(`INSERT INTO thoughts (id, author_id, content, visibility, created_at) VALUES ($1, $2, $3, $4, now())`,
		id, author, content, visibility)
	return id
}

func (f notificationFixture) in(fn func(ctx context.Context, n command.TxNotifications) error) error {
	return f.uow.InTx(context.Background(), func(ctx context.Context, tx command.Tx) error { return fn(ctx, tx.Notifications()) })
}

func (f notificationFixture) add(n domain.Notification) bool {
	f.t.Helper()
	var added bool
	if err := f.in(func(ctx context.Context, r command.TxNotifications) error {
		var err error
		added, err = r.Add(ctx, n)
		return err
	}); err != nil {
		f.t.Fatalf("add: %v", err)
	}
	return added
}

func newNotification(typ domain.NotificationType, recipient, actor uuid.UUID, thought *uuid.UUID) domain.Notification {
	return domain.Notification{
		ID: uuid.Must(uuid.NewV7()), EventID: uuid.Must(uuid.NewV7()), Type: typ, RecipientID: recipient, ActorID: actor,
		ThoughtID: thought, CorrelationID: "corr", CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}
}

func TestNotificationRepository(t *testing.T) {
	t.Parallel()
	f := newNotificationFixture(t)
	ctx := context.Background()
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	th := f.thought(alice, "hello", "public")

	n := newNotification(domain.NotificationLike, alice, bob, &th)
	if !f.add(n) {
		t.Fatal("first add stored nothing")
	}
	// Same (event, type, recipient) under another ID: the first row wins.
	dup := n
	dup.ID = uuid.Must(uuid.NewV7())
	if f.add(dup) {
		t.Error("a duplicate (event, type, recipient) was stored")
	}
	// Same event, another type or recipient: a separate notification.
	other := n
	other.ID, other.Type, other.ThoughtID = uuid.Must(uuid.NewV7()), domain.NotificationFollow, nil
	if !f.add(other) {
		t.Error("same event, other type was not stored")
	}
	// A user who does not exist: nothing stored, no error.
	if f.add(newNotification(domain.NotificationFollow, alice, uuid.New(), nil)) || f.add(newNotification(domain.NotificationFollow, uuid.New(), bob, nil)) {
		t.Error("a notification naming a missing user was stored")
	}

	list, err := f.read.Notifications(ctx, alice, query.NotificationFilter{}, domain.Page{Limit: 10})
	if err != nil || len(list) != 2 || list[0].ID != other.ID || list[1].ID != n.ID {
		t.Fatalf("list = %+v (%v), want [follow like] by ID", list, err)
	}
	if v := list[1]; v.Type != domain.NotificationLike || v.Account.ID != bob || v.Account.Username != "bob" ||
		v.Thought == nil || v.Thought.ID != th || v.Thought.Excerpt != "hello" || v.Read || !v.CreatedAt.Equal(n.CreatedAt) {
		t.Errorf("like view = %+v", v)
	}
	filtered, err := f.read.Notifications(ctx, alice, query.NotificationFilter{Types: []domain.NotificationType{domain.NotificationFollow}}, domain.Page{Limit: 10})
	if err != nil || len(filtered) != 1 || filtered[0].ID != other.ID {
		t.Errorf("follows only = %+v (%v)", filtered, err)
	}

	// Add's guards: nothing across a block (either way), to oneself, or about a
	// thought that is deleted or that the recipient may not see.
	f.exec(`INSERT INTO blocks (blocker_id, blocked_id, id, created_at) VALUES ($1, $2, $3, now())`, carol, bob, uuid.Must(uuid.NewV7()))
	priv := f.thought(alice, "followers only", "followers")
	gone := f.thought(alice, "", "public")
	f.exec(`UPDATE thoughts SET deleted_at = now() WHERE id = $1`, gone)
	for name, n := range map[string]domain.Notification{
		"recipient blocks actor": newNotification(domain.NotificationFollow, carol, bob, nil),
		"actor blocks recipient": newNotification(domain.NotificationFollow, bob, carol, nil),
		"to oneself":             newNotification(domain.NotificationLike, alice, alice, &th),
		"invisible thought":      newNotification(domain.NotificationMention, bob, alice, &priv),
		"deleted thought":        newNotification(domain.NotificationLike, alice, bob, &gone),
		"unknown thought":        newNotification(domain.NotificationLike, alice, bob, new(uuid.New())),
	} {
		if f.add(n) {
			t.Errorf("%s: stored", name)
		}
	}
	// The guards can pass: the same without the block, and once bob follows alice.
	if !f.add(newNotification(domain.NotificationFollow, carol, alice, nil)) {
		t.Error("an unblocked follow was not stored")
	}
	f.exec(`INSERT INTO follows (follower_id, following_id, id, state, created_at, accepted_at) VALUES ($1, $2, $3, 'accepted', now(), now())`,
		bob, alice, uuid.Must(uuid.NewV7()))
	if !f.add(newNotification(domain.NotificationMention, bob, alice, &priv)) {
		t.Error("a mention in a followers-only thought was not stored for a follower")
	}
	err = f.in(func(ctx context.Context, r command.TxNotifications) error {
		ids, err := r.UserIDsByUsername(ctx, []string{"alice", "bob", "nobody"})
		if err != nil || !maps.Equal(ids, map[string]uuid.UUID{"alice": alice, "bob": bob}) {
			t.Errorf("UserIDsByUsername = %v, %v", ids, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Read state: only the recipient marks.
	now := time.Now().UTC()
	err = f.in(func(ctx context.Context, r command.TxNotifications) error {
		if err := r.MarkRead(ctx, bob, n.ID, now); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("bob marking alice's notification: %v, want ErrNotFound", err)
		}
		return r.MarkRead(ctx, alice, n.ID, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.read.UnreadNotificationsCount(ctx, alice); err != nil || c != 1 {
		t.Errorf("unread = %d, %v; want 1", c, err)
	}
	var marked int64
	if err := f.in(func(ctx context.Context, r command.TxNotifications) (err error) {
		marked, err = r.MarkAllRead(ctx, alice, now)
		return err
	}); err != nil || marked != 1 {
		t.Errorf("MarkAllRead marked %d (%v), want 1", marked, err)
	}

	var deleted int64
	if err := f.in(func(ctx context.Context, r command.TxNotifications) (err error) {
		deleted, err = r.DeleteAboutThought(ctx, th)
		return err
	}); err != nil || deleted != 1 {
		t.Errorf("DeleteAboutThought deleted %d (%v), want 1", deleted, err)
	}
	if _, err := f.read.Notification(ctx, alice, n.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("deleted notification: %v", err)
	}
}

// Add and AddToAuthor must keep a deletion out until their transaction ends
// (without an explicit one, until their statement commits) and must see a
// deletion that committed first: that is what stops a notification about a
// deleted thought from outliving the ThoughtDeleted handler, which runs once
// the deletion committed.
func TestAddHoldsOffDeletion(t *testing.T) {
	t.Parallel()
	f := newNotificationFixture(t)
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	th := f.thought(alice, "hello @carol", "public")
	for name, add := range map[string]func(ctx context.Context, r command.TxNotifications) (bool, error){
		"AddToAuthor": func(ctx context.Context, r command.TxNotifications) (bool, error) {
			return r.AddToAuthor(ctx, newNotification(domain.NotificationLike, uuid.Nil, bob, &th))
		},
		"Add": func(ctx context.Context, r command.TxNotifications) (bool, error) {
			return r.Add(ctx, newNotification(domain.NotificationMention, carol, alice, &th))
		},
	} {
		err := f.in(func(ctx context.Context, r command.TxNotifications) error {
			if added, err := add(ctx, r); err != nil || !added {
				return fmt.Errorf("%s = %v, %v; want stored", name, added, err)
			}
			// The delete command locks the row FOR UPDATE: it must wait.
			_, err := f.db.Pool.Exec(ctx, `SELECT 1 FROM thoughts WHERE id = $1 FOR UPDATE NOWAIT`, th)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
				t.Errorf("%s: FOR UPDATE while stored: %v, want lock_not_available", name, err)
			}
			// Another notification handler does not wait.
			_, err = f.db.Pool.Exec(ctx, `SELECT 1 FROM thoughts WHERE id = $1 FOR SHARE NOWAIT`, th)
			if err != nil {
				t.Errorf("%s: FOR SHARE while stored: %v", name, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	f.exec(`UPDATE thoughts SET content = '', deleted_at = now() WHERE id = $1`, th)
	// Outside a transaction, as the handler runs them.
	r := f.uow.Notifications()
	ctx := context.Background()
	if added, err := r.AddToAuthor(ctx, newNotification(domain.NotificationBoost, uuid.Nil, bob, &th)); err != nil || added {
		t.Errorf("AddToAuthor about a deleted thought = %v, %v; want nothing stored", added, err)
	}
	if added, err := r.Add(ctx, newNotification(domain.NotificationReply, carol, alice, &th)); err != nil || added {
		t.Errorf("Add about a deleted thought = %v, %v; want nothing stored", added, err)
	}
	got, err := r.Thought(ctx, th)
	if err != nil || !got.Deleted() {
		t.Errorf("Thought after deletion = %+v, %v; want a tombstone", got, err)
	}
	if _, err := r.Thought(ctx, uuid.New()); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown thought: %v, want ErrNotFound", err)
	}
}

// AddToAuthor finds the recipient itself and applies Add's rules: no
// self-notification, none across a block, one per event; outside a
// transaction each call commits on its own.
func TestAddToAuthor(t *testing.T) {
	t.Parallel()
	f := newNotificationFixture(t)
	alice, bob, mallory := f.user("alice"), f.user("bob"), f.user("mallory")
	th := f.thought(alice, "hello", "public")
	f.exec(`INSERT INTO blocks (blocker_id, blocked_id, id, created_at) VALUES ($1, $2, $3, now())`, alice, mallory, uuid.Must(uuid.NewV7()))
	r := f.uow.Notifications()
	ctx := context.Background()
	like := newNotification(domain.NotificationLike, uuid.Nil, bob, &th)
	if added, err := r.AddToAuthor(ctx, like); err != nil || !added {
		t.Fatalf("AddToAuthor = %v, %v; want stored", added, err)
	}
	if v, err := f.read.Notification(ctx, alice, like.ID); err != nil || v.Account.ID != bob || v.Thought == nil || v.Thought.ID != th {
		t.Errorf("stored like = %+v, %v; want bob's like of alice's thought", v, err)
	}
	again := like
	again.ID = uuid.Must(uuid.NewV7())
	for name, n := range map[string]domain.Notification{
		"the same event again": again,
		"by the author":        newNotification(domain.NotificationLike, uuid.Nil, alice, &th),
		"across a block":       newNotification(domain.NotificationLike, uuid.Nil, mallory, &th),
		"unknown actor":        newNotification(domain.NotificationLike, uuid.Nil, uuid.New(), &th),
		"unknown thought":      newNotification(domain.NotificationLike, uuid.Nil, bob, new(uuid.New())),
	} {
		if added, err := r.AddToAuthor(ctx, n); err != nil || added {
			t.Errorf("%s: AddToAuthor = %v, %v; want nothing stored", name, added, err)
		}
	}
	if n, err := f.read.UnreadNotificationsCount(ctx, alice); err != nil || n != 1 {
		t.Errorf("alice has %d unread (%v), want 1", n, err)
	}
}

// TestNoNotificationsForRemoteAccounts: an account of another server cannot
// read notifications here, so none is stored for one: not about its thought
// (a boost, a reply, a like), not addressed to it (a follow, a mention).
func TestNoNotificationsForRemoteAccounts(t *testing.T) {
	t.Parallel()
	f := newNotificationFixture(t)
	bob := f.user("bob")
	carol := uuid.Must(uuid.NewV7())
	iri := "https://remote.example/users/carol"
	f.exec(`INSERT INTO remote_actors (iri, host, username, actor_type, inbox, key_id, public_key_pem, fetched_at)
		VALUES ($1, 'remote.example', 'carol', 'Person', $1 || '/inbox', $1 || '#main-key', 'pem', now())`, iri)
	f.exec(`INSERT INTO users (id, username, email, password_hash, created_at, updated_at, host, actor_iri)
		VALUES ($1, 'carol', '', '', now(), now(), 'remote.example', $2)`, carol, iri)
	note := uuid.Must(uuid.NewV7())
	f.exec(`INSERT INTO thoughts (id, author_id, content, visibility, created_at, ap_iri) VALUES ($1, $2, 'hi', 'public', now(), $3)`,
		note, carol, iri+"/notes/1")
	r := f.uow.Notifications()
	ctx := context.Background()
	if added, err := r.AddToAuthor(ctx, newNotification(domain.NotificationBoost, uuid.Nil, bob, &note)); err != nil || added {
		t.Errorf("boost of a remote thought: AddToAuthor = %v, %v; want nothing stored", added, err)
	}
	if n, err := r.AddManyToAuthor(ctx, []domain.Notification{newNotification(domain.NotificationLike, uuid.Nil, bob, &note)}); err != nil || n != 0 {
		t.Errorf("like of a remote thought: AddManyToAuthor = %d, %v; want nothing stored", n, err)
	}
	if f.add(newNotification(domain.NotificationFollow, carol, bob, nil)) {
		t.Error("a follow of a remote account stored a notification for it")
	}
	// The same follow of a local account is stored: the guard is the host.
	dave := f.user("dave")
	if !f.add(newNotification(domain.NotificationFollow, dave, bob, nil)) {
		t.Error("a follow of a local account stored nothing")
	}
}

// AddManyToAuthor applies AddToAuthor's rules to each row on its own: in one
// statement, the rows that break a rule (self, block, unknown actor or
// thought, deleted thought, a duplicate within the statement or of a row
// stored before) are left out and the others stored.
func TestAddManyToAuthor(t *testing.T) {
	t.Parallel()
	f := newNotificationFixture(t)
	alice, bob, carol, mallory := f.user("alice"), f.user("bob"), f.user("carol"), f.user("mallory")
	th := f.thought(alice, "hello", "public")
	gone := f.thought(carol, "soon gone", "public")
	f.exec(`UPDATE thoughts SET content = '', deleted_at = now() WHERE id = $1`, gone)
	f.exec(`INSERT INTO blocks (blocker_id, blocked_id, id, created_at) VALUES ($1, $2, $3, now())`, alice, mallory, uuid.Must(uuid.NewV7()))
	r := f.uow.Notifications()
	ctx := context.Background()
	before := newNotification(domain.NotificationLike, uuid.Nil, bob, &th)
	if added, err := r.AddToAuthor(ctx, before); err != nil || !added {
		t.Fatalf("AddToAuthor = %v, %v; want stored", added, err)
	}
	storedAgain := before
	storedAgain.ID = uuid.Must(uuid.NewV7())
	boost := newNotification(domain.NotificationBoost, uuid.Nil, carol, &th)
	boostTwice := boost
	boostTwice.ID = uuid.Must(uuid.NewV7())
	like := newNotification(domain.NotificationLike, uuid.Nil, carol, &th)
	batch := []domain.Notification{
		boost, storedAgain, like, boostTwice,
		newNotification(domain.NotificationLike, uuid.Nil, alice, &th),      // by the author
		newNotification(domain.NotificationLike, uuid.Nil, mallory, &th),    // across a block
		newNotification(domain.NotificationLike, uuid.Nil, uuid.New(), &th), // unknown actor
		newNotification(domain.NotificationLike, uuid.Nil, bob, new(uuid.New())),
		newNotification(domain.NotificationLike, uuid.Nil, bob, &gone),
	}
	added, err := r.AddManyToAuthor(ctx, batch)
	if err != nil || added != 2 {
		t.Fatalf("AddManyToAuthor = %d, %v; want 2 stored (carol's boost and like)", added, err)
	}
	for _, n := range []domain.Notification{boost, like} {
		if v, err := f.read.Notification(ctx, alice, n.ID); err != nil || v.Account.ID != carol || v.Thought == nil || v.Thought.ID != th {
			t.Errorf("stored %s = %+v, %v; want carol's on alice's thought", n.Type, v, err)
		}
	}
	if n, err := f.read.UnreadNotificationsCount(ctx, alice); err != nil || n != 3 {
		t.Errorf("alice has %d unread (%v), want 3", n, err)
	}
	if added, err := r.AddManyToAuthor(ctx, batch); err != nil || added != 0 {
		t.Errorf("the same batch again = %d, %v; want nothing stored", added, err)
	}
	if _, err := r.AddManyToAuthor(ctx, []domain.Notification{newNotification(domain.NotificationLike, alice, bob, nil)}); err == nil {
		t.Error("a notification about no thought was accepted")
	}
}
