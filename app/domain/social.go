package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// FollowState says whether a follow is in force or awaits the followed
// account's answer (locked accounts approve their followers).
type FollowState string

// The states of a follow.
const (
	FollowPending  FollowState = "pending"
	FollowAccepted FollowState = "accepted"
)

// Follow is FollowerID following (or asking to follow) FollowingID. ID is a
// UUIDv7, the cursor of follower and following lists.
type Follow struct {
	ID          uuid.UUID
	FollowerID  uuid.UUID
	FollowingID uuid.UUID
	State       FollowState
	CreatedAt   time.Time
	AcceptedAt  *time.Time
	// ActivityIRI is the id of the Follow activity behind a follow that
	// crosses servers: ours, sent to a remote account, or a remote
	// follower's, quoted back in Accept and Reject. "" for a local follow.
	ActivityIRI string
}

// NewFollow builds follower's follow of target: a request for a locked
// account, in force at once otherwise. rel is how the follower stands with
// the target, read under GraphRepository.LockPair so that it cannot change
// before the follow is stored. Following yourself is refused; an account that
// blocks the follower does not exist for them (ErrNotFound, as wherever a
// block hides an account); one the follower blocks must be unblocked first.
func NewFollow(id, follower uuid.UUID, target User, rel Relationship, now time.Time) (Follow, error) {
	switch {
	case follower == target.ID:
		return Follow{}, Errorf(ErrUnprocessable, "you cannot follow yourself")
	case rel.BlockedBy:
		return Follow{}, Errorf(ErrNotFound, "user not found")
	case rel.Blocking:
		return Follow{}, Errorf(ErrUnprocessable, "you block %s; unblock them first", target.Username)
	}
	f := Follow{ID: id, FollowerID: follower, FollowingID: target.ID, State: FollowAccepted, CreatedAt: now, AcceptedAt: &now}
	if target.Locked {
		f.State, f.AcceptedAt = FollowPending, nil
	}
	return f, nil
}

// Like is UserID liking ThoughtID; at most one per pair. Liking your own
// thought is allowed.
type Like struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	ThoughtID uuid.UUID
	CreatedAt time.Time
}

// NewLike builds userID's like of thoughtID. The rules that need the thought
// (the user may see it; it is not a tombstone, as Thought.CheckLive says) are
// checked by InteractionRepository.AddLikeIfVisible in the statement that
// stores the like: liking is the most frequent write, and one statement
// leaves no gap for a deletion to slip in. What is left here is that every ID
// is set: a zero ID is a caller's bug, not something to store.
func NewLike(id, userID, thoughtID uuid.UUID, now time.Time) (Like, error) {
	if err := requireIDs("like", id, userID, thoughtID); err != nil {
		return Like{}, err
	}
	return Like{ID: id, UserID: userID, ThoughtID: thoughtID, CreatedAt: now}, nil
}

// Boost is UserID sharing ThoughtID with their followers; at most one per pair.
type Boost struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	ThoughtID uuid.UUID
	CreatedAt time.Time
}

// NewBoost builds userID's boost of t, a thought the caller has checked the
// user may see (visibility is storage's rule). A tombstone is ErrGone; a
// followers-only thought cannot be boosted, even by its author
// (ErrUnprocessable): it would otherwise reach people its author did not
// choose. Boosting your own public or unlisted thought is allowed.
func NewBoost(id, userID uuid.UUID, t Thought, now time.Time) (Boost, error) {
	if err := requireIDs("boost", id, userID, t.ID); err != nil {
		return Boost{}, err
	}
	if err := t.CheckLive(); err != nil {
		return Boost{}, err
	}
	if t.Visibility == VisibilityFollowers {
		return Boost{}, Errorf(ErrUnprocessable, "followers-only thoughts cannot be boosted")
	}
	return Boost{ID: id, UserID: userID, ThoughtID: t.ID, CreatedAt: now}, nil
}

// Block is BlockerID blocking BlockedID.
type Block struct {
	ID        uuid.UUID
	BlockerID uuid.UUID
	BlockedID uuid.UUID
	CreatedAt time.Time
}

// NewBlock builds blocker's block of blocked. Blocking yourself is refused.
// (Its consequences, follows removed both ways, are the command's: they are
// changes to other rows.)
func NewBlock(id, blocker, blocked uuid.UUID, now time.Time) (Block, error) {
	if err := requireIDs("block", id, blocker, blocked); err != nil {
		return Block{}, err
	}
	if blocker == blocked {
		return Block{}, Errorf(ErrUnprocessable, "you cannot block yourself")
	}
	return Block{ID: id, BlockerID: blocker, BlockedID: blocked, CreatedAt: now}, nil
}

// requireIDs refuses to build an entity with a zero ID. It is a plain error,
// not a sentinel: no client input can cause it (ports refuse the nil UUID as
// naming nothing), so it is a bug and reported as one.
func requireIDs(entity string, ids ...uuid.UUID) error {
	if slices.Contains(ids, uuid.Nil) {
		return fmt.Errorf("new %s: every ID must be set, got %v", entity, ids)
	}
	return nil
}

// Relationship is how one user (the viewer) stands with another (UserID).
type Relationship struct {
	UserID      uuid.UUID
	Following   bool // the viewer follows them
	Requested   bool // the viewer asked to follow them; they have not answered
	FollowedBy  bool // they follow the viewer
	RequestedBy bool // they asked to follow the viewer
	Blocking    bool // the viewer blocks them
	BlockedBy   bool // they block the viewer
}

// MaxTopFriends bounds the top friends list.
const MaxTopFriends = 8

// NormalizeTopFriends validates the shape of a top friends list: at most
// MaxTopFriends usernames, each valid, none twice (case-insensitively). It
// returns them lowercased, in order. Whether they exist, are the owner or are
// blocked is for the caller to check against storage.
func NormalizeTopFriends(usernames []string) ([]string, error) {
	if len(usernames) > MaxTopFriends {
		return nil, Invalid("usernames", "at most %d top friends are allowed (got %d)", MaxTopFriends, len(usernames))
	}
	out := make([]string, 0, len(usernames))
	seen := map[string]bool{}
	for _, name := range usernames {
		name = strings.ToLower(strings.TrimSpace(name))
		if ValidateUsername(name) != nil {
			return nil, Invalid("usernames", "%q is not a username", name)
		}
		if seen[name] {
			return nil, Invalid("usernames", "%q is listed twice", name)
		}
		seen[name] = true
		out = append(out, name)
	}
	return out, nil
}

// NormalizeTag turns user input ("#Go", "go") into the stored form of a tag
// ("go"); ok is false if it is not a tag ParseTags would find.
func NormalizeTag(s string) (string, bool) {
	s = strings.TrimPrefix(s, "#")
	tags := ParseTags("#" + s)
	if len(tags) != 1 || tags[0] != strings.ToLower(s) {
		return "", false
	}
	return tags[0], true
}

// InteractionRepository stores likes and boosts. Adding what exists and
// removing what does not are no-ops reported as false, so commands emit an
// event only for a real change.
type InteractionRepository interface {
	// AddLikeIfVisible stores l if its user may see its thought (the
	// visibility rule of the thoughts) and the thought is not a tombstone
	// (Thought.CheckLive), checked in the statement that inserts: a thought
	// the user may not see is ErrNotFound, a tombstone ErrGone. If the user
	// already likes the thought it stores nothing (added false).
	// remoteThought reports that the thought came from another server (its
	// LikeAdded goes to federation, not to notifications).
	AddLikeIfVisible(ctx context.Context, l Like) (added, remoteThought bool, err error)
	RemoveLike(ctx context.Context, userID, thoughtID uuid.UUID) (removed bool, err error)
	AddBoost(ctx context.Context, b Boost) (added bool, err error)
	RemoveBoost(ctx context.Context, userID, thoughtID uuid.UUID) (removed bool, err error)
}

// GraphRepository stores follows, blocks and top friends.
type GraphRepository interface {
	// LockPair serialises changes to the relationship of a and b (either
	// direction) until the transaction ends, so a follow and a block racing
	// each other cannot leave a follow behind a block.
	LockPair(ctx context.Context, a, b uuid.UUID) error
	// Relationship reports how viewer stands with other.
	Relationship(ctx context.Context, viewer, other uuid.UUID) (Relationship, error)
	// AddFollow stores f unless a follow from f.FollowerID to f.FollowingID
	// exists (pending or accepted); added reports which.
	AddFollow(ctx context.Context, f Follow) (added bool, err error)
	// FollowOf loads the follow from follower to following, or ErrNotFound.
	FollowOf(ctx context.Context, follower, following uuid.UUID) (Follow, error)
	// AcceptFollow turns a pending follow into an accepted one; accepted
	// reports whether a pending follow was there to accept.
	AcceptFollow(ctx context.Context, follower, following uuid.UUID, at time.Time) (accepted bool, err error)
	// RemoveFollow deletes the follow from follower to following in either
	// state and returns it; removed is false if there was none.
	RemoveFollow(ctx context.Context, follower, following uuid.UUID) (f Follow, removed bool, err error)
	AddBlock(ctx context.Context, b Block) (added bool, err error)
	RemoveBlock(ctx context.Context, blocker, blocked uuid.UUID) (removed bool, err error)
	// ReplaceTopFriends sets userID's top friends, in order.
	ReplaceTopFriends(ctx context.Context, userID uuid.UUID, friends []uuid.UUID) error
	// RemoveTopFriend takes friendID off userID's top friends, if there.
	RemoveTopFriend(ctx context.Context, userID, friendID uuid.UUID) error
}

// EntityRepository stores what is parsed out of a thought's content: its
// hashtags and the local users it mentions.
type EntityRepository interface {
	// ReplaceTags sets the thought's tags (already lowercase).
	ReplaceTags(ctx context.Context, thoughtID uuid.UUID, tags []string, now time.Time) error
	// ReplaceMentions sets the users the thought mentions; usernames that
	// match no local account are ignored.
	ReplaceMentions(ctx context.Context, thoughtID uuid.UUID, usernames []string) error
}
