package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/app/query"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// Inbox is where a remote account receives activities: its own inbox, and
// its server's shared inbox if it has one.
type Inbox struct {
	Personal string
	Shared   string
	Host     string
}

// FanOut is the inbox a fan-out (a Note to many followers) uses: the shared
// one, so a server with many recipients gets it once.
func (i Inbox) FanOut() string {
	if i.Shared != "" {
		return i.Shared
	}
	return i.Personal
}

// Target is one inbox a delivery goes to.
type Target struct {
	URL  string
	Host string
}

// OutboundActivity is an activity a local actor sends (Kind "sent"), or a
// remote actor's activity the handler remembers to quote later (Kind
// "received": a remote Follow, which a Reject embeds after the follow is
// gone).
type OutboundActivity struct {
	EventID      uuid.UUID
	Kind         string
	IRI          string
	Type         string
	ActorID      uuid.UUID
	TargetUserID uuid.UUID // uuid.Nil: none
	ObjectIRI    string
	ThoughtID    uuid.UUID // uuid.Nil: none
	Payload      []byte
	OccurredAt   time.Time
	// RequireFollowIRI, if set, enqueues the activity only while a follow
	// with that activity IRI exists, and keeps it from being removed until
	// the enqueue commits: an unfollow made meanwhile then finds the Follow
	// sent, and undoes it.
	RequireFollowIRI string
}

// Activity kinds of OutboundActivity.
const (
	ActivitySent     = "sent"
	ActivityReceived = "received"
)

// OutThought is a thought as the federation handler needs it.
type OutThought struct {
	Thought domain.Thought
	Author  domain.User
	// ParentIRI is the IRI of the remote thought it replies to ("" for a
	// local parent or none; a local parent's IRI follows from its ID);
	// ParentAuthor that thought's author (zero for none).
	ParentIRI    string
	ParentAuthor domain.User
}

// OutboundStore is what the federation handler reads and writes.
type OutboundStore interface {
	// Account loads any account, remote or deleted ones included, or
	// ErrNotFound.
	Account(ctx context.Context, id uuid.UUID) (domain.User, error)
	// Inbox returns the inboxes of a remote account, ErrNotFound if it is
	// not one (or its actor is not cached).
	Inbox(ctx context.Context, userID uuid.UUID) (Inbox, error)
	// Thought loads a thought (tombstones included) with its author and
	// parent, or ErrNotFound.
	Thought(ctx context.Context, id uuid.UUID) (OutThought, error)
	// FollowerInboxes lists the inboxes of the remote accounts following
	// userID (accepted follows).
	FollowerInboxes(ctx context.Context, userID uuid.UUID) ([]Inbox, error)
	// ThoughtTargets lists the inboxes earlier activities about the thought
	// were delivered (or are being delivered) to.
	ThoughtTargets(ctx context.Context, thoughtID uuid.UUID) ([]Target, error)
	// ActorTargets lists every inbox an activity of actorID went to.
	ActorTargets(ctx context.Context, actorID uuid.UUID) ([]Target, error)
	// ActivityTargets lists the inboxes the activity of eventID went to.
	ActivityTargets(ctx context.Context, eventID uuid.UUID) ([]Target, error)
	// FollowIRI returns the activity IRI of the follow from follower to
	// following; found is false without a follow.
	FollowIRI(ctx context.Context, follower, following uuid.UUID) (iri string, found bool, err error)
	// LastActivity finds the latest activity of kind and typ by actorID that
	// occurred before before, about targetUserID (if not Nil) and thoughtID
	// (if not Nil); found is false if there is none.
	LastActivity(ctx context.Context, kind, typ string, actorID, targetUserID, thoughtID uuid.UUID, before time.Time) (OutboundActivity, bool, error)
	// Enqueue stores a and one pending delivery per target, in one
	// transaction, unless an activity of a.EventID is already stored (then
	// it stores nothing: the event was handled). enqueued reports whether
	// it stored a.
	Enqueue(ctx context.Context, a OutboundActivity, targets []Target) (enqueued bool, err error)
}

// RemoteActorResolver resolves remote actors (ResolveRemoteActorHandler).
type RemoteActorResolver interface {
	Handle(ctx context.Context, cmd ResolveRemoteActor) (domain.RemoteActor, error)
}

// FederateHandler is the federation handler: it turns domain events whose
// actor is a local account into ActivityPub activities and enqueues one
// delivery per remote inbox (the delivery worker posts them). Events whose
// actor is remote came from the inbox and are never sent back out.
//
// Idempotent: each event enqueues at most one activity (keyed by the
// event's ID), with its deliveries, in one transaction; a redelivered event
// enqueues nothing.
type FederateHandler struct {
	Store OutboundStore
	IRIs  vocab.IRIs
	// Resolve finds the remote accounts a thought @mentions (name@host);
	// nil leaves remote mentions unresolved.
	Resolve RemoteActorResolver
	// ResolveTimeout bounds resolving each mention: 10 s if 0.
	ResolveTimeout time.Duration
	Logger         *slog.Logger
}

// Events are the event types the handler acts on. Of the likes, only those
// of thoughts from other servers (their own topic): a like of a local thought
// has nobody elsewhere to tell, and likes are most of a busy instance's
// events.
func (FederateHandler) Events() []events.Event {
	return []events.Event{
		events.ThoughtCreated{}, events.ThoughtUpdated{}, events.ThoughtDeleted{},
		events.LikeAdded{RemoteThought: true}, events.LikeRemoved{}, events.BoostAdded{}, events.BoostRemoved{},
		events.FollowRequested{}, events.FollowAccepted{}, events.FollowRejected{}, events.Unfollowed{},
		events.UserBlocked{}, events.UserUnblocked{}, events.UserDeleted{},
	}
}

// maxRemoteMentions bounds the remote accounts one thought may address.
const maxRemoteMentions = 20

// Handle federates one event.
func (h FederateHandler) Handle(ctx context.Context, env events.Envelope) error {
	if env.ID == uuid.Nil {
		return errNoEventID
	}
	var err error
	switch ev := env.Event.(type) {
	case events.ThoughtCreated:
		err = h.note(ctx, env, ev.ThoughtID, "Create")
	case events.ThoughtUpdated:
		err = h.note(ctx, env, ev.ThoughtID, "Update")
	case events.ThoughtDeleted:
		err = h.deleteNote(ctx, env, ev.ThoughtID)
	case events.LikeAdded:
		err = h.like(ctx, env, ev)
	case events.LikeRemoved:
		err = h.undo(ctx, env, ev.UserID, "Like", uuid.Nil, ev.ThoughtID)
	case events.BoostAdded:
		err = h.announce(ctx, env, ev)
	case events.BoostRemoved:
		err = h.undo(ctx, env, ev.UserID, "Announce", uuid.Nil, ev.ThoughtID)
	case events.FollowRequested:
		err = h.followRequested(ctx, env, ev.FollowerID, ev.FollowingID)
	case events.FollowAccepted:
		err = h.answer(ctx, env, "Accept", ev.FollowerID, ev.FollowingID)
	case events.FollowRejected:
		err = h.answer(ctx, env, "Reject", ev.FollowerID, ev.FollowingID)
	case events.Unfollowed:
		err = h.undo(ctx, env, ev.FollowerID, "Follow", ev.FollowingID, uuid.Nil)
	case events.UserBlocked:
		err = h.block(ctx, env, ev.BlockerID, ev.BlockedID)
	case events.UserUnblocked:
		err = h.undo(ctx, env, ev.BlockerID, "Block", ev.BlockedID, uuid.Nil)
	case events.UserDeleted:
		err = h.deleteActor(ctx, env, ev.UserID)
	default:
		return nil
	}
	if errors.Is(err, errIgnore) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("federate %s %s: %w", env.Event.EventType(), env.ID, err)
	}
	return nil
}

// errIgnore ends handling of an event that names something gone or is
// not for federation: redelivering it cannot help.
var errIgnore = errors.New("nothing to federate")

// thought loads a thought with its author (tombstones included); an unknown
// one is errIgnore.
func (h FederateHandler) thought(ctx context.Context, id uuid.UUID) (OutThought, error) {
	t, err := h.Store.Thought(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return OutThought{}, errIgnore
	}
	return t, err
}

// local loads a local account (deleted ones included); a remote one, or
// none, is errIgnore.
func (h FederateHandler) local(ctx context.Context, id uuid.UUID) (domain.User, error) {
	u, err := h.Store.Account(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, errIgnore
	}
	if err != nil {
		return domain.User{}, err
	}
	if u.Remote() {
		return domain.User{}, errIgnore
	}
	return u, nil
}

// remote loads a remote account and its inboxes; anything else is
// errIgnore.
func (h FederateHandler) remote(ctx context.Context, id uuid.UUID) (domain.User, Inbox, error) {
	u, err := h.Store.Account(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, Inbox{}, errIgnore
	}
	if err != nil {
		return domain.User{}, Inbox{}, err
	}
	if !u.Remote() {
		return domain.User{}, Inbox{}, errIgnore
	}
	in, err := h.Store.Inbox(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, Inbox{}, errIgnore
	}
	return u, in, err
}

func (h FederateHandler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// targets collects de-duplicated delivery targets.
type targets struct {
	list []Target
	seen map[string]bool
}

func (t *targets) add(url, host string) {
	if url == "" {
		return
	}
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	if t.seen[url] {
		return
	}
	t.seen[url] = true
	t.list = append(t.list, Target{URL: url, Host: host})
}

func (t *targets) fanOut(ins ...Inbox) {
	for _, in := range ins {
		t.add(in.FanOut(), in.Host)
	}
}

func (t *targets) addAll(ts []Target) {
	for _, x := range ts {
		t.add(x.URL, x.Host)
	}
}

func (h FederateHandler) enqueue(ctx context.Context, a OutboundActivity, payload any, ts *targets) error {
	if len(ts.list) == 0 {
		return nil
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("marshal %s: %w", a.Type, err)
	}
	a.Kind, a.Payload = ActivitySent, body
	enqueued, err := h.Store.Enqueue(ctx, a, ts.list)
	if err != nil {
		return err
	}
	if enqueued {
		h.log().InfoContext(ctx, "federation: activity enqueued", "activity", a.IRI, "type", a.Type,
			"deliveries", len(ts.list), "event_id", a.EventID)
	}
	return nil
}

// noteOf builds the Note of a local, live thought, resolving the remote
// accounts it mentions; it returns the inboxes of those and of the remote
// author it replies to.
func (h FederateHandler) noteOf(ctx context.Context, t OutThought) (vocab.Note, []Inbox, error) {
	var mentions []vocab.Mention
	var inboxes []Inbox
	for i, handle := range domain.ParseRemoteMentions(t.Thought.Content) {
		if i >= maxRemoteMentions || h.Resolve == nil {
			break
		}
		timeout := h.ResolveTimeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		a, err := h.Resolve.Handle(rctx, ResolveRemoteActor{Handle: handle})
		cancel()
		if err != nil {
			// The text keeps the handle; the Note goes to everyone else.
			h.log().WarnContext(ctx, "federation: mention not resolved", "handle", handle, "thought_id", t.Thought.ID, "err", err)
			continue
		}
		mentions = append(mentions, vocab.Mention{Href: a.IRI, Name: "@" + a.Handle()})
		inboxes = append(inboxes, Inbox{Personal: a.Inbox, Shared: a.SharedInbox, Host: a.Host})
	}
	if p := t.ParentAuthor; p.Remote() && !slices.ContainsFunc(mentions, func(m vocab.Mention) bool { return m.Href == p.ActorIRI }) {
		in, err := h.Store.Inbox(ctx, p.ID)
		switch {
		case err == nil:
			inboxes = append(inboxes, in)
			// Addressed like a mention, without the tag: the text does not
			// name them.
			mentions = append(mentions, vocab.Mention{Href: p.ActorIRI})
		case !errors.Is(err, domain.ErrNotFound):
			return vocab.Note{}, nil, err
		}
	}
	view := query.ThoughtView{Thought: t.Thought, Author: query.UserSummary{ID: t.Author.ID, Username: t.Author.Username, DisplayName: t.Author.DisplayName}}
	var tagged []vocab.Mention
	var ccOnly []string
	for _, m := range mentions {
		if m.Name == "" {
			ccOnly = append(ccOnly, m.Href)
			continue
		}
		tagged = append(tagged, m)
	}
	parent := t.ParentIRI
	if parent == "" && t.Thought.InReplyToID != nil && t.ParentAuthor.ID != uuid.Nil && !t.ParentAuthor.Remote() {
		parent = h.IRIs.Thought(t.ParentAuthor.Username, *t.Thought.InReplyToID)
	}
	n := h.IRIs.NoteTo(view, parent, tagged)
	for _, href := range ccOnly {
		if !slices.Contains(n.Cc, href) && !slices.Contains(n.To, href) {
			n.Cc = append(n.Cc, href)
		}
	}
	return n, inboxes, nil
}

// note sends the Create or Update of a local thought to the author's remote
// followers, the remote accounts it mentions and the remote author it
// replies to (an Update also to everyone an earlier activity reached).
func (h FederateHandler) note(ctx context.Context, env events.Envelope, thoughtID uuid.UUID, typ string) error {
	t, err := h.thought(ctx, thoughtID)
	if err != nil {
		return err
	}
	if t.Author.Remote() || t.Thought.Deleted() {
		return errIgnore // remote: from the inbox; deleted: its Delete follows
	}
	n, inboxes, err := h.noteOf(ctx, t)
	if err != nil {
		return err
	}
	var ts targets
	followers, err := h.Store.FollowerInboxes(ctx, t.Author.ID)
	if err != nil {
		return err
	}
	ts.fanOut(followers...)
	ts.fanOut(inboxes...)
	name := t.Author.Username
	a := OutboundActivity{EventID: env.ID, Type: typ, ActorID: t.Author.ID, ObjectIRI: n.ID, ThoughtID: t.Thought.ID, OccurredAt: env.OccurredAt}
	var payload any
	if typ == "Update" {
		previous, err := h.Store.ThoughtTargets(ctx, t.Thought.ID)
		if err != nil {
			return err
		}
		ts.addAll(previous)
		a.IRI = h.IRIs.ThoughtUpdate(name, t.Thought.ID, env.ID)
		payload = vocab.UpdateNote(a.IRI, n, env.OccurredAt)
	} else {
		view := query.ThoughtView{Thought: t.Thought, Author: query.UserSummary{Username: name}}
		act := h.IRIs.CreateNote(view, n)
		a.IRI, payload = act.ID, act
	}
	return h.enqueue(ctx, a, payload, &ts)
}

// deleteNote sends the Delete of a local thought to every inbox an earlier
// activity about it reached, and to the author's remote followers.
func (h FederateHandler) deleteNote(ctx context.Context, env events.Envelope, thoughtID uuid.UUID) error {
	t, err := h.thought(ctx, thoughtID)
	if err != nil {
		return err
	}
	if t.Author.Remote() {
		return errIgnore
	}
	var ts targets
	previous, err := h.Store.ThoughtTargets(ctx, t.Thought.ID)
	if err != nil {
		return err
	}
	ts.addAll(previous)
	followers, err := h.Store.FollowerInboxes(ctx, t.Author.ID)
	if err != nil {
		return err
	}
	ts.fanOut(followers...)
	name := t.Author.Username
	noteID := h.IRIs.Thought(name, t.Thought.ID)
	to, cc := h.IRIs.Addressing(name, t.Thought.Visibility, nil)
	a := OutboundActivity{EventID: env.ID, IRI: h.IRIs.ThoughtDelete(name, t.Thought.ID), Type: "Delete",
		ActorID: t.Author.ID, ObjectIRI: noteID, ThoughtID: t.Thought.ID, OccurredAt: env.OccurredAt}
	return h.enqueue(ctx, a, vocab.DeleteNote(a.IRI, h.IRIs.Actor(name), noteID, to, cc), &ts)
}

// noteIRIs names a thought's Note and its author's actor, local or remote.
func (h FederateHandler) noteIRIs(t OutThought) (note, author string) {
	if t.Author.Remote() {
		return t.Thought.Remote.IRI, t.Author.ActorIRI
	}
	return h.IRIs.Thought(t.Author.Username, t.Thought.ID), h.IRIs.Actor(t.Author.Username)
}

// like sends a local user's Like of a remote thought to its author.
func (h FederateHandler) like(ctx context.Context, env events.Envelope, ev events.LikeAdded) error {
	u, err := h.local(ctx, ev.UserID)
	if err != nil {
		return err
	}
	t, err := h.thought(ctx, ev.ThoughtID)
	if err != nil {
		return err
	}
	if !t.Author.Remote() || t.Thought.Remote.IRI == "" {
		return errIgnore
	}
	_, in, err := h.remote(ctx, t.Author.ID)
	if err != nil {
		return err
	}
	note, author := h.noteIRIs(t)
	var ts targets
	ts.add(in.Personal, in.Host)
	a := OutboundActivity{EventID: env.ID, IRI: h.IRIs.Like(u.Username, ev.LikeID), Type: "Like", ActorID: u.ID,
		TargetUserID: t.Author.ID, ObjectIRI: note, ThoughtID: t.Thought.ID, OccurredAt: env.OccurredAt}
	return h.enqueue(ctx, a, vocab.LikeOf(a.IRI, h.IRIs.Actor(u.Username), note, author), &ts)
}

// announce sends a local user's boost to their remote followers and to the
// thought's remote author.
func (h FederateHandler) announce(ctx context.Context, env events.Envelope, ev events.BoostAdded) error {
	u, err := h.local(ctx, ev.UserID)
	if err != nil {
		return err
	}
	t, err := h.thought(ctx, ev.ThoughtID)
	if err != nil {
		return err
	}
	if t.Thought.Deleted() || t.Thought.Visibility == domain.VisibilityFollowers {
		return errIgnore
	}
	var ts targets
	followers, err := h.Store.FollowerInboxes(ctx, u.ID)
	if err != nil {
		return err
	}
	ts.fanOut(followers...)
	if t.Author.Remote() {
		_, in, err := h.remote(ctx, t.Author.ID)
		if err != nil && !errors.Is(err, errIgnore) {
			return err
		}
		ts.fanOut(in)
	}
	note, author := h.noteIRIs(t)
	a := OutboundActivity{EventID: env.ID, IRI: h.IRIs.Boost(u.Username, ev.BoostID), Type: "Announce", ActorID: u.ID,
		TargetUserID: t.Author.ID, ObjectIRI: note, ThoughtID: t.Thought.ID, OccurredAt: env.OccurredAt}
	return h.enqueue(ctx, a, h.IRIs.AnnounceOf(a.IRI, u.Username, note, author, env.OccurredAt), &ts)
}

// followRequested sends a local user's Follow of a remote account, or
// remembers a remote account's Follow of a local one (a Reject quotes it
// after the request is gone).
func (h FederateHandler) followRequested(ctx context.Context, env events.Envelope, followerID, followingID uuid.UUID) error {
	follower, err := h.Store.Account(ctx, followerID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	iri, found, err := h.Store.FollowIRI(ctx, followerID, followingID)
	if err != nil || !found || iri == "" {
		return err
	}
	if follower.Remote() {
		following, err := h.Store.Account(ctx, followingID)
		if err != nil || following.Remote() {
			return nil //nolint:nilerr // a gone or remote account: nothing to remember
		}
		_, err = h.Store.Enqueue(ctx, OutboundActivity{EventID: env.ID, Kind: ActivityReceived, IRI: iri, Type: "Follow",
			ActorID: followerID, TargetUserID: followingID, ObjectIRI: h.IRIs.Actor(following.Username), OccurredAt: env.OccurredAt}, nil)
		return err
	}
	target, in, err := h.remote(ctx, followingID)
	if err != nil {
		return err
	}
	var ts targets
	ts.add(in.Personal, in.Host)
	a := OutboundActivity{EventID: env.ID, IRI: iri, Type: "Follow", ActorID: follower.ID, TargetUserID: target.ID,
		ObjectIRI: target.ActorIRI, OccurredAt: env.OccurredAt, RequireFollowIRI: iri}
	return h.enqueue(ctx, a, vocab.FollowOf(iri, h.IRIs.Actor(follower.Username), target.ActorIRI), &ts)
}

// answer sends a local user's Accept or Reject of a remote account's
// follow, with the remote Follow embedded.
func (h FederateHandler) answer(ctx context.Context, env events.Envelope, typ string, followerID, followingID uuid.UUID) error {
	me, err := h.local(ctx, followingID)
	if err != nil {
		return err
	}
	follower, in, err := h.remote(ctx, followerID)
	if err != nil {
		return err
	}
	iri, found, err := h.Store.FollowIRI(ctx, followerID, followingID)
	if err != nil {
		return err
	}
	if typ == "Accept" && !found {
		return errIgnore // gone again (unfollowed, blocked): nothing to accept
	}
	if iri == "" {
		prev, ok, err := h.Store.LastActivity(ctx, ActivityReceived, "Follow", followerID, followingID, uuid.Nil, env.OccurredAt.Add(time.Second))
		if err != nil {
			return err
		}
		if ok {
			iri = prev.IRI
		}
	}
	follow := vocab.FollowOf(iri, follower.ActorIRI, h.IRIs.Actor(me.Username))
	kind := "accepts"
	if typ == "Reject" {
		kind = "rejects"
	}
	var ts targets
	ts.add(in.Personal, in.Host)
	a := OutboundActivity{EventID: env.ID, IRI: h.IRIs.ActorActivity(me.Username, kind, env.ID), Type: typ, ActorID: me.ID,
		TargetUserID: follower.ID, ObjectIRI: iri, OccurredAt: env.OccurredAt}
	return h.enqueue(ctx, a, vocab.Answer(typ, a.IRI, h.IRIs.Actor(me.Username), follow), &ts)
}

// block sends a local user's Block of a remote account to it.
func (h FederateHandler) block(ctx context.Context, env events.Envelope, blockerID, blockedID uuid.UUID) error {
	me, err := h.local(ctx, blockerID)
	if err != nil {
		return err
	}
	target, in, err := h.remote(ctx, blockedID)
	if err != nil {
		return err
	}
	var ts targets
	ts.add(in.Personal, in.Host)
	a := OutboundActivity{EventID: env.ID, IRI: h.IRIs.Block(me.Username, env.ID), Type: "Block", ActorID: me.ID,
		TargetUserID: target.ID, ObjectIRI: target.ActorIRI, OccurredAt: env.OccurredAt}
	return h.enqueue(ctx, a, vocab.BlockOf(a.IRI, h.IRIs.Actor(me.Username), target.ActorIRI), &ts)
}

// undo sends the Undo of the latest activity of typ the local actor sent
// before the event (about target or thought), to every inbox that activity
// reached. Nothing was sent, nothing to undo.
func (h FederateHandler) undo(ctx context.Context, env events.Envelope, actorID uuid.UUID, typ string, targetID, thoughtID uuid.UUID) error {
	me, err := h.local(ctx, actorID)
	if err != nil {
		return err
	}
	prev, found, err := h.Store.LastActivity(ctx, ActivitySent, typ, me.ID, targetID, thoughtID, env.OccurredAt.Add(time.Second))
	if err != nil || !found {
		return err
	}
	var original vocab.SimpleActivity
	if err := json.Unmarshal(prev.Payload, &original); err != nil {
		return fmt.Errorf("%w: stored %s %s does not decode: %v", errIgnore, typ, prev.IRI, err)
	}
	sent, err := h.Store.ActivityTargets(ctx, prev.EventID)
	if err != nil {
		return err
	}
	var ts targets
	ts.addAll(sent)
	a := OutboundActivity{EventID: env.ID, IRI: h.IRIs.ActorActivity(me.Username, "undos", env.ID), Type: "Undo", ActorID: me.ID,
		TargetUserID: prev.TargetUserID, ObjectIRI: prev.IRI, ThoughtID: prev.ThoughtID, OccurredAt: env.OccurredAt}
	return h.enqueue(ctx, a, vocab.Undo(a.IRI, h.IRIs.Actor(me.Username), original), &ts)
}

// deleteActor sends Delete(Person) for a deleted local account to every
// inbox anything of theirs reached (their follows are gone by now).
func (h FederateHandler) deleteActor(ctx context.Context, env events.Envelope, userID uuid.UUID) error {
	me, err := h.local(ctx, userID)
	if err != nil {
		return err
	}
	sent, err := h.Store.ActorTargets(ctx, me.ID)
	if err != nil {
		return err
	}
	var ts targets
	ts.addAll(sent)
	actor := h.IRIs.Actor(me.Username)
	a := OutboundActivity{EventID: env.ID, IRI: h.IRIs.ActorDelete(me.Username), Type: "Delete", ActorID: me.ID,
		ObjectIRI: actor, OccurredAt: env.OccurredAt}
	return h.enqueue(ctx, a, vocab.DeleteActor(a.IRI, actor), &ts)
}
