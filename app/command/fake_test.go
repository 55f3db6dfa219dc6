package command_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// fakeState is what the fake stores. The fake holds no follows or blocks, so
// the visibility rule reduces to: followers-only thoughts are seen by their
// author alone; and no block ever stands between two users.
type fakeState struct {
	thoughts      map[uuid.UUID]domain.Thought
	users         map[uuid.UUID]domain.User
	likes         map[interaction]domain.Like
	boosts        map[interaction]domain.Boost
	notifications []domain.Notification
}

type interaction struct{ user, thought uuid.UUID }

func (s fakeState) clone() fakeState {
	return fakeState{
		thoughts:      maps.Clone(s.thoughts),
		users:         maps.Clone(s.users),
		likes:         maps.Clone(s.likes),
		boosts:        maps.Clone(s.boosts),
		notifications: slices.Clone(s.notifications),
	}
}

func (s fakeState) visibleTo(viewer, id uuid.UUID) (domain.Thought, error) {
	th, ok := s.thoughts[id]
	if !ok || th.Visibility == domain.VisibilityFollowers && th.AuthorID != viewer {
		return domain.Thought{}, domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	return th, nil
}

// fakeStore is an in-memory command.NotificationStore. A transaction works
// on a copy and commits it only if fn succeeds, like the real one;
// transactions run one at a time. Notifications() outside a transaction
// commits each call on its own, as the real one does.
type fakeStore struct {
	mu sync.Mutex
	fakeState
	outbox []events.Envelope
	txs    int // transactions begun
}

var _ command.NotificationStore = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{fakeState: fakeState{
		thoughts: map[uuid.UUID]domain.Thought{}, users: map[uuid.UUID]domain.User{},
		likes: map[interaction]domain.Like{}, boosts: map[interaction]domain.Boost{},
	}}
}

func (s *fakeStore) InTx(ctx context.Context, fn func(ctx context.Context, tx command.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txs++
	tx := &fakeTx{state: s.clone()}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	s.fakeState = tx.state
	s.outbox = append(s.outbox, tx.outbox...)
	return nil
}

func (s *fakeStore) Notifications() command.TxNotifications {
	return fakeNotifications{do: func(f func(*fakeState)) {
		s.mu.Lock()
		defer s.mu.Unlock()
		f(&s.fakeState)
	}}
}

// addUser stores a user directly, as a test fixture.
func (s *fakeStore) addUser(name string, locked bool) domain.User {
	u, err := domain.NewUser(uuid.Must(uuid.NewV7()), name, name+"@example.org", "hash", fixedNow)
	if err != nil {
		panic(err)
	}
	u.Locked = locked
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
	return u
}

// fakeTx implements what the commands under test use; other methods of
// command.Tx are left to the embedded nil interface (calling one panics).
type fakeTx struct {
	command.Tx
	state  fakeState
	outbox []events.Envelope
}

func (t *fakeTx) Users() domain.UserRepository               { return fakeUsers{t} }
func (t *fakeTx) Thoughts() command.TxThoughts               { return fakeThoughts{t} }
func (t *fakeTx) Interactions() domain.InteractionRepository { return fakeInteractions{t} }
func (t *fakeTx) Notifications() command.TxNotifications {
	return fakeNotifications{do: func(f func(*fakeState)) { f(&t.state) }}
}
func (t *fakeTx) Publish(_ context.Context, envs ...events.Envelope) error {
	t.outbox = append(t.outbox, envs...)
	return nil
}

type fakeUsers struct{ tx *fakeTx }

func (f fakeUsers) Create(_ context.Context, u domain.User) error {
	for _, o := range f.tx.state.users {
		if strings.EqualFold(o.Username, u.Username) || strings.EqualFold(o.Email, u.Email) {
			return domain.Errorf(domain.ErrConflict, "username or email is taken")
		}
	}
	f.tx.state.users[u.ID] = u
	return nil
}
func (f fakeUsers) ByID(_ context.Context, id uuid.UUID) (domain.User, error) {
	if u, ok := f.tx.state.users[id]; ok {
		return u, nil
	}
	return domain.User{}, domain.Errorf(domain.ErrNotFound, "user not found")
}
func (f fakeUsers) ByUsername(ctx context.Context, username string) (domain.User, error) {
	for _, u := range f.tx.state.users {
		if strings.EqualFold(u.Username, username) {
			return u, nil
		}
	}
	return domain.User{}, domain.Errorf(domain.ErrNotFound, "user not found")
}
func (f fakeUsers) ByLogin(ctx context.Context, login string) (domain.User, error) {
	for _, u := range f.tx.state.users {
		if strings.EqualFold(u.Username, login) || strings.EqualFold(u.Email, login) {
			return u, nil
		}
	}
	return domain.User{}, domain.Errorf(domain.ErrNotFound, "user not found")
}
func (f fakeUsers) SetPassword(ctx context.Context, id uuid.UUID, hash string, at time.Time) error {
	u, err := f.ByID(ctx, id)
	if err != nil {
		return err
	}
	u.PasswordHash, u.UpdatedAt = hash, at
	f.tx.state.users[id] = u
	return nil
}
func (f fakeUsers) Delete(ctx context.Context, id uuid.UUID, _ time.Time) error {
	if _, err := f.ByID(ctx, id); err != nil {
		return err
	}
	delete(f.tx.state.users, id)
	return nil
}
func (f fakeUsers) Update(ctx context.Context, u domain.User) error {
	if _, err := f.ByID(ctx, u.ID); err != nil {
		return err
	}
	f.tx.state.users[u.ID] = u
	return nil
}

type fakeThoughts struct{ tx *fakeTx }

func (f fakeThoughts) Create(_ context.Context, th domain.Thought) error {
	f.tx.state.thoughts[th.ID] = th
	return nil
}
func (f fakeThoughts) ByID(_ context.Context, id uuid.UUID) (domain.Thought, error) {
	th, ok := f.tx.state.thoughts[id]
	if !ok {
		return domain.Thought{}, domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	return th, nil
}
func (f fakeThoughts) Update(_ context.Context, th domain.Thought) error {
	f.tx.state.thoughts[th.ID] = th
	return nil
}
func (f fakeThoughts) VisibleTo(_ context.Context, viewer, id uuid.UUID) (domain.Thought, error) {
	return f.tx.state.visibleTo(viewer, id)
}

type fakeInteractions struct{ tx *fakeTx }

func (f fakeInteractions) AddLikeIfVisible(_ context.Context, l domain.Like) (bool, bool, error) {
	th, err := f.tx.state.visibleTo(l.UserID, l.ThoughtID)
	if err != nil {
		return false, false, err
	}
	if err := th.CheckLive(); err != nil {
		return false, false, err
	}
	k := interaction{l.UserID, l.ThoughtID}
	if _, ok := f.tx.state.likes[k]; ok {
		return false, false, nil
	}
	f.tx.state.likes[k] = l
	return true, th.Remote.IRI != "", nil
}
func (f fakeInteractions) RemoveLike(_ context.Context, userID, thoughtID uuid.UUID) (bool, error) {
	k := interaction{userID, thoughtID}
	_, ok := f.tx.state.likes[k]
	delete(f.tx.state.likes, k)
	return ok, nil
}
func (f fakeInteractions) AddBoost(_ context.Context, b domain.Boost) (bool, error) {
	k := interaction{b.UserID, b.ThoughtID}
	if _, ok := f.tx.state.boosts[k]; ok {
		return false, nil
	}
	f.tx.state.boosts[k] = b
	return true, nil
}
func (f fakeInteractions) RemoveBoost(_ context.Context, userID, thoughtID uuid.UUID) (bool, error) {
	k := interaction{userID, thoughtID}
	_, ok := f.tx.state.boosts[k]
	delete(f.tx.state.boosts, k)
	return ok, nil
}

// fakeNotifications applies the guards of command.TxNotifications.Add that
// the fake's state can express (there are no blocks to check).
type fakeNotifications struct {
	// do runs f on the state the calls work on: the store's, one call at a
	// time, or a transaction's.
	do func(f func(*fakeState))
}

func (f fakeNotifications) Add(_ context.Context, n domain.Notification) (added bool, err error) {
	f.do(func(s *fakeState) { added = s.addNotification(n) })
	return added, nil
}

func (f fakeNotifications) AddToAuthor(_ context.Context, n domain.Notification) (added bool, err error) {
	f.do(func(s *fakeState) {
		th, ok := s.thoughts[*n.ThoughtID]
		if !ok {
			return
		}
		n.RecipientID = th.AuthorID
		added = s.addNotification(n)
	})
	return added, nil
}

func (f fakeNotifications) AddManyToAuthor(ctx context.Context, ns []domain.Notification) (added int64, err error) {
	for _, n := range ns {
		ok, err := f.AddToAuthor(ctx, n)
		if err != nil {
			return added, err
		}
		if ok {
			added++
		}
	}
	return added, nil
}

func (s *fakeState) addNotification(n domain.Notification) bool {
	_, actor := s.users[n.ActorID]
	_, recipient := s.users[n.RecipientID]
	if n.ActorID == n.RecipientID || !actor || !recipient {
		return false
	}
	if !s.shown(n) {
		return false
	}
	for _, o := range s.notifications {
		if o.EventID == n.EventID && o.Type == n.Type && o.RecipientID == n.RecipientID {
			return false
		}
	}
	s.notifications = append(s.notifications, n)
	return true
}

// shown is whether the recipient is shown n: not if it is about a thought
// deleted since, or one they may no longer see.
func (s *fakeState) shown(n domain.Notification) bool {
	if n.ThoughtID == nil {
		return true
	}
	th, err := s.visibleTo(n.RecipientID, *n.ThoughtID)
	return err == nil && !th.Deleted()
}

func (f fakeNotifications) DeleteAboutThought(_ context.Context, thoughtID uuid.UUID) (deleted int64, err error) {
	f.do(func(s *fakeState) {
		before := len(s.notifications)
		s.notifications = slices.DeleteFunc(s.notifications, func(n domain.Notification) bool {
			return n.ThoughtID != nil && *n.ThoughtID == thoughtID
		})
		deleted = int64(before - len(s.notifications))
	})
	return deleted, nil
}

func (f fakeNotifications) Thought(_ context.Context, id uuid.UUID) (th domain.Thought, err error) {
	f.do(func(s *fakeState) {
		var ok bool
		if th, ok = s.thoughts[id]; !ok {
			err = domain.Errorf(domain.ErrNotFound, "thought not found")
		}
	})
	return th, err
}

// MentionedUserIDs serves remote thoughts only, which the fakes never hold;
// asking it about one is a test's mistake.
func (f fakeNotifications) MentionedUserIDs(context.Context, uuid.UUID) ([]uuid.UUID, error) {
	return nil, errors.New("fake: no remote thoughts here")
}

func (f fakeNotifications) UserIDsByUsername(_ context.Context, usernames []string) (map[string]uuid.UUID, error) {
	out := map[string]uuid.UUID{}
	f.do(func(s *fakeState) {
		for _, u := range s.users {
			if name := strings.ToLower(u.Username); slices.Contains(usernames, name) {
				out[name] = u.ID
			}
		}
	})
	return out, nil
}

func (f fakeNotifications) MarkRead(_ context.Context, recipientID, id uuid.UUID, at time.Time) (err error) {
	f.do(func(s *fakeState) {
		for i, n := range s.notifications {
			if n.ID == id && n.RecipientID == recipientID && s.shown(n) {
				if n.ReadAt == nil {
					s.notifications[i].ReadAt = &at
				}
				return
			}
		}
		err = domain.Errorf(domain.ErrNotFound, "notification not found")
	})
	return err
}

func (f fakeNotifications) MarkAllRead(_ context.Context, recipientID uuid.UUID, at time.Time) (marked int64, err error) {
	f.do(func(s *fakeState) {
		for i, n := range s.notifications {
			if n.RecipientID == recipientID && n.ReadAt == nil {
				s.notifications[i].ReadAt = &at
				marked++
			}
		}
	})
	return marked, nil
}
