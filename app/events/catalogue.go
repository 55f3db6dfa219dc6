package events

import "github.com/google/uuid"

// Topics, one per event type, except that likes of thoughts from other
// servers have a topic of their own (LikeAdded.Topic). Stream and table names
// are derived from them by the adapters.
const (
	TopicThoughtCreated = "thoughts.created"
	TopicThoughtUpdated = "thoughts.updated"
	TopicThoughtDeleted = "thoughts.deleted"
	TopicLikeAdded      = "likes.added"
	// TopicRemoteThoughtLiked carries the LikeAdded events of thoughts that
	// came from another server: federation sends those to the thought's
	// server, and nothing else has anything to do with them (the author is
	// not ours to notify). Likes of local thoughts, nearly every like a busy
	// instance sees, concern notifications only and never reach
	// federation's consumer.
	TopicRemoteThoughtLiked = "likes.added.remote"
	TopicLikeRemoved        = "likes.removed"
	TopicBoostAdded         = "boosts.added"
	TopicBoostRemoved       = "boosts.removed"
	TopicFollowRequested    = "follows.requested"
	TopicFollowAccepted     = "follows.accepted"
	TopicFollowRejected     = "follows.rejected"
	TopicUnfollowed         = "follows.removed"
	TopicUserBlocked        = "users.blocked"
	TopicUserUnblocked      = "users.unblocked"
	TopicUserDeleted        = "users.deleted"
)

// AllTopics lists every topic in the catalogue.
var AllTopics = []string{
	TopicThoughtCreated, TopicThoughtUpdated, TopicThoughtDeleted,
	TopicLikeAdded, TopicRemoteThoughtLiked, TopicLikeRemoved, TopicBoostAdded, TopicBoostRemoved,
	TopicFollowRequested, TopicFollowAccepted, TopicFollowRejected, TopicUnfollowed,
	TopicUserBlocked, TopicUserUnblocked, TopicUserDeleted,
	TopicActivityReceived, TopicParentWanted,
}

func init() {
	register[ThoughtCreated]()
	register[ThoughtUpdated]()
	register[ThoughtDeleted]()
	register[LikeAdded]()
	register[LikeRemoved]()
	register[BoostAdded]()
	register[BoostRemoved]()
	register[FollowRequested]()
	register[FollowAccepted]()
	register[FollowRejected]()
	register[Unfollowed]()
	register[UserBlocked]()
	register[UserUnblocked]()
	register[UserDeleted]()
	register[ActivityReceived]()
	register[ParentWanted]()
}

// ThoughtCreated: a user posted a thought (possibly a reply).
type ThoughtCreated struct {
	ThoughtID   uuid.UUID  `json:"thought_id"`
	UserID      uuid.UUID  `json:"user_id"`
	InReplyToID *uuid.UUID `json:"in_reply_to_id"`
}

// ThoughtUpdated: the author edited a thought.
type ThoughtUpdated struct {
	ThoughtID uuid.UUID `json:"thought_id"`
	UserID    uuid.UUID `json:"user_id"`
}

// ThoughtDeleted: the author deleted a thought; a tombstone remains.
type ThoughtDeleted struct {
	ThoughtID uuid.UUID `json:"thought_id"`
	UserID    uuid.UUID `json:"user_id"`
}

// LikeAdded: a user liked a thought.
type LikeAdded struct {
	LikeID    uuid.UUID `json:"like_id"`
	UserID    uuid.UUID `json:"user_id"`
	ThoughtID uuid.UUID `json:"thought_id"`
	// RemoteThought: the thought came from another server. It decides the
	// topic: TopicRemoteThoughtLiked if set, TopicLikeAdded if not.
	RemoteThought bool `json:"remote_thought,omitempty"`
}

// LikeRemoved: a user took back a like.
type LikeRemoved struct {
	UserID    uuid.UUID `json:"user_id"`
	ThoughtID uuid.UUID `json:"thought_id"`
}

// BoostAdded: a user boosted a thought.
type BoostAdded struct {
	BoostID   uuid.UUID `json:"boost_id"`
	UserID    uuid.UUID `json:"user_id"`
	ThoughtID uuid.UUID `json:"thought_id"`
}

// BoostRemoved: a user took back a boost.
type BoostRemoved struct {
	UserID    uuid.UUID `json:"user_id"`
	ThoughtID uuid.UUID `json:"thought_id"`
}

// FollowRequested: follower asked to follow a locked account.
type FollowRequested struct {
	FollowerID  uuid.UUID `json:"follower_id"`
	FollowingID uuid.UUID `json:"following_id"`
}

// FollowAccepted: follower now follows following (instantly, or by acceptance).
type FollowAccepted struct {
	FollowerID  uuid.UUID `json:"follower_id"`
	FollowingID uuid.UUID `json:"following_id"`
}

// FollowRejected: the followed account turned a request down.
type FollowRejected struct {
	FollowerID  uuid.UUID `json:"follower_id"`
	FollowingID uuid.UUID `json:"following_id"`
}

// Unfollowed: follower stopped following.
type Unfollowed struct {
	FollowerID  uuid.UUID `json:"follower_id"`
	FollowingID uuid.UUID `json:"following_id"`
}

// UserBlocked: blocker blocked blocked.
type UserBlocked struct {
	BlockerID uuid.UUID `json:"blocker_id"`
	BlockedID uuid.UUID `json:"blocked_id"`
}

// UserUnblocked: blocker lifted a block.
type UserUnblocked struct {
	BlockerID uuid.UUID `json:"blocker_id"`
	BlockedID uuid.UUID `json:"blocked_id"`
}

// UserDeleted: a user deleted their account. Their thoughts are tombstones,
// their follows, likes, boosts and blocks are gone, and the username stays
// reserved (federation sends Delete(Person) for it).
type UserDeleted struct {
	UserID   uuid.UUID `json:"user_id"`
	Username string    `json:"username"`
}

func (UserDeleted) EventType() string { return "UserDeleted" }
func (UserDeleted) Topic() string     { return TopicUserDeleted }

func (ThoughtCreated) EventType() string  { return "ThoughtCreated" }
func (ThoughtUpdated) EventType() string  { return "ThoughtUpdated" }
func (ThoughtDeleted) EventType() string  { return "ThoughtDeleted" }
func (LikeAdded) EventType() string       { return "LikeAdded" }
func (LikeRemoved) EventType() string     { return "LikeRemoved" }
func (BoostAdded) EventType() string      { return "BoostAdded" }
func (BoostRemoved) EventType() string    { return "BoostRemoved" }
func (FollowRequested) EventType() string { return "FollowRequested" }
func (FollowAccepted) EventType() string  { return "FollowAccepted" }
func (FollowRejected) EventType() string  { return "FollowRejected" }
func (Unfollowed) EventType() string      { return "Unfollowed" }
func (UserBlocked) EventType() string     { return "UserBlocked" }
func (UserUnblocked) EventType() string   { return "UserUnblocked" }

func (ThoughtCreated) Topic() string { return TopicThoughtCreated }
func (ThoughtUpdated) Topic() string { return TopicThoughtUpdated }
func (ThoughtDeleted) Topic() string { return TopicThoughtDeleted }
func (e LikeAdded) Topic() string {
	if e.RemoteThought {
		return TopicRemoteThoughtLiked
	}
	return TopicLikeAdded
}
func (LikeRemoved) Topic() string     { return TopicLikeRemoved }
func (BoostAdded) Topic() string      { return TopicBoostAdded }
func (BoostRemoved) Topic() string    { return TopicBoostRemoved }
func (FollowRequested) Topic() string { return TopicFollowRequested }
func (FollowAccepted) Topic() string  { return TopicFollowAccepted }
func (FollowRejected) Topic() string  { return TopicFollowRejected }
func (Unfollowed) Topic() string      { return TopicUnfollowed }
func (UserBlocked) Topic() string     { return TopicUserBlocked }
func (UserUnblocked) Topic() string   { return TopicUserUnblocked }
