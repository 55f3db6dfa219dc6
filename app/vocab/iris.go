package vocab

import (
	"net/url"

	"github.com/google/uuid"
)

// IRIs names Thoughts' local objects under the public base URL. The shapes
// are fixed once published: remote servers store them.
//
//	actor       BASE/users/NAME            (and #main-key, /inbox, /outbox, /followers, /following)
//	note        BASE/users/NAME/thoughts/ID
//	its Create  BASE/users/NAME/thoughts/ID/activity
//	instance    BASE/actor                 (and #main-key)
//	shared inbox BASE/inbox
type IRIs struct {
	// Base is PUBLIC_URL without a trailing slash.
	Base string
}

// Actor is a local user's actor ID (also their profile URL).
func (i IRIs) Actor(username string) string { return i.Base + "/users/" + url.PathEscape(username) }

// Key is the ID of a local user's public key.
func (i IRIs) Key(username string) string { return i.Actor(username) + "#main-key" }

// Inbox is a local user's inbox.
func (i IRIs) Inbox(username string) string { return i.Actor(username) + "/inbox" }

// Outbox is a local user's outbox.
func (i IRIs) Outbox(username string) string { return i.Actor(username) + "/outbox" }

// Followers is a local user's followers collection.
func (i IRIs) Followers(username string) string { return i.Actor(username) + "/followers" }

// Following is a local user's following collection.
func (i IRIs) Following(username string) string { return i.Actor(username) + "/following" }

// SharedInbox receives activities for every local user.
func (i IRIs) SharedInbox() string { return i.Base + "/inbox" }

// Thought is a thought's Note ID (also its URL).
func (i IRIs) Thought(username string, id uuid.UUID) string {
	return i.Actor(username) + "/thoughts/" + id.String()
}

// ThoughtActivity is the ID of the Create activity of a thought.
func (i IRIs) ThoughtActivity(username string, id uuid.UUID) string {
	return i.Thought(username, id) + "/activity"
}

// Tag is a hashtag's page.
func (i IRIs) Tag(name string) string { return i.Base + "/tags/" + url.PathEscape(name) }

// InstanceActor is the instance actor's ID.
func (i IRIs) InstanceActor() string { return i.Base + "/actor" }

// InstanceKey is the ID of the instance actor's public key.
func (i IRIs) InstanceKey() string { return i.InstanceActor() + "#main-key" }

// Activity IDs Thoughts mints for what its users do. Each is derived from
// the row or the event behind it, so it is stable across redeliveries.
//
//	Follow          BASE/users/NAME/follows/FOLLOW_ID (follows.activity_iri)
//	Like            BASE/users/NAME/likes/LIKE_ID
//	Announce        BASE/users/NAME/boosts/BOOST_ID
//	Block           BASE/users/NAME/blocks/EVENT_ID
//	Accept, Reject, Undo
//	                BASE/users/NAME#accepts/EVENT_ID, #rejects/…, #undos/…
//	Update (Note)   BASE/users/NAME/thoughts/ID#updates/EVENT_ID
//	Delete (Note)   BASE/users/NAME/thoughts/ID#delete
//	Delete (Person) BASE/users/NAME#delete

// Follow is the ID of a local user's Follow of a remote account.
func (i IRIs) Follow(username string, followID uuid.UUID) string {
	return i.Actor(username) + "/follows/" + followID.String()
}

// Like is the ID of a local user's Like.
func (i IRIs) Like(username string, likeID uuid.UUID) string {
	return i.Actor(username) + "/likes/" + likeID.String()
}

// Boost is the ID of a local user's Announce.
func (i IRIs) Boost(username string, boostID uuid.UUID) string {
	return i.Actor(username) + "/boosts/" + boostID.String()
}

// Block is the ID of a local user's Block, made by the event eventID.
func (i IRIs) Block(username string, eventID uuid.UUID) string {
	return i.Actor(username) + "/blocks/" + eventID.String()
}

// ActorActivity is the ID of an activity of kind ("accepts", "rejects",
// "undos") a local user made by the event eventID.
func (i IRIs) ActorActivity(username, kind string, eventID uuid.UUID) string {
	return i.Actor(username) + "#" + kind + "/" + eventID.String()
}

// ThoughtUpdate is the ID of the Update of a thought made by the event eventID.
func (i IRIs) ThoughtUpdate(username string, id, eventID uuid.UUID) string {
	return i.Thought(username, id) + "#updates/" + eventID.String()
}

// ThoughtDelete is the ID of the Delete of a thought.
func (i IRIs) ThoughtDelete(username string, id uuid.UUID) string {
	return i.Thought(username, id) + "#delete"
}

// ActorDelete is the ID of the Delete of a local actor.
func (i IRIs) ActorDelete(username string) string { return i.Actor(username) + "#delete" }
