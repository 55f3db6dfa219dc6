package command_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// FuzzInboxActivity: receiving and applying any document never panics.
// Receiving refuses what is not an activity with a validation error;
// applying an activity that concerns nothing here, or is malformed, records
// a verdict and returns no error (it would only be retried in vain). The
// world the fuzzer's activities land in is a small in-memory one: one local
// user (alice, who follows the sender), one of her thoughts, one remote
// thought, nothing else; fetches fail for good.
func FuzzInboxActivity(f *testing.F) {
	const base = "https://here.example"
	for _, s := range []string{
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://there.example/a/1","type":"Follow","actor":"https://there.example/users/bob","object":"https://here.example/users/alice"}`,
		`{"@context":["https://www.w3.org/ns/activitystreams",{"x":1}],"id":"https://there.example/a/2","type":"Undo","actor":"https://there.example/users/bob","object":{"type":"Like","actor":"https://there.example/users/bob","object":"https://here.example/users/alice/thoughts/0190f5b4-7d2a-7c4e-8e4a-1a2b3c4d5e6f"}}`,
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://there.example/a/3","type":"Create","actor":"https://there.example/users/bob","object":{"id":"https://there.example/n/1","type":"Note","attributedTo":"https://there.example/users/bob","content":"<p>hi <script>x</script>#tag</p>","to":["https://www.w3.org/ns/activitystreams#Public"],"tag":[{"type":"Mention","href":"https://here.example/users/alice"},{"type":"Hashtag","name":"#tag"}],"inReplyTo":"https://there.example/n/0"}}`,
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://there.example/a/4","type":["Accept"],"actor":["https://there.example/users/bob"],"object":{"type":"Follow","actor":"https://here.example/users/alice","object":"https://there.example/users/bob"}}`,
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://there.example/a/5","type":"Delete","actor":"https://there.example/users/bob","object":{"id":"https://there.example/n/1","type":"Tombstone"}}`,
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://there.example/a/6","type":"Update","actor":"https://there.example/users/bob","object":{"id":"https://there.example/n/1","type":"Note","attributedTo":"https://there.example/users/bob","contentMap":{"en":"x"},"summary":"cw\u0000"}}`,
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://there.example/a/7","type":"Announce","actor":"https://there.example/users/bob","object":[{"id":"https://there.example/n/9"}]}`,
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://there.example/a/8","type":"Block","actor":"https://there.example/users/bob","object":"https://here.example/users/alice"}`,
		`{"type":`, `[]`, `null`, `{"@context":"https://www.w3.org/ns/activitystreams"}`,
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://evil.example/a","type":"Like","actor":"https://there.example/users/bob","object":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ctx := context.Background()
		act, perr := vocab.ParseActivity(raw)
		if perr != nil && !errors.Is(perr, vocab.ErrMalformed) {
			t.Fatalf("ParseActivity: an unclean error %v", perr)
		}
		w := newInboxWorld(base)
		received := command.ReceiveActivityHandler{UoW: w, Signers: command.RemoteSignerHandler{Keys: w}, Clock: w.clock}
		got, err := received.Handle(ctx, command.ReceiveActivity{KeyID: w.signer.KeyID, Body: raw})
		var verr *domain.ValidationError
		switch {
		case perr != nil:
			if !errors.As(err, &verr) {
				t.Fatalf("a malformed activity was received: %v", err)
			}
			return
		case act.Actor != w.signer.IRI:
			if !errors.Is(err, domain.ErrUnauthenticated) {
				t.Fatalf("an activity of %s signed by %s: %v", act.Actor, w.signer.IRI, err)
			}
			return
		case err != nil:
			t.Fatalf("receive: %v", err)
		}
		h := command.ProcessActivityHandler{
			UoW: w, Actors: failingResolver{}, Objects: failingObjects{}, HTML: plainHTML{},
			IRIs: vocab.IRIs{Base: base}, Clock: w.clock,
		}
		env := events.New(ctx, w.signer.UserID, events.ActivityReceived{ID: got.ID}, w.clock())
		if err := h.Handle(ctx, env); err != nil && !errors.Is(err, errResolve) {
			t.Fatalf("apply %s: %v", act.Type, err)
		}
		if row := w.inbox[got.ID]; err == nil && !row.Processed() {
			t.Fatalf("an activity applied without error is not marked processed")
		}
		// Everything stored must be storable: PostgreSQL text takes no NUL
		// and only valid UTF-8.
		storable := func(what, v string) {
			if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
				t.Fatalf("%s %q cannot be stored", what, v)
			}
		}
		for _, row := range w.inbox {
			storable("outcome", row.Outcome)
			storable("activity type", row.Type)
			storable("activity id", row.IRI)
		}
		for _, th := range w.thought {
			for what, v := range map[string]string{"content": th.Content, "warning": th.ContentWarning, "html": th.Remote.ContentHTML,
				"iri": th.Remote.IRI, "url": th.Remote.URL, "parent iri": th.Remote.InReplyToIRI} {
				storable(what, v)
			}
		}
		for _, e := range w.outbox {
			if _, err := events.Marshal(e.Event); err != nil {
				t.Fatalf("published an unencodable event: %v", err)
			}
		}
	})
}

var errResolve = errors.New("fuzz: no remote server answers")

type failingResolver struct{}

func (failingResolver) Handle(context.Context, command.ResolveRemoteActor) (domain.RemoteActor, error) {
	return domain.RemoteActor{}, errResolve
}

type failingObjects struct{}

func (failingObjects) FetchObject(context.Context, string) ([]byte, error) {
	return nil, command.ErrFetchPermanent
}

// plainHTML stands in for the sanitiser: it drops angle brackets.
type plainHTML struct{}

func (plainHTML) HTML(s string) string { return strings.NewReplacer("<", "", ">", "").Replace(s) }
func (plainHTML) Text(s string) string { return plainHTML{}.HTML(s) }

// inboxWorld is the fuzzer's in-memory world: a command.UnitOfWork whose
// transactions see a handful of rows. Writes succeed and are forgotten,
// except the inbox's and the outbox's.
type inboxWorld struct {
	signer  domain.RemoteActor
	alice   domain.User
	mine    domain.Thought
	theirs  domain.Thought
	inbox   map[uuid.UUID]domain.InboxActivity
	outbox  []events.Envelope
	now     time.Time
	thought map[uuid.UUID]domain.Thought
}

func newInboxWorld(base string) *inboxWorld {
	bob := uuid.MustParse("0190f5b4-7d2a-7c4e-8e4a-000000000b0b")
	alice := domain.User{ID: uuid.MustParse("0190f5b4-7d2a-7c4e-8e4a-00000000a11c"), Username: "alice"}
	w := &inboxWorld{
		signer: domain.RemoteActor{IRI: "https://there.example/users/bob", Host: "there.example", Username: "bob",
			KeyID: "https://there.example/users/bob#main-key", UserID: bob},
		alice: alice,
		mine: domain.Thought{ID: uuid.MustParse("0190f5b4-7d2a-7c4e-8e4a-1a2b3c4d5e6f"), AuthorID: alice.ID,
			Content: "mine", Visibility: domain.VisibilityPublic},
		theirs: domain.Thought{ID: uuid.New(), AuthorID: bob, Content: "theirs", Visibility: domain.VisibilityPublic,
			Remote: domain.RemoteNote{IRI: "https://there.example/n/1"}},
		inbox: map[uuid.UUID]domain.InboxActivity{},
		now:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	w.thought = map[uuid.UUID]domain.Thought{w.mine.ID: w.mine, w.theirs.ID: w.theirs}
	return w
}

func (w *inboxWorld) clock() time.Time { return w.now }

func (w *inboxWorld) ByKeyID(_ context.Context, keyID string) (domain.RemoteActor, error) {
	if keyID == w.signer.KeyID {
		return w.signer, nil
	}
	return domain.RemoteActor{}, domain.Errorf(domain.ErrNotFound, "no key")
}

func (w *inboxWorld) InTx(ctx context.Context, fn func(ctx context.Context, tx command.Tx) error) error {
	return fn(ctx, worldTx{w})
}

var notFound = domain.Errorf(domain.ErrNotFound, "not found")

// worldTx serves the repositories the inbox uses; any other method of
// command.Tx panics (the embedded nil interface), which the fuzzer reports.
type worldTx struct{ w *inboxWorld }

func (t worldTx) Users() domain.UserRepository               { return worldUsers(t) }
func (t worldTx) Thoughts() command.TxThoughts               { return worldThoughts(t) }
func (t worldTx) Interactions() domain.InteractionRepository { return worldInteractions{} }
func (t worldTx) Graph() domain.GraphRepository              { return worldGraph{} }
func (t worldTx) Entities() domain.EntityRepository          { return worldEntities{} }
func (t worldTx) Accounts() command.AccountEraser            { return worldAccounts{} }
func (t worldTx) Inbox() command.InboxRepository             { return worldInbox(t) }
func (t worldTx) Federated() command.FederatedRepository     { return worldFederated(t) }
func (t worldTx) APIKeys() domain.APIKeyRepository           { panic("APIKeys") }
func (t worldTx) Sessions() domain.SessionRepository         { panic("Sessions") }
func (t worldTx) Notifications() command.TxNotifications     { panic("Notifications") }
func (t worldTx) Publish(_ context.Context, envs ...events.Envelope) error {
	t.w.outbox = append(t.w.outbox, envs...)
	return nil
}

type worldUsers worldTx

func (u worldUsers) Create(context.Context, domain.User) error { return nil }
func (u worldUsers) ByID(_ context.Context, id uuid.UUID) (domain.User, error) {
	switch id {
	case u.w.alice.ID:
		return u.w.alice, nil
	case u.w.signer.UserID:
		return domain.User{ID: id, Username: "bob", Host: "there.example", ActorIRI: u.w.signer.IRI}, nil
	}
	return domain.User{}, notFound
}
func (u worldUsers) ByUsername(_ context.Context, name string) (domain.User, error) {
	if name == "alice" {
		return u.w.alice, nil
	}
	return domain.User{}, notFound
}
func (u worldUsers) Update(context.Context, domain.User) error                       { return nil }
func (u worldUsers) SetPassword(context.Context, uuid.UUID, string, time.Time) error { return nil }
func (u worldUsers) Delete(context.Context, uuid.UUID, time.Time) error              { return nil }

type worldThoughts worldTx

func (r worldThoughts) Create(_ context.Context, t domain.Thought) error {
	r.w.thought[t.ID] = t
	return nil
}
func (r worldThoughts) ByID(_ context.Context, id uuid.UUID) (domain.Thought, error) {
	if t, ok := r.w.thought[id]; ok {
		return t, nil
	}
	return domain.Thought{}, notFound
}
func (r worldThoughts) Update(_ context.Context, t domain.Thought) error {
	r.w.thought[t.ID] = t
	return nil
}
func (r worldThoughts) VisibleTo(ctx context.Context, _, id uuid.UUID) (domain.Thought, error) {
	return r.ByID(ctx, id)
}

type worldInteractions struct{}

func (worldInteractions) AddLikeIfVisible(context.Context, domain.Like) (bool, bool, error) {
	return true, false, nil
}
func (worldInteractions) RemoveLike(context.Context, uuid.UUID, uuid.UUID) (bool, error) {
	return true, nil
}
func (worldInteractions) AddBoost(context.Context, domain.Boost) (bool, error) { return true, nil }
func (worldInteractions) RemoveBoost(context.Context, uuid.UUID, uuid.UUID) (bool, error) {
	return true, nil
}

type worldGraph struct{}

func (worldGraph) LockPair(context.Context, uuid.UUID, uuid.UUID) error { return nil }
func (worldGraph) Relationship(_ context.Context, _, other uuid.UUID) (domain.Relationship, error) {
	return domain.Relationship{UserID: other}, nil
}
func (worldGraph) AddFollow(context.Context, domain.Follow) (bool, error) { return true, nil }
func (worldGraph) FollowOf(context.Context, uuid.UUID, uuid.UUID) (domain.Follow, error) {
	return domain.Follow{}, notFound
}
func (worldGraph) AcceptFollow(context.Context, uuid.UUID, uuid.UUID, time.Time) (bool, error) {
	return true, nil
}
func (worldGraph) RemoveFollow(context.Context, uuid.UUID, uuid.UUID) (domain.Follow, bool, error) {
	return domain.Follow{}, false, nil
}
func (worldGraph) AddBlock(context.Context, domain.Block) (bool, error)            { return true, nil }
func (worldGraph) RemoveBlock(context.Context, uuid.UUID, uuid.UUID) (bool, error) { return true, nil }
func (worldGraph) ReplaceTopFriends(context.Context, uuid.UUID, []uuid.UUID) error { return nil }
func (worldGraph) RemoveTopFriend(context.Context, uuid.UUID, uuid.UUID) error     { return nil }

type worldEntities struct{}

func (worldEntities) ReplaceTags(context.Context, uuid.UUID, []string, time.Time) error { return nil }
func (worldEntities) ReplaceMentions(context.Context, uuid.UUID, []string) error        { return nil }

type worldAccounts struct{}

func (worldAccounts) EraseContent(context.Context, uuid.UUID, time.Time) error { return nil }

type worldInbox worldTx

func (r worldInbox) Add(_ context.Context, a domain.InboxActivity) (bool, error) {
	r.w.inbox[a.ID] = a
	return true, nil
}
func (r worldInbox) ByID(_ context.Context, id uuid.UUID) (domain.InboxActivity, error) {
	if a, ok := r.w.inbox[id]; ok {
		return a, nil
	}
	return domain.InboxActivity{}, notFound
}
func (r worldInbox) MarkProcessed(_ context.Context, id uuid.UUID, outcome string, at time.Time) error {
	a := r.w.inbox[id]
	a.ProcessedAt, a.Outcome, a.Raw = &at, outcome, nil
	r.w.inbox[id] = a
	return nil
}

func (r worldInbox) PruneProcessed(_ context.Context, before time.Time, limit int) (int64, error) {
	var n int64
	for id, a := range r.w.inbox {
		if int(n) < limit && a.ProcessedAt != nil && a.ProcessedAt.Before(before) {
			delete(r.w.inbox, id)
			n++
		}
	}
	return n, nil
}

type worldFederated worldTx

func (r worldFederated) ThoughtByIRI(_ context.Context, iri string) (domain.Thought, error) {
	for _, t := range r.w.thought {
		if t.Remote.IRI != "" && t.Remote.IRI == iri {
			return t, nil
		}
	}
	return domain.Thought{}, notFound
}
func (r worldFederated) LinkReplies(context.Context, domain.Thought) (int64, error) { return 0, nil }
func (r worldFederated) LocalFollowerOf(_ context.Context, id uuid.UUID) (bool, error) {
	return id == r.w.signer.UserID, nil
}
func (r worldFederated) FollowByID(context.Context, uuid.UUID) (domain.Follow, error) {
	return domain.Follow{}, notFound
}
func (r worldFederated) FollowByActivity(context.Context, string) (domain.Follow, error) {
	return domain.Follow{}, notFound
}
func (r worldFederated) LikeByActivity(context.Context, string) (domain.Like, error) {
	return domain.Like{}, notFound
}
func (r worldFederated) BoostByActivity(context.Context, string) (domain.Boost, error) {
	return domain.Boost{}, notFound
}
func (r worldFederated) BlockByActivity(context.Context, string) (domain.Block, error) {
	return domain.Block{}, notFound
}
func (r worldFederated) SetActivity(context.Context, command.ActivityKind, uuid.UUID, string) error {
	return nil
}
