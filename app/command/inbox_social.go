package command

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// follow: a remote account follows (or asks to follow) a local one.
func (in inbound) follow(ctx context.Context) error {
	obj, err := in.object()
	if err != nil {
		return err
	}
	return in.apply(ctx, func(ctx context.Context, tx Tx) error {
		target, err := in.localUser(ctx, tx, obj.ID)
		if err != nil {
			return err
		}
		g := tx.Graph()
		if err := g.LockPair(ctx, in.actor(), target.ID); err != nil {
			return err
		}
		rel, err := g.Relationship(ctx, in.actor(), target.ID)
		if err != nil {
			return err
		}
		f, err := domain.NewFollow(newID(), in.actor(), target, rel, in.h.Clock())
		if err != nil {
			return rejected("%v", err)
		}
		added, err := g.AddFollow(ctx, f)
		if err != nil {
			return err
		}
		if !added {
			// Following already (or asked): the newest Follow is the one an
			// Accept must quote.
			existing, err := g.FollowOf(ctx, in.actor(), target.ID)
			if err != nil {
				return err
			}
			return tx.Federated().SetActivity(ctx, KindFollow, existing.ID, in.act.ID)
		}
		if err := tx.Federated().SetActivity(ctx, KindFollow, f.ID, in.act.ID); err != nil {
			return err
		}
		var ev events.Event = events.FollowAccepted{FollowerID: f.FollowerID, FollowingID: f.FollowingID}
		if f.State == domain.FollowPending {
			ev = events.FollowRequested{FollowerID: f.FollowerID, FollowingID: f.FollowingID}
		}
		return in.publish(ctx, tx, ev)
	})
}

// answer: Accept or Reject of a Follow we sent.
func (in inbound) answer(ctx context.Context) error {
	obj, err := in.object()
	if err != nil {
		return err
	}
	return in.apply(ctx, func(ctx context.Context, tx Tx) error {
		f, err := in.ourFollow(ctx, tx, obj)
		if errors.Is(err, domain.ErrNotFound) {
			return ignored("no follow of ours matches %s", obj.ID)
		}
		if err != nil {
			return err
		}
		if f.FollowingID != in.actor() {
			return rejected("only the followed account may answer a follow")
		}
		g := tx.Graph()
		if err := g.LockPair(ctx, f.FollowerID, f.FollowingID); err != nil {
			return err
		}
		if in.act.Type == "Accept" {
			accepted, err := g.AcceptFollow(ctx, f.FollowerID, f.FollowingID, in.h.Clock())
			if err != nil || !accepted {
				return err
			}
			return in.publish(ctx, tx, events.FollowAccepted{FollowerID: f.FollowerID, FollowingID: f.FollowingID})
		}
		_, removed, err := g.RemoveFollow(ctx, f.FollowerID, f.FollowingID)
		if err != nil || !removed {
			return err
		}
		return in.publish(ctx, tx, events.FollowRejected{FollowerID: f.FollowerID, FollowingID: f.FollowingID})
	})
}

// ourFollow finds the follow an Accept or Reject answers: by the Follow's
// id (stored with the follow, or our own IRI for it), else by what the
// embedded Follow says (a local follower, this actor followed).
func (in inbound) ourFollow(ctx context.Context, tx Tx, o *vocab.Incoming) (domain.Follow, error) {
	fed := tx.Federated()
	if o.ID != "" {
		f, err := fed.FollowByActivity(ctx, o.ID)
		if !errors.Is(err, domain.ErrNotFound) {
			return f, err
		}
		if id, ok := in.h.IRIs.LocalFollow(o.ID); ok {
			f, err := fed.FollowByID(ctx, id)
			if !errors.Is(err, domain.ErrNotFound) {
				return f, err
			}
		}
	}
	if o.Embedded && o.Type == "Follow" && o.Object != nil && o.Object.ID == in.act.Actor {
		follower, err := in.localUser(ctx, tx, o.Actor)
		if err != nil {
			return domain.Follow{}, domain.Errorf(domain.ErrNotFound, "follow not found")
		}
		return tx.Graph().FollowOf(ctx, follower.ID, in.actor())
	}
	return domain.Follow{}, domain.Errorf(domain.ErrNotFound, "follow not found")
}

// like: a remote account likes a thought we have.
func (in inbound) like(ctx context.Context) error {
	obj, err := in.object()
	if err != nil {
		return err
	}
	return in.apply(ctx, func(ctx context.Context, tx Tx) error {
		t, err := in.known(ctx, tx, "thought", obj.ID)
		if err != nil {
			return err
		}
		like, err := domain.NewLike(newID(), in.actor(), t.ID, in.h.Clock())
		if err != nil {
			return err
		}
		added, remote, err := tx.Interactions().AddLikeIfVisible(ctx, like)
		if isDomain(err) {
			return ignored("%v", err)
		}
		if err != nil || !added {
			return err
		}
		if err := tx.Federated().SetActivity(ctx, KindLike, like.ID, in.act.ID); err != nil {
			return err
		}
		return in.publish(ctx, tx, events.LikeAdded{LikeID: like.ID, UserID: in.actor(), ThoughtID: t.ID, RemoteThought: remote})
	})
}

// announce: a remote account boosts a thought. A remote thought we do not
// have is fetched first, when a local user follows the booster (their home
// feed shows the boost).
func (in inbound) announce(ctx context.Context) error {
	obj, err := in.object()
	if err != nil {
		return err
	}
	var known, followed bool
	err = in.h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		_, err := in.h.thoughtByIRI(ctx, tx, obj.ID)
		if known = err == nil; err != nil && !errors.Is(err, domain.ErrNotFound) {
			return err
		}
		followed, err = tx.Federated().LocalFollowerOf(ctx, in.actor())
		return err
	})
	if err != nil {
		return err
	}
	if !known {
		if !followed || in.h.IRIs.IsLocal(obj.ID) {
			return ignored("unknown thought %s", obj.ID)
		}
		if _, err := in.h.fetchNote(ctx, obj.ID, 0); err != nil {
			if errors.Is(err, ErrFetchPermanent) {
				return ignored("%v", err)
			}
			return err
		}
	}
	return in.apply(ctx, func(ctx context.Context, tx Tx) error {
		t, err := in.known(ctx, tx, "thought", obj.ID)
		if err != nil {
			return err
		}
		if _, err := tx.Thoughts().VisibleTo(ctx, in.actor(), t.ID); err != nil {
			if isDomain(err) {
				return ignored("%v", err)
			}
			return err
		}
		b, err := domain.NewBoost(newID(), in.actor(), t, in.h.Clock())
		if isDomain(err) {
			return ignored("%v", err)
		}
		if err != nil {
			return err
		}
		added, err := tx.Interactions().AddBoost(ctx, b)
		if err != nil || !added {
			return err
		}
		if err := tx.Federated().SetActivity(ctx, KindBoost, b.ID, in.act.ID); err != nil {
			return err
		}
		return in.publish(ctx, tx, events.BoostAdded{BoostID: b.ID, UserID: in.actor(), ThoughtID: t.ID})
	})
}

// block: a remote account blocks a local one.
func (in inbound) block(ctx context.Context) error {
	obj, err := in.object()
	if err != nil {
		return err
	}
	return in.apply(ctx, func(ctx context.Context, tx Tx) error {
		target, err := in.localUser(ctx, tx, obj.ID)
		if err != nil {
			return err
		}
		if err := tx.Graph().LockPair(ctx, in.actor(), target.ID); err != nil {
			return err
		}
		id, added, envs, err := addBlock(ctx, tx, in.actor(), target.ID, in.h.Clock())
		if isDomain(err) {
			return rejected("%v", err)
		}
		if err != nil || !added {
			return err
		}
		if err := tx.Federated().SetActivity(ctx, KindBlock, id, in.act.ID); err != nil {
			return err
		}
		return tx.Publish(ctx, envs...)
	})
}

// undo takes back a Follow, Like, Announce or Block: found by the id of the
// activity undone, else by what the embedded activity says. Only its actor
// may undo it.
func (in inbound) undo(ctx context.Context) error {
	inner, err := in.object()
	if err != nil {
		return err
	}
	if inner.Embedded && inner.Actor != "" && inner.Actor != in.act.Actor {
		return rejected("only the actor of an activity may undo it")
	}
	return in.apply(ctx, func(ctx context.Context, tx Tx) error {
		fed := tx.Federated()
		if inner.ID != "" {
			if f, err := fed.FollowByActivity(ctx, inner.ID); err == nil {
				return in.unfollow(ctx, tx, f)
			} else if !errors.Is(err, domain.ErrNotFound) {
				return err
			}
			if l, err := fed.LikeByActivity(ctx, inner.ID); err == nil {
				return in.unlike(ctx, tx, l.UserID, l.ThoughtID)
			} else if !errors.Is(err, domain.ErrNotFound) {
				return err
			}
			if b, err := fed.BoostByActivity(ctx, inner.ID); err == nil {
				return in.unboost(ctx, tx, b.UserID, b.ThoughtID)
			} else if !errors.Is(err, domain.ErrNotFound) {
				return err
			}
			if b, err := fed.BlockByActivity(ctx, inner.ID); err == nil {
				return in.unblock(ctx, tx, b.BlockerID, b.BlockedID)
			} else if !errors.Is(err, domain.ErrNotFound) {
				return err
			}
		}
		if !inner.Embedded || inner.Object == nil {
			return ignored("nothing to undo for %s", inner.ID)
		}
		switch inner.Type {
		case "Follow":
			target, err := in.localUser(ctx, tx, inner.Object.ID)
			if err != nil {
				return err
			}
			f, err := tx.Graph().FollowOf(ctx, in.actor(), target.ID)
			if errors.Is(err, domain.ErrNotFound) {
				return ignored("no such follow")
			}
			if err != nil {
				return err
			}
			return in.unfollow(ctx, tx, f)
		case "Like", "Announce":
			t, err := in.h.thoughtByIRI(ctx, tx, inner.Object.ID)
			if errors.Is(err, domain.ErrNotFound) {
				return ignored("unknown thought %s", inner.Object.ID)
			}
			if err != nil {
				return err
			}
			if inner.Type == "Like" {
				return in.unlike(ctx, tx, in.actor(), t.ID)
			}
			return in.unboost(ctx, tx, in.actor(), t.ID)
		case "Block":
			target, err := in.localUser(ctx, tx, inner.Object.ID)
			if err != nil {
				return err
			}
			return in.unblock(ctx, tx, in.actor(), target.ID)
		}
		return ignored("Undo of %s is not supported", inner.Type)
	})
}

func (in inbound) unfollow(ctx context.Context, tx Tx, f domain.Follow) error {
	if f.FollowerID != in.actor() {
		return rejected("only the follower may undo a follow")
	}
	g := tx.Graph()
	if err := g.LockPair(ctx, f.FollowerID, f.FollowingID); err != nil {
		return err
	}
	_, removed, err := g.RemoveFollow(ctx, f.FollowerID, f.FollowingID)
	if err != nil || !removed {
		return err
	}
	return in.publish(ctx, tx, events.Unfollowed{FollowerID: f.FollowerID, FollowingID: f.FollowingID})
}

func (in inbound) unlike(ctx context.Context, tx Tx, userID, thoughtID uuid.UUID) error {
	if userID != in.actor() {
		return rejected("only the liker may undo a like")
	}
	removed, err := tx.Interactions().RemoveLike(ctx, userID, thoughtID)
	if err != nil || !removed {
		return err
	}
	return in.publish(ctx, tx, events.LikeRemoved{UserID: userID, ThoughtID: thoughtID})
}

func (in inbound) unboost(ctx context.Context, tx Tx, userID, thoughtID uuid.UUID) error {
	if userID != in.actor() {
		return rejected("only the booster may undo a boost")
	}
	removed, err := tx.Interactions().RemoveBoost(ctx, userID, thoughtID)
	if err != nil || !removed {
		return err
	}
	return in.publish(ctx, tx, events.BoostRemoved{UserID: userID, ThoughtID: thoughtID})
}

func (in inbound) unblock(ctx context.Context, tx Tx, blocker, blocked uuid.UUID) error {
	if blocker != in.actor() {
		return rejected("only the blocker may undo a block")
	}
	if err := tx.Graph().LockPair(ctx, blocker, blocked); err != nil {
		return err
	}
	removed, err := tx.Graph().RemoveBlock(ctx, blocker, blocked)
	if err != nil || !removed {
		return err
	}
	return in.publish(ctx, tx, events.UserUnblocked{BlockerID: blocker, BlockedID: blocked})
}

// known loads the thought with the given IRI; one we do not have is an
// activity to ignore ("unknown <noun> <iri>"), not an error to retry.
func (in inbound) known(ctx context.Context, tx Tx, noun, iri string) (domain.Thought, error) {
	t, err := in.h.thoughtByIRI(ctx, tx, iri)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Thought{}, ignored("unknown %s %s", noun, iri)
	}
	return t, err
}
