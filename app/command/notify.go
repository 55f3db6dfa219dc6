package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// TxNotifications stores notifications and answers the lookups the
// notification rules need, inside a command's transaction.
type TxNotifications interface {
	// Add stores n, in one statement, only if at that moment:
	//   - its actor and recipient are different users that both exist, and
	//     the recipient is a local account (another server's account cannot
	//     read notifications here; its server hears of the event through
	//     federation);
	//   - neither of them blocks the other;
	//   - it is about no thought, or about one that is not deleted and that
	//     the recipient may see (the visibility rule of the thoughts);
	//   - no notification with the same (EventID, Type, RecipientID) exists
	//     (a concurrent insert of the same one waits for the first, then adds
	//     nothing).
	// The thought it is about stays share-locked until the transaction ends
	// (without one, until the statement commits): a deletion waits for it, and
	// one that committed first is seen. It reports whether n was stored.
	Add(ctx context.Context, n domain.Notification) (bool, error)
	// AddToAuthor is Add for a notification to the author of n.ThoughtID,
	// found by the statement that inserts (n.RecipientID is ignored).
	AddToAuthor(ctx context.Context, n domain.Notification) (bool, error)
	// AddManyToAuthor is AddToAuthor for each of ns, in one statement (one
	// round trip and, outside a transaction, one commit): each is stored or
	// not by AddToAuthor's rules, whatever the others do. It reports how
	// many were stored.
	AddManyToAuthor(ctx context.Context, ns []domain.Notification) (int64, error)
	// DeleteAboutThought removes every notification that points at thoughtID.
	DeleteAboutThought(ctx context.Context, thoughtID uuid.UUID) (int64, error)
	// Thought loads a thought, tombstone or not, without locking it (Add
	// checks again, under a lock, that it is not deleted).
	Thought(ctx context.Context, id uuid.UUID) (domain.Thought, error)
	// UserIDsByUsername resolves lowercase local usernames to user IDs;
	// unknown names are left out.
	UserIDsByUsername(ctx context.Context, usernames []string) (map[string]uuid.UUID, error)
	// MentionedUserIDs lists the local users a thought mentions (as stored
	// with it), in ID order.
	MentionedUserIDs(ctx context.Context, thoughtID uuid.UUID) ([]uuid.UUID, error)
	// MarkRead marks the recipient's notification read (a no-op if it already
	// is); ErrNotFound if there is no such notification the recipient is shown.
	MarkRead(ctx context.Context, recipientID, id uuid.UUID, at time.Time) error
	// MarkAllRead marks every unread notification of the recipient read.
	MarkAllRead(ctx context.Context, recipientID uuid.UUID, at time.Time) (int64, error)
}

// NotificationStore is the storage NotifyHandler needs. Notifications serves
// the notifications outside a transaction, each call one statement committed
// on its own: every rule is checked inside the statement that inserts, so an
// explicit transaction would add a BEGIN and a COMMIT round trip per event and
// guard nothing more. InTx is for the one rule that reads before it inserts
// (a follow request notifies only a locked account).
type NotificationStore interface {
	UnitOfWork
	Notifications() TxNotifications
}

// NotifyHandler turns domain events into notifications. The router calls it
// for every event; delivery is at least once and may be concurrent, so it is
// idempotent: a notification's identity is (event ID, type, recipient) and a
// second delivery stores nothing.
//
// The rules:
//   - LikeAdded / BoostAdded: `like` / `boost` to the thought's author.
//   - FollowRequested: `follow_request` to the followed account, only if it is
//     locked when the event is handled.
//   - FollowAccepted: `follow` to the followed account (the acting account shown
//     is the follower), whether the follow was instant or a request accepted.
//   - ThoughtCreated: `reply` to the parent's author; `mention` to each existing
//     local user @mentioned in the content (case-insensitively). A parent author
//     who is also mentioned gets the `reply` only.
//   - ThoughtDeleted: notifications pointing at the thought (likes and boosts
//     of it; the reply and mentions it made) are deleted.
//   - Any other event: nothing. ThoughtUpdated notifies nobody, not even users
//     an edit newly @mentions.
//
// Never: a notification to the acting user themselves; one between two users
// where either blocks the other; one about a thought that is deleted or that
// the recipient may not see (the visibility rule of the thoughts repository).
// These are checked by TxNotifications.Add in the statement that inserts,
// which also holds off a concurrent deletion of the thought until it commits;
// what a later block or visibility change hides is hidden again at read time.
// Events naming users or thoughts that do not exist are ignored: redelivering
// them cannot help. A notification's CreatedAt is when the event happened; its
// ID is drawn when it is stored, so lists (ordered by ID) show what arrived
// last on top and a late backlog still reaches clients polling for new ones.
type NotifyHandler struct {
	UoW   NotificationStore
	Clock Clock
}

// Events are the event types Handle acts on; it ignores every other.
func (NotifyHandler) Events() []events.Event {
	return []events.Event{
		events.LikeAdded{}, events.BoostAdded{}, events.FollowRequested{}, events.FollowAccepted{},
		events.ThoughtCreated{}, events.ThoughtDeleted{},
	}
}

// errNoEventID: without an event ID there is no de-duplication key, and
// redelivering the message will not give it one.
var errNoEventID = fmt.Errorf("%w: event has no ID", events.ErrUndecodable)

// Handle applies the rules to one event.
func (h NotifyHandler) Handle(ctx context.Context, env events.Envelope) error {
	var err error
	switch ev := env.Event.(type) {
	case events.LikeAdded:
		err = h.aboutThought(ctx, env, domain.NotificationLike, ev.UserID, ev.ThoughtID)
	case events.BoostAdded:
		err = h.aboutThought(ctx, env, domain.NotificationBoost, ev.UserID, ev.ThoughtID)
	case events.FollowRequested:
		err = h.follow(ctx, env, domain.NotificationFollowRequest, ev.FollowerID, ev.FollowingID)
	case events.FollowAccepted:
		err = h.follow(ctx, env, domain.NotificationFollow, ev.FollowerID, ev.FollowingID)
	case events.ThoughtCreated:
		err = h.thoughtCreated(ctx, env, ev.ThoughtID)
	case events.ThoughtDeleted:
		_, err = h.UoW.Notifications().DeleteAboutThought(ctx, ev.ThoughtID)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("notify on %s %s: %w", env.Event.EventType(), env.ID, err)
	}
	return nil
}

// HandleBatch applies the rules to several events at once, in their order:
// each run of likes and boosts among them (nearly all the traffic) is stored
// by one statement, which checks each against AddToAuthor's rules; every
// other event is handled as Handle does. It is all or nothing only in what it reports: an error means
// some events may not have been applied, and the caller handles each of them
// again with Handle (which is idempotent, so what this stored is not stored
// twice).
func (h NotifyHandler) HandleBatch(ctx context.Context, envs []events.Envelope) error {
	var many []domain.Notification
	// flush stores the likes and boosts gathered so far: before any other
	// event, so the batch is applied in its order.
	flush := func() error {
		if len(many) == 0 {
			return nil
		}
		if _, err := h.UoW.Notifications().AddManyToAuthor(ctx, many); err != nil {
			return fmt.Errorf("notify on a batch of %d likes and boosts: %w", len(many), err)
		}
		many = many[:0]
		return nil
	}
	for _, env := range envs {
		var (
			typ              domain.NotificationType
			actor, thoughtID uuid.UUID
		)
		switch ev := env.Event.(type) {
		case events.LikeAdded:
			typ, actor, thoughtID = domain.NotificationLike, ev.UserID, ev.ThoughtID
		case events.BoostAdded:
			typ, actor, thoughtID = domain.NotificationBoost, ev.UserID, ev.ThoughtID
		default:
			if err := flush(); err != nil {
				return err
			}
			if err := h.Handle(ctx, env); err != nil {
				return err
			}
			continue
		}
		if env.ID == uuid.Nil {
			return fmt.Errorf("notify on %s: %w", env.Event.EventType(), errNoEventID)
		}
		if actor == uuid.Nil || thoughtID == uuid.Nil {
			continue
		}
		n := h.notification(env, typ, actor, uuid.Nil)
		n.ThoughtID = &thoughtID
		many = append(many, n)
	}
	return flush()
}

// aboutThought notifies the author of thoughtID that actorID acted on it, in
// one statement that finds the author, checks the rules and inserts.
func (h NotifyHandler) aboutThought(ctx context.Context, env events.Envelope, typ domain.NotificationType, actorID, thoughtID uuid.UUID) error {
	if env.ID == uuid.Nil {
		return errNoEventID
	}
	if actorID == uuid.Nil || thoughtID == uuid.Nil {
		return nil
	}
	n := h.notification(env, typ, actorID, uuid.Nil)
	n.ThoughtID = &thoughtID
	_, err := h.UoW.Notifications().AddToAuthor(ctx, n)
	return err
}

func (h NotifyHandler) follow(ctx context.Context, env events.Envelope, typ domain.NotificationType, followerID, followingID uuid.UUID) error {
	if typ != domain.NotificationFollowRequest {
		return h.notify(ctx, h.UoW.Notifications(), env, typ, followerID, followingID, nil)
	}
	// A follow request notifies only a locked account: read in the same
	// transaction as the insert.
	return h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		u, err := tx.Users().ByID(ctx, followingID)
		if errors.Is(err, domain.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !u.Locked {
			return nil
		}
		return h.notify(ctx, tx.Notifications(), env, typ, followerID, followingID, nil)
	})
}

// thoughtCreated notifies the parent's author of a reply and the mentioned
// users of a mention. The stored thought, not the event, is the source of
// truth for its author, parent and content. Each notification is stored by a
// statement of its own (a failure part-way is redelivered, and what was
// stored is not stored twice).
func (h NotifyHandler) thoughtCreated(ctx context.Context, env events.Envelope, thoughtID uuid.UUID) error {
	ns := h.UoW.Notifications()
	t, err := ns.Thought(ctx, thoughtID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.Deleted() {
		return nil
	}
	var parentAuthor uuid.UUID
	if t.InReplyToAuthorID != nil {
		parentAuthor = *t.InReplyToAuthorID
		if err := h.notify(ctx, ns, env, domain.NotificationReply, t.AuthorID, parentAuthor, &t); err != nil {
			return err
		}
	}
	var mentioned []uuid.UUID
	if t.Remote.IRI != "" {
		// A remote Note's text names accounts of other servers as @name
		// too: its mentions are the local accounts its Mention tags named,
		// stored with it.
		if mentioned, err = ns.MentionedUserIDs(ctx, t.ID); err != nil {
			return err
		}
	} else {
		names := domain.ParseMentions(t.Content)
		if len(names) == 0 {
			return nil
		}
		ids, err := ns.UserIDsByUsername(ctx, names)
		if err != nil {
			return err
		}
		for _, name := range names {
			if id, ok := ids[name]; ok {
				mentioned = append(mentioned, id)
			}
		}
	}
	// In a fixed order (the content's, or the IDs'), so concurrent
	// deliveries of this event insert in the same order and wait for each
	// other instead of deadlocking.
	for _, id := range mentioned {
		// The parent's author already has the reply: one notification
		// per person per thought. (The author is skipped by notify.)
		if id == parentAuthor {
			continue
		}
		if err := h.notify(ctx, ns, env, domain.NotificationMention, t.AuthorID, id, &t); err != nil {
			return err
		}
	}
	return nil
}

// notify stores one notification unless a rule forbids it. The rules that
// depend on other rows (blocks, existence, visibility, deletion,
// de-duplication) are checked by Add in the statement that inserts, so
// nothing can change in between.
func (h NotifyHandler) notify(ctx context.Context, ns TxNotifications, env events.Envelope, typ domain.NotificationType,
	actorID, recipientID uuid.UUID, about *domain.Thought) error {
	if env.ID == uuid.Nil {
		return errNoEventID
	}
	if actorID == recipientID || actorID == uuid.Nil || recipientID == uuid.Nil {
		return nil
	}
	n := h.notification(env, typ, actorID, recipientID)
	if about != nil {
		if about.Deleted() {
			return nil
		}
		n.ThoughtID = &about.ID
	}
	if _, err := ns.Add(ctx, n); err != nil {
		return err
	}
	return nil
}

// notification is the notification of env, with a new ID.
func (h NotifyHandler) notification(env events.Envelope, typ domain.NotificationType, actorID, recipientID uuid.UUID) domain.Notification {
	n := domain.Notification{
		ID:            newID(),
		EventID:       env.ID,
		Type:          typ,
		RecipientID:   recipientID,
		ActorID:       actorID,
		CorrelationID: env.CorrelationID,
		CreatedAt:     env.OccurredAt.UTC().Truncate(time.Microsecond),
	}
	if n.CreatedAt.IsZero() {
		clock := h.Clock
		if clock == nil {
			clock = SystemClock
		}
		n.CreatedAt = clock()
	}
	return n
}
