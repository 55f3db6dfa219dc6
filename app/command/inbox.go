package command

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// DefaultMaxThreadDepth bounds how many parents are fetched, one after the
// other, for a reply whose parent we do not have.
const DefaultMaxThreadDepth = 20

// ActorResolver resolves remote actors (ResolveRemoteActorHandler).
type ActorResolver interface {
	Handle(ctx context.Context, cmd ResolveRemoteActor) (domain.RemoteActor, error)
}

// ProcessActivityHandler applies the activities the inbox received: the
// router calls it for each ActivityReceived (and for each ParentWanted, the
// fetching of a reply's missing parent). Delivery is at least once and an
// activity may be delivered by its sender more than once, so it is
// idempotent twice over: an inbox entry is applied in the transaction that
// marks it processed (a redelivered event finds it processed and does
// nothing), and an activity id is stored once by the inbox.
//
// What each activity does is what the same act of a local user does, with
// the same domain events, the remote account being the actor:
//   - Follow of a local user: a request if the account is locked
//     (FollowRequested), else a follow (FollowAccepted); Undo(Follow)
//     removes it (Unfollowed).
//   - Accept / Reject of a Follow we sent (matched by its id, or by the
//     embedded Follow): FollowAccepted / FollowRejected.
//   - Like, Announce, Block and their Undo: LikeAdded/Removed,
//     BoostAdded/Removed, UserBlocked (with its Unfollowed)/UserUnblocked.
//   - Create(Note): stored when addressed to, mentioning or replying to
//     someone here, or by an actor a local user follows (ThoughtCreated);
//     Update(Note): ThoughtUpdated; Delete(Note): a tombstone
//     (ThoughtDeleted); Delete of the actor: its content goes and its
//     account is deleted (UserDeleted); Update(Person): the actor is fetched
//     again.
//
// Only an object's owner may update, delete or undo it: anything else is
// rejected, recorded as such, and not retried. So is a malformed activity.
// Failures that may pass (the database, a remote server) are returned and
// retried by the router, then poisoned; the raw activity stays in the inbox
// until it is processed.
type ProcessActivityHandler struct {
	UoW     UnitOfWork
	Actors  ActorResolver
	Objects ObjectFetcher
	HTML    HTMLSanitizer
	IRIs    vocab.IRIs
	Clock   Clock
	// MaxThreadDepth: 0 is DefaultMaxThreadDepth.
	MaxThreadDepth int
}

// Events are the events the handler acts on.
func (ProcessActivityHandler) Events() []events.Event {
	return []events.Event{events.ActivityReceived{}, events.ParentWanted{}}
}

// Handle applies one event.
func (h ProcessActivityHandler) Handle(ctx context.Context, env events.Envelope) error {
	var err error
	switch ev := env.Event.(type) {
	case events.ActivityReceived:
		err = h.received(ctx, ev.ID)
	case events.ParentWanted:
		err = h.parentWanted(ctx, ev)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("inbox: %s %s: %w", env.Event.EventType(), env.ID, err)
	}
	return nil
}

// verdict ends the processing of an activity without applying it: ignored
// (nothing here it concerns) or rejected (not allowed, malformed). It is
// recorded, and never retried.
type verdict struct{ outcome string }

func (v *verdict) Error() string { return v.outcome }

func ignored(format string, args ...any) error {
	return &verdict{"ignored: " + fmt.Sprintf(format, args...)}
}

func rejected(format string, args ...any) error {
	return &verdict{"rejected: " + fmt.Sprintf(format, args...)}
}

// errProcessed: another delivery of the event got there first.
var errProcessed = errors.New("already processed")

// inbound is one activity being processed.
type inbound struct {
	h   ProcessActivityHandler
	row domain.InboxActivity
	act vocab.Incoming
}

func (h ProcessActivityHandler) received(ctx context.Context, id uuid.UUID) error {
	var row domain.InboxActivity
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		row, err = tx.Inbox().ByID(ctx, id)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		return nil // nothing to apply: redelivering will not change that
	}
	if err != nil {
		return fmt.Errorf("load activity: %w", err)
	}
	if row.Processed() {
		return nil
	}
	act, err := vocab.ParseActivity(row.Raw)
	if err != nil {
		return h.finish(ctx, row.ID, rejected("%v", err))
	}
	in := inbound{h: h, row: row, act: act}
	switch act.Type {
	case "Follow":
		err = in.follow(ctx)
	case "Undo":
		err = in.undo(ctx)
	case "Accept", "Reject":
		err = in.answer(ctx)
	case "Like":
		err = in.like(ctx)
	case "Announce":
		err = in.announce(ctx)
	case "Create":
		err = in.create(ctx)
	case "Update":
		err = in.update(ctx)
	case "Delete":
		err = in.delete(ctx)
	case "Block":
		err = in.block(ctx)
	default:
		err = ignored("%s activities are not supported", act.Type)
	}
	var v *verdict
	if errors.As(err, &v) {
		return h.finish(ctx, row.ID, v)
	}
	return err
}

// apply runs fn in a transaction with the activity locked, and marks it
// processed ("applied") in the same one; a verdict from fn rolls fn's
// changes back and records the verdict instead. The actor's account must
// still exist.
func (in inbound) apply(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	now := in.h.Clock()
	err := in.h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		row, err := tx.Inbox().ByID(ctx, in.row.ID)
		if err != nil {
			return err
		}
		if row.Processed() {
			return errProcessed
		}
		if _, err := tx.Users().ByID(ctx, in.row.ActorID); errors.Is(err, domain.ErrNotFound) {
			return ignored("the actor's account is deleted")
		} else if err != nil {
			return err
		}
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return tx.Inbox().MarkProcessed(ctx, in.row.ID, "applied", now)
	})
	if errors.Is(err, errProcessed) {
		return nil
	}
	return err
}

// finish records a verdict on an activity that was not applied.
func (h ProcessActivityHandler) finish(ctx context.Context, id uuid.UUID, v error) error {
	// What a remote server sent ends up in the reason: keep it storable.
	outcome := strings.ToValidUTF8(strings.ReplaceAll(v.Error(), "\x00", ""), "\uFFFD")
	if len(outcome) > 500 {
		outcome = strings.ToValidUTF8(outcome[:500], "")
	}
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		row, err := tx.Inbox().ByID(ctx, id)
		if err != nil || row.Processed() {
			return err
		}
		return tx.Inbox().MarkProcessed(ctx, id, outcome, h.Clock())
	})
	if err != nil {
		return fmt.Errorf("record outcome %q: %w", outcome, err)
	}
	return nil
}

// actor is the remote account that sent the activity.
func (in inbound) actor() uuid.UUID { return in.row.ActorID }

// publish appends ev, acted by the remote account.
func (in inbound) publish(ctx context.Context, tx Tx, evs ...events.Event) error {
	now := in.h.Clock()
	envs := make([]events.Envelope, len(evs))
	for i, ev := range evs {
		envs[i] = events.New(ctx, in.actor(), ev, now)
	}
	return tx.Publish(ctx, envs...)
}

// object is the activity's object; a verdict when it has none.
func (in inbound) object() (*vocab.Incoming, error) {
	if in.act.Object == nil || in.act.Object.ID == "" && !in.act.Object.Embedded {
		return nil, rejected("a %s needs an object", in.act.Type)
	}
	return in.act.Object, nil
}

// localUser is the local account an IRI names, or a verdict.
func (in inbound) localUser(ctx context.Context, tx Tx, iri string) (domain.User, error) {
	name, ok := in.h.IRIs.LocalUsername(iri)
	if !ok || domain.ValidateUsername(name) != nil {
		return domain.User{}, ignored("%s is not an account here", iri)
	}
	u, err := tx.Users().ByUsername(ctx, name)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, ignored("no account %s here", name)
	}
	return u, err
}

// thoughtByIRI finds a thought by its Note's IRI: ours, or a remote one we
// stored. ErrNotFound for anything else.
func (h ProcessActivityHandler) thoughtByIRI(ctx context.Context, tx Tx, iri string) (domain.Thought, error) {
	if id, ok := h.IRIs.LocalThought(iri); ok {
		t, err := tx.Thoughts().ByID(ctx, id)
		if err == nil && t.Remote.IRI != "" {
			return domain.Thought{}, domain.Errorf(domain.ErrNotFound, "thought not found")
		}
		return t, err
	}
	if h.IRIs.IsLocal(iri) || iri == "" {
		return domain.Thought{}, domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	return tx.Federated().ThoughtByIRI(ctx, iri)
}

// isDomain reports whether err is one of the domain's refusals (as opposed
// to a failure that may pass).
func isDomain(err error) bool {
	var verr *domain.ValidationError
	return errors.As(err, &verr) || slices.ContainsFunc([]error{domain.ErrNotFound, domain.ErrGone,
		domain.ErrConflict, domain.ErrForbidden, domain.ErrUnprocessable}, func(e error) bool { return errors.Is(err, e) })
}
