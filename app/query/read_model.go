// Package query holds the read use cases. Visibility is enforced by the read
// model on every read: a thought the viewer may not see does not exist for them.
package query

import (
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// Viewer is who is reading: nil for an anonymous client.
type Viewer = *uuid.UUID

// UserSummary is how a user appears next to their content.
type UserSummary struct {
	ID          uuid.UUID
	Username    string
	DisplayName string
}

// ThoughtView is a thought as a viewer sees it.
type ThoughtView struct {
	domain.Thought
	Author       UserSummary
	RepliesCount int
	LikesCount   int
	BoostsCount  int
	// Liked and Boosted say whether the viewer liked / boosted it (false for
	// an anonymous viewer).
	Liked   bool
	Boosted bool
}

// Profile is a user's public profile.
type Profile struct {
	ID          uuid.UUID
	Username    string
	DisplayName string
	Bio         string
	Locked      bool
	CreatedAt   time.Time
	// Thoughts counts the live thoughts the viewer may see.
	Thoughts int
	// Followers and Following count accepted follows.
	Followers  int
	Following  int
	TopFriends []UserSummary
	// URL is a remote account's profile page ("" for a local one).
	URL string
}

// ReadModel is every read the query handlers make, for the adapter that
// serves them all and for the composition root, which hands it to each
// handler. A handler holds only the narrow interface declared next to it.
// Every thought-returning method applies the visibility rule for viewer.
type ReadModel interface {
	MeReads
	UserProfileReads
	ThoughtReads
	ThoughtContextReads
	UserThoughtsReads
	APIKeysReads
	SessionsReads
	NotificationsReads
	NotificationReads
	UnreadNotificationsCountReads
	RelationshipReads
	FollowersReads
	FollowingReads
	FollowRequestsReads
	BlocksReads
	LikedByReads
	BoostedByReads
	TopFriendsReads
	FeedReads
	TagThoughtsReads
	SearchReads
}
